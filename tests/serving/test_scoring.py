"""The scoring service runs the churn model once per request, not twice."""

from __future__ import annotations

import numpy as np

from tests.support.serving import make_bundle, make_service


class CountingBooster:
    """Wraps a LightGBM booster and counts its predict calls."""

    def __init__(self, booster: object) -> None:
        self.booster = booster
        self.calls: list[dict[str, object]] = []

    def predict(self, X: np.ndarray, **kw: object) -> np.ndarray:
        self.calls.append(kw)
        return self.booster.predict(X, **kw)  # type: ignore[attr-defined]


def test_one_churn_model_evaluation_per_request_and_the_same_probability():
    bundle = make_bundle()
    service = make_service(n=30, bundle=bundle)
    ids = [f"acct-{i:04d}" for i in range(30)]
    counting = CountingBooster(bundle.churn.booster)  # type: ignore[attr-defined]
    bundle.churn.booster = counting  # type: ignore[attr-defined]
    snapshot, _, scores, _ = service.score(ids)
    assert len(counting.calls) == 1 and counting.calls[0].get("pred_contrib") is True
    counting.calls.clear()
    rows = [snapshot.row[i] for i in ids]
    X = snapshot.matrix[rows]
    expected = bundle.churn.predict_proba(X)
    got = np.array([s.churn_probability for s in scores])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
