"""Off-policy evaluation from history: doubly robust values, intervals, thin spots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.uplift.offpolicy import cs_team_actions, evaluate_offpolicy, segment_of

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


def test_what_the_team_did_is_valued_on_the_outcomes_seen():
    X, taken, churn, arr, groups, risk = _history()
    called = np.array(taken) != "none"
    true_value = float(np.sum(np.minimum(risk, -TRUE_EFFECT) * arr * called) - 500.0 * called.sum())
    costs = {"exec_sponsor_call": 500.0}
    as_a_rule = list(taken)  # the same choices but one, so weighted as a rule of the features
    as_a_rule[0] = "none" if taken[0] != "none" else "exec_sponsor_call"
    team, rule = evaluate_offpolicy(
        X, taken, churn, arr, groups, {"team": taken, "rule": as_a_rule}, costs
    )
    assert team.low <= true_value <= team.high
    assert team.high - team.low < 0.5 * (rule.high - rule.low)


def test_the_team_s_action_counts_only_before_the_renewal():
    snapshots = pd.DataFrame(
        {
            "account_id": ["a", "b"],
            "as_of": pd.to_datetime(["2025-01-01", "2025-01-01"]),
            "renewal_date": pd.to_datetime(["2025-06-01", "2025-01-20"]),
        }
    )
    touchpoints = pd.DataFrame(
        {
            "account_id": ["a", "b", "b"],
            "ts": pd.to_datetime(["2025-02-01", "2025-02-01", "2025-01-25"]),
            "type": ["training", "training", "health_check"],
        }
    )
    # b renewed (or churned) on 20 January: nothing done after it can change that renewal
    assert cs_team_actions(snapshots, touchpoints, days=60) == ["training", "none"]
    unbounded = snapshots.drop(columns="renewal_date")
    assert cs_team_actions(unbounded, touchpoints, days=60) == ["training", "health_check"]


def test_actions_history_never_shows_are_reported_as_too_thin():
    X, taken, churn, arr, groups, _ = _history(n=800)
    found = evaluate_offpolicy(
        X, taken, churn, arr, groups, {"train_all": ["training"] * len(churn)}, {}
    )
    assert any("training" in spot for spot in found[0].thin)


def test_what_the_team_did_is_never_too_thin_to_judge():
    X, taken, churn, arr, groups, _ = _history(n=800)
    done = ["training"] * 20 + list(taken[20:])  # a rare action: done 20 times in the segment
    team, rule = evaluate_offpolicy(
        X, done, churn, arr, groups, {"team": done, "rule": ["training"] * len(done)}, {}
    )
    assert any("training" in spot for spot in rule.thin)
    assert team.thin == []  # its outcomes were seen, whatever the chance of its choices


def test_segments_are_the_books_own_arr_terciles():
    small = segment_of(np.array([500.0, 2_000.0, 4_000.0, 9_000.0, 20_000.0, 30_000.0, np.nan]))
    assert list(small) == [
        "ARR under 3.3k",
        "ARR under 3.3k",
        "ARR 3.3k-13k",
        "ARR 3.3k-13k",
        "ARR 13k and more",
        "ARR 13k and more",
        "ARR under 3.3k",
    ]
    # an enterprise book is split too, where fixed bands put every account in "50k and more"
    large = segment_of(np.array([80_000.0, 150_000.0, 400_000.0, 1_200_000.0, 2_000_000.0]))
    assert len(set(large)) == 3
    assert large[0] == "ARR under 230k" and large[-1] == "ARR 930k and more"


def test_one_arr_for_every_account_is_one_segment():
    assert set(segment_of(np.array([12_000.0] * 5))) == {"ARR 12k and more"}
    assert set(segment_of(np.array([np.nan, 0.0]))) == {"every ARR"}


def test_a_history_without_any_action_is_valued_not_a_crash():
    """Touchpoints whose types are no action code leave every snapshot at `none`."""
    X, _, churn, arr, groups, _ = _history(n=400)
    n = len(churn)
    never, always = evaluate_offpolicy(
        X, ["none"] * n, churn, arr, groups,
        {"never": ["none"] * n, "always_call": ["exec_sponsor_call"] * n},
        {"exec_sponsor_call": 500.0},
    )  # fmt: skip
    assert never.value == 0.0
    assert np.isfinite(always.value) and always.low <= always.value <= always.high
    assert any("exec_sponsor_call" in spot for spot in always.thin)  # never done: too thin


def test_the_interval_allows_for_csms_choosing_on_risk_the_data_does_not_show():
    """CSMs call the accounts whose hidden risk they sense (u, never in the features): the
    bootstrap interval alone misses the true value, the one allowing for it holds it."""
    rng = np.random.default_rng(0)
    n = 3000
    X, hidden = rng.normal(size=(n, 3)), rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(-0.5 - 1.5 * X[:, 0] + 0.35 * hidden)))
    called = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 2.0 * hidden)))
    churn = (rng.random(n) < np.clip(risk + TRUE_EFFECT * called, 0, 1)).astype(float)
    arr, groups = np.full(n, 10_000.0), np.arange(n).astype(str)
    taken = list(np.where(called, "exec_sponsor_call", "none"))
    true_value = float(np.sum(np.minimum(risk, -TRUE_EFFECT) * arr) - 500.0 * n)
    always = ["exec_sponsor_call"] * n
    costs = {"exec_sponsor_call": 500.0}
    (found,) = evaluate_offpolicy(X, taken, churn, arr, groups, {"always": always}, costs)
    assert found.sampling is not None
    assert not found.sampling[0] <= true_value <= found.sampling[1]
    assert found.low <= true_value <= found.high
    assert found.low <= found.sampling[0] <= found.value <= found.sampling[1] <= found.high
    (bare,) = evaluate_offpolicy(X, taken, churn, arr, groups, {"always": always}, costs, hidden=0)
    assert (bare.low, bare.high) == found.sampling and bare.value == found.value
    assert bare.sampling is None and "sampling alone" not in bare.line(0.9)
    assert "sampling alone" in found.line(0.9)


def test_an_estimate_above_what_would_churn_anyway_is_flagged_not_proven():
    """A rare action done on a few large accounts that renewed: the weights make it save far
    more than all the ARR that would churn with no action at all, which no policy can."""
    rng = np.random.default_rng(3)
    n = 2000
    X = rng.normal(size=(n, 3))
    churn = (rng.random(n) < 0.1).astype(float)
    rare = rng.choice(np.flatnonzero(churn == 0), 20, replace=False)
    taken = np.full(n, "none", dtype=object)
    taken[rare] = "training"
    arr = np.full(n, 10_000.0)
    arr[rare] = 1_000_000.0  # the weights multiply the largest accounts' renewals
    groups = np.arange(n).astype(str)
    policies = {"train_all": ["training"] * n, "team": list(taken), "never": ["none"] * n}
    train_all, team, never = evaluate_offpolicy(X, list(taken), churn, arr, groups, policies, {})
    assert train_all.ceiling is not None and train_all.value > train_all.ceiling
    assert train_all.beyond and "no policy can save more" in train_all.line(0.9)
    for judged in (team, never):  # within reach: its interval ends at the ceiling's
        assert not judged.beyond and "no policy" not in judged.line(0.9)
        assert judged.ceiling is not None and judged.high <= judged.ceiling * 1.5
        # the bootstrap interval alone is capped at the same upper end (the seventh audit)
        assert judged.ceiling_high is not None and judged.sampling is not None
        assert judged.high <= judged.ceiling_high and judged.sampling[1] <= judged.ceiling_high
