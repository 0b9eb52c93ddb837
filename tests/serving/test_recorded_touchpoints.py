"""A touchpoint recorded through the service counts in the scores and drivers that follow it.

The tiny world (horizon 2024-02-06 12:00) served with every account at high risk, so the
playbook's "no recent contact with a risky account" rule (more than 45 days) can fire:
account 1002 was last touched on 2023-12-10, 58.5 days before (read "58 days": whole days).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from serving.app import create_app
from serving.models import ModelStore
from serving.scoring import ScoringService
from serving.snapshots import FeatureStore
from store import Store, Touchpoint
from tests.support.serving import API_KEY, make_bundle, test_settings

AUTH = {"X-API-Key": API_KEY}
HORIZON = datetime(2024, 2, 6, 12)
NO_CONTACT = "not been in touch"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture
def served(tiny_parquet_dir: Path, store_url: str) -> Iterator[tuple[TestClient, ScoringService]]:
    bundle = make_bundle()
    bundle.churn.tier_thresholds = {"high": 0.0, "medium": 0.0}  # type: ignore[attr-defined]
    features = FeatureStore.from_source(str(tiny_parquet_dir))
    service = ScoringService(ModelStore(bundle), features, load_playbook(DEFAULT_PLAYBOOK))
    app = create_app(test_settings(store_url=store_url), service)
    with TestClient(app) as client:
        yield client, service


def days_since_touchpoint(service: ScoringService, account_id: str) -> float:
    latest = service.features.latest
    return float(latest.matrix[latest.row[account_id], latest.column["days_since_touchpoint"]])


def post(client: TestClient, touchpoint_id: str, account_id: str, ts: str) -> None:
    body = {"touchpoint_id": touchpoint_id, "account_id": account_id, "type": "health_check",
            "ts": ts, "owner": "dana"}  # fmt: skip
    response = client.post("/v1/touchpoints", json=body, headers=AUTH)
    assert response.status_code == 201, response.text


def test_a_posted_touchpoint_counts_in_the_score_and_its_reasons(served) -> None:
    client, service = served
    before = client.get("/v1/accounts/1002", headers=AUTH)
    assert before.status_code == 200
    assert f"{NO_CONTACT} for 58 days" in before.text  # whole days, never "58.5"
    assert days_since_touchpoint(service, "1002") == pytest.approx(58.5)

    post(client, "crm-1", "1002", "2024-02-06T09:00:00Z")
    after = client.get("/v1/accounts/1002", headers=AUTH)
    assert after.status_code == 200
    assert NO_CONTACT not in after.text
    assert days_since_touchpoint(service, "1002") == pytest.approx(3 / 24)
    assert after.json()["as_of"] == f"{HORIZON.isoformat()}Z"  # the source's horizon still
    batch = client.post("/v1/score", json={"account_ids": ["1002", "1001"]}, headers=AUTH)
    assert batch.status_code == 200
    scored = {s["account_id"]: s for s in batch.json()["scores"]}
    assert scored["1002"] == after.json()
    assert NO_CONTACT not in str(scored["1002"])


def test_a_touchpoint_posted_again_or_dated_after_the_data_changes_nothing(served) -> None:
    client, service = served
    before = client.get("/v1/accounts/1002", headers=AUTH).json()
    latest = service.features.latest
    post(client, "crm-late", "1002", "2024-02-07T09:00:00Z")  # after the horizon
    assert client.get("/v1/accounts/1002", headers=AUTH).json() == before
    # it cannot count, so nothing was computed again (a review found every such post
    # recomputed the whole snapshot and made the next request wait for it)
    assert service.features.latest is latest
    assert days_since_touchpoint(service, "1002") == pytest.approx(58.5)
    # the source's p1 (1002, 2023-12-10) recorded through the service too: counted once
    post(client, "p1", "1002", "2023-12-10T00:00:00Z")
    assert client.get("/v1/accounts/1002", headers=AUTH).json() == before
    latest_now = service.features.latest
    column = latest.column["touchpoints_90d"]
    assert latest_now.matrix[latest_now.row["1002"], column] == 1


def test_a_touchpoint_another_process_recorded_counts_once_the_store_is_polled(
    served, store_url: str
) -> None:
    client, service = served
    assert NO_CONTACT in client.get("/v1/accounts/1002", headers=AUTH).text
    with Store(store_url) as elsewhere:  # another replica, or a CRM job
        elsewhere.add_touchpoint(Touchpoint("crm-2", "1002", datetime(2024, 2, 5), "training"))
    assert client.app.state.touchpoint_follower.poll(service)  # what `watch` does every interval
    assert NO_CONTACT not in client.get("/v1/accounts/1002", headers=AUTH).text
    assert days_since_touchpoint(service, "1002") == pytest.approx(1.5)
