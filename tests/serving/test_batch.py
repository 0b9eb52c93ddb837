"""`retain score`: the same content as the API, for every active account, Parquet or CSV."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.batch import COLUMNS, score_frame, write_scores
from tests.support.serving import API_KEY, make_service, test_settings


@pytest.fixture(scope="module")
def service():
    return make_service(n=40)


def test_batch_scores_every_active_account_like_the_api(service):
    frame = score_frame(service, progress=False)
    snapshot = service.features.latest
    assert list(frame["account_id"]) == list(snapshot.account_ids)
    assert tuple(frame.columns) == COLUMNS
    with TestClient(create_app(test_settings(), service)) as client:
        body = client.post(
            "/v1/score", json={"account_ids": list(frame["account_id"])},
            headers={"X-API-Key": API_KEY},
        ).json()  # fmt: skip
    api = pd.DataFrame(body["scores"])
    pd.testing.assert_series_equal(frame["churn_probability"], api["churn_probability"])
    assert list(frame["next_best_action"]) == list(api["next_best_action"])
    assert [json.loads(json.dumps(d)) for d in frame["drivers"]] == list(api["drivers"])


def test_parquet_and_csv_outputs(service, tmp_path):
    frame = score_frame(service, progress=False)
    write_scores(frame, tmp_path / "scores.parquet")
    parquet = pd.read_parquet(tmp_path / "scores.parquet")
    assert len(parquet) == len(frame)
    assert parquet["drivers"].iloc[0][0]["sentence"] == frame["drivers"].iloc[0][0]["sentence"]

    write_scores(frame, tmp_path / "out" / "scores.csv")
    csv = pd.read_csv(tmp_path / "out" / "scores.csv")
    assert len(csv) == len(frame)
    actions = json.loads(csv["actions"].iloc[0])
    assert [a["action"] for a in actions] == [a["action"] for a in frame["actions"].iloc[0]]
    for written, scored in zip(csv["upsell_drivers"], frame["upsell_drivers"], strict=True):
        assert json.loads(written) == scored  # JSON, as the other nested fields
    assert frame["upsell_drivers"].map(len).sum() > 0
    assert csv["churn_probability"].between(0, 1).all()


def test_files_write_times_and_dates_as_the_api_sends_them(service, tmp_path):
    # Sixth audit: the CSV wrote `2027-05-12` where the API sent `2027-05-12T00:00:00`.
    frame = score_frame(service, progress=False)
    write_scores(frame, tmp_path / "scores.csv")
    write_scores(frame, tmp_path / "scores.parquet")
    csv = pd.read_csv(tmp_path / "scores.csv", dtype=str, keep_default_na=False)
    with TestClient(create_app(test_settings(), service)) as client:
        body = client.post(
            "/v1/score", json={"account_ids": list(frame["account_id"])},
            headers={"X-API-Key": API_KEY},
        ).json()  # fmt: skip
    api = pd.DataFrame(body["scores"]).fillna("")
    assert list(csv["as_of"]) == list(api["as_of"]) == ["2026-06-01T00:00:00Z"] * len(frame)
    assert list(csv["renewal_date"]) == list(api["renewal_date"])
    assert any(csv["renewal_date"]) and all(len(d) in (0, 10) for d in csv["renewal_date"])
    columns = pq.read_schema(tmp_path / "scores.parquet")
    assert columns.field("as_of").type == pa.timestamp("us", tz="UTC")
    assert columns.field("renewal_date").type == pa.date32()


def test_unknown_suffix_is_refused(service, tmp_path):
    with pytest.raises(ValueError, match=r"\.parquet or \.csv"):
        write_scores(score_frame(service, progress=False), tmp_path / "scores.xlsx")


def test_batch_at_the_latest_date_reuses_the_scores_made_at_warm_up(monkeypatch):
    service = make_service(n=10)
    monkeypatch.setattr(service, "_score_rows", lambda *args: pytest.fail("scored twice"))
    frame = score_frame(service, progress=False)
    assert list(frame["account_id"]) == list(service.features.latest.account_ids)
