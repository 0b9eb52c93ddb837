"""Which action fixes which cause, read from the next snapshot (training.uplift.surrogates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.uplift import UpliftConfig, UpliftModel
from training.uplift.model import LEARNED
from training.uplift.surrogates import Fix, find_fixes, fixes_worth, transitions

MONTHS = pd.date_range("2025-01-01", periods=6, freq="MS")


def key_user_history(n_accounts: int = 400, seed: int = 0):
    """Accounts with a key user gone; a replacement brings one back next month, a call does not.

    CSMs replace key users on the accounts that look worst (fewer key users left), so the
    churn after it would be confounded; what the next snapshot shows is not.
    """
    rng = np.random.default_rng(seed)
    rows, touches = [], []
    for a in range(n_accounts):
        key_users, lost = int(rng.integers(0, 3)), 1
        for m, month in enumerate(MONTHS):
            rows.append(
                {
                    "account_id": f"acc/{a:04d}",
                    "as_of": month,
                    "key_users": key_users,
                    "key_users_lost_unreplaced_90d": lost,
                    "modules_used_30d": 5.0,
                }
            )
            if m == len(MONTHS) - 1:
                break
            u = rng.random()
            day = month + pd.Timedelta(days=int(rng.integers(0, 28)))
            if lost and u < 0.25 + 0.1 * (key_users == 0):
                touches.append((f"acc/{a:04d}", day, "key_user_replacement"))
                if rng.random() < 0.8:
                    key_users, lost = key_users + 1, 0
            elif u < 0.5:
                touches.append((f"acc/{a:04d}", day, "exec_sponsor_call"))
            elif lost and rng.random() < 0.05:  # found one on their own
                key_users, lost = key_users + 1, 0
    return pd.DataFrame(rows), pd.DataFrame(touches, columns=["account_id", "ts", "type"])


def test_finds_the_action_that_brings_a_key_user_back_and_not_the_one_that_does_not():
    history, touches = key_user_history()
    fixes = find_fixes(history, touches, min_z=3.0)
    assert [(f.action, f.cause) for f in fixes] == [("key_user_replacement", "key_user_gone")]
    (fix,) = fixes
    # 80% brought back against 5% without any action: (0.80 - 0.05) / 0.95 of the cause
    assert fix.resolved_untreated == pytest.approx(0.05, abs=0.04)
    assert fix.rate == pytest.approx(0.75 / 0.95, abs=0.08)
    assert "a new key user came in within a month" in fix.words()  # monthly snapshots
    week = pd.Timedelta(weeks=1)
    start = pd.Timestamp("2025-01-06")  # the same history, snapshots a week apart
    weekly = history.assign(as_of=start + (history["as_of"].dt.month - 1) * week)
    weekly_touches = touches.assign(
        ts=start + (touches["ts"].dt.month - 1) * week + pd.Timedelta(days=1)
    )
    (seen,) = find_fixes(weekly, weekly_touches, min_z=3.0)
    assert seen.days == 7 and "a new key user came in within 7 days" in seen.words()


def test_a_cause_whose_columns_the_data_lacks_is_skipped():
    history, touches = key_user_history()
    assert find_fixes(history.drop(columns="key_users"), touches, 3.0) == ()
    no_milestones = history.assign(first_value_reached=np.nan)  # no milestones table
    assert [f.cause for f in find_fixes(no_milestones, touches, 3.0)] == ["key_user_gone"]


def test_transitions_pair_consecutive_snapshots_with_the_one_action_between():
    history = pd.DataFrame(
        {
            "account_id": ["a", "a", "a", "a", "b", "b"],
            "as_of": pd.to_datetime(
                ["2025-01-01", "2025-02-01", "2025-03-01", "2025-06-01", "2025-01-01", "2025-02-01"]
            ),
            "modules_used_30d": [2, 3, 3, 4, 1, 1],
        }
    )
    touches = pd.DataFrame(
        {
            "account_id": ["a", "b", "b", "a"],
            "ts": pd.to_datetime(["2025-01-10", "2025-01-05", "2025-01-20", "2025-02-01"]),
            "type": ["training", "training", "health_check", "QBR"],
        }
    )
    moves = transitions(history, touches)
    # a: Jan -> Feb after a training; Feb -> Mar with none (a QBR is no action code);
    # Mar -> Jun is no transition (three months apart); b: two actions, which did it unknown
    assert moves["account_id"].tolist() == ["a", "a"]
    assert moves["as_of"].dt.month.tolist() == [1, 2]
    assert moves["next_modules_used_30d"].tolist() == [3, 3]
    assert moves["action"].iloc[0] == "training" and pd.isna(moves["action"].iloc[1])


def test_what_comes_after_the_history_moves_nothing():
    history, touches = key_user_history()
    cut = MONTHS[3]
    before = find_fixes(history, touches, 3.0, until=cut)
    assert before  # the first four months already show it
    future_touches = touches.copy()
    future_touches.loc[future_touches["ts"] > cut, "type"] = "key_user_replacement"
    future = history.copy()
    later = future["as_of"] > cut
    future.loc[later, "key_users"] = 0  # nobody ever comes back after the cut
    assert find_fixes(future, future_touches, 3.0, until=cut) == before
    assert find_fixes(future, future_touches, 3.0) != before  # the future does move it


def test_fixes_worth_scales_with_the_cause_and_the_risk_above_the_usual():
    fix = Fix("training", "low_adoption", 0.5, 40, 0.6, 0.2, 5.0)
    causes = np.array([[0.9, 0.1], [0.2, 0.8], [0.9, 0.1]])
    worth = fixes_worth([fix], "training", causes, ["low_adoption", "kpi_shortfall"],
                        np.array([0.3, 0.3, 0.0]))  # fmt: skip
    np.testing.assert_allclose(worth, [0.5 * 0.9 * 0.3, 0.5 * 0.2 * 0.3, 0.0])
    assert not fixes_worth([fix], "health_check", causes, ["low_adoption"], np.ones(3)).any()


def test_a_seen_fix_is_taken_off_the_learned_effect_with_its_evidence_in_the_reason():
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["usage", "nps", "tickets"])
    called = (rng.random(n) < 0.3).astype(int)
    risk = 1 / (1 + np.exp(-(-1.0 - X["usage"])))
    churn = (rng.random(n) < risk).astype(float)
    config = UpliftConfig(min_propensity=0.01, symptoms=False, causes=True, bags=2)
    groups = np.repeat(np.arange(n // 3), 3).astype(str)
    model = UpliftModel(config, random_state=0)
    model.fit(X, pd.DataFrame({"exec_sponsor_call": called}), churn, groups)
    plain = model.effects(X)["exec_sponsor_call"]
    assert model.cause_reader_ is not None
    fix = Fix("exec_sponsor_call", "key_user_gone", 0.6, 30, 0.7, 0.25, 4.0)
    model.fixes_ = (fix, Fix("training", "low_adoption", 0.9, 30, 0.9, 0.1, 9.0))
    fixed = model.effects(X)["exec_sponsor_call"]
    learned = plain.basis == LEARNED
    causes = model._causes(X)
    assert causes is not None
    column = model.cause_reader_.causes.index("key_user_gone")
    excess = np.clip(model.baseline_risk(X) - model.reference_risk_, 0.0, None)
    expected = plain.effect - 0.6 * causes[:, column] * excess
    np.testing.assert_allclose(fixed.effect[learned], expected[learned])
    moved = learned & (excess > 0)
    assert moved.any() and (fixed.effect[moved] < plain.effect[moved]).all()
    assert all(fix.words() in r for r in fixed.reason[moved])
    assert not any(fix.words() in r for r in fixed.reason[~moved])
    assert fixed.pessimistic is not None and plain.pessimistic is not None
    np.testing.assert_allclose(
        fixed.pessimistic - fixed.effect, plain.pessimistic - plain.effect, equal_nan=True
    )
    # a fix is history's evidence too: the effect stated to the CSM takes it as well, also
    # when the ranking's effect has the hidden selection taken out
    assert fixed.history is not None
    np.testing.assert_allclose(fixed.history, fixed.effect, equal_nan=True)
    model.config = config.model_copy(update={"selection_bias": 1.0})
    cleared = model.effects(X)["exec_sponsor_call"]
    assert cleared.history is not None
    np.testing.assert_allclose(cleared.history, fixed.effect, equal_nan=True)
    assert (cleared.effect[learned] < fixed.effect[learned]).all()


def test_retain_train_says_what_each_action_was_seen_to_fix():
    from training.uplift.learned import fixes_line

    model = UpliftModel(UpliftConfig(causes=True, surrogate_fixes=True))
    model.cause_reader_ = object()  # type: ignore[assignment]  # reads causes
    model.fixes_ = ()
    assert "nothing, at 3 standard errors" in str(fixes_line(model))
    model.fixes_ = (Fix("business_review", "low_adoption", 0.9, 174, 0.92, 0.12, 50.0),)
    assert fixes_line(model) == (
        "seen fixing a cause by the next snapshot (not confounded by whom CSMs chose; added to"
        " the learned effects): business_review: after it another module came into use within"
        " a month for 92% of 174 accounts using 3 modules or fewer, against 12% without any"
        " action"
    )
    model.config = UpliftConfig(causes=True)  # the setting off: no line
    assert fixes_line(model) is None


def test_times_of_other_resolutions_and_zones_join_and_no_touchpoints_finds_nothing():
    history, touches = key_user_history(n_accounts=200)
    expected = find_fixes(history, touches, 3.0)
    assert expected
    seconds = history.assign(as_of=history["as_of"].astype("datetime64[s]"))
    zoned = touches.assign(ts=touches["ts"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin"))
    assert find_fixes(seconds, zoned, 3.0) == expected
    assert find_fixes(seconds, zoned, 3.0, until=pd.Timestamp("2025-04-01", tz="UTC")) == (
        find_fixes(history, touches, 3.0, until=pd.Timestamp("2025-04-01"))
    )
    assert find_fixes(history, touches.iloc[:0], 3.0) == ()
    assert find_fixes(history.iloc[:0], touches, 3.0) == ()
