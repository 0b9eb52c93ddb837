"""Off-policy evaluation from history: doubly robust values, intervals, thin spots."""

from __future__ import annotations

import numpy as np

from training.uplift.offpolicy import evaluate_offpolicy, segment_of

TRUE_EFFECT = -0.15


def _history(n: int = 3000, seed: int = 0):
    """CSMs call risky accounts far more often; a call truly cuts churn by 15 points."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    risk = 1 / (1 + np.exp(-(-0.5 - 1.5 * X[:, 0])))
    called = rng.random(n) < np.clip(0.05 + 0.7 * risk**2, 0, 0.9)
    churn = (rng.random(n) < np.clip(risk + TRUE_EFFECT * called, 0, 1)).astype(float)
    taken = np.where(called, "exec_sponsor_call", "none")
    arr = np.full(n, 10_000.0)
    return X, list(taken), churn, arr, np.arange(n).astype(str), risk


def test_doubly_robust_value_recovers_the_true_value_of_always_calling():
    X, taken, churn, arr, groups, risk = _history()
    n = len(churn)
    true_value = float(np.sum(np.minimum(risk, -TRUE_EFFECT) * arr) - 500.0 * n)
    naive = (
        float(np.mean(churn[np.array(taken) == "none"]) - np.mean(churn[np.array(taken) != "none"]))
        * arr.sum()
        - 500.0 * n
    )
    found = evaluate_offpolicy(
        X,
        taken,
        churn,
        arr,
        groups,
        {"always_call": ["exec_sponsor_call"] * n, "never": ["none"] * n},
        {"exec_sponsor_call": 500.0},
    )
    always, never = found
    assert always.low <= true_value <= always.high
    assert not (always.low <= naive <= always.high)  # the naive comparison is confounded
    assert never.value == 0.0 and never.low == 0.0 == never.high
    assert always.low < always.value < always.high


def test_actions_history_never_shows_are_reported_as_too_thin():
    X, taken, churn, arr, groups, _ = _history(n=800)
    found = evaluate_offpolicy(
        X, taken, churn, arr, groups, {"train_all": ["training"] * len(churn)}, {}
    )
    assert any("training" in spot for spot in found[0].thin)


def test_segments_are_arr_bands():
    names = segment_of(np.array([500.0, 20_000.0, 80_000.0, np.nan]))
    assert list(names) == ["ARR under 10k", "ARR 10k-50k", "ARR 50k and more", "ARR under 10k"]
