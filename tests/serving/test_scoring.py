"""The scoring service runs the churn model once per request, and not at all for the latest
scores: those are computed once per champion bundle and looked up."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np

from tests.support.serving import API_KEY, AS_OF, make_bundle, make_service, test_settings


class CountingBooster:
    """Wraps a LightGBM booster and counts its predict calls."""

    def __init__(self, booster: object) -> None:
        self.booster = booster
        self.calls: list[dict[str, object]] = []

    def predict(self, X: np.ndarray, **kw: object) -> np.ndarray:
        self.calls.append(kw)
        return self.booster.predict(X, **kw)  # type: ignore[attr-defined]


def test_the_churn_model_runs_once_per_request_and_never_for_the_latest_scores():
    bundle = make_bundle()
    counting = CountingBooster(bundle.churn.booster)  # type: ignore[attr-defined]
    bundle.churn.booster = counting  # type: ignore[attr-defined]
    service = make_service(n=30, bundle=bundle)  # warm-up scores every latest account ...
    assert len(counting.calls) == 1 and counting.calls[0].get("pred_contrib") is True
    counting.calls.clear()
    ids = [f"acct-{i:04d}" for i in range(30)]
    snapshot, _, scores, _ = service.score(ids)
    assert counting.calls == []  # ... so a request at the latest date only looks them up
    _, _, earlier, _ = service.score(ids[:5], AS_OF - timedelta(days=30))
    assert len(counting.calls) == 1 and counting.calls[0].get("pred_contrib") is True
    counting.calls.clear()
    rows = [snapshot.row[i] for i in ids]
    expected = bundle.churn.predict_proba(snapshot.matrix[rows])
    got = np.array([s.churn_probability for s in scores])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert len(earlier) == 5


def test_latest_scores_from_memory_equal_freshly_computed_ones_through_the_api():
    from fastapi.testclient import TestClient

    from serving.app import create_app

    service = make_service(n=12)
    ids = [f"acct-{i:04d}" for i in range(12)]
    latest = service.features.latest
    fresh = service._score_rows(service.models.bundle, latest, np.arange(12, dtype=np.intp))
    with TestClient(create_app(test_settings(), service)) as client:
        body = client.post(
            "/v1/score", json={"account_ids": [*ids, "nobody"]}, headers={"X-API-Key": API_KEY}
        ).json()
        one = client.get("/v1/accounts/acct-0003", headers={"X-API-Key": API_KEY}).json()
    assert body["scores"] == [json.loads(score.model_dump_json()) for score in fresh]
    assert [u["account_id"] for u in body["unknown"]] == ["nobody"]
    assert one == body["scores"][3]
