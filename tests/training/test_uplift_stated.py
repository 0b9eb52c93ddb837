"""What the CSM is told an action does: history's effect pooled over accounts of its cause."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from training.uplift import UpliftConfig, fit_uplift, load_uplift_config
from training.uplift.model import LEARNED
from training.uplift.stated import MIN_GROUP, StatedMean, pooled_statement, stated_mean


def test_a_group_too_small_for_its_own_mean_takes_the_action_mean() -> None:
    groups = np.array([0] * MIN_GROUP + [1] * (MIN_GROUP - 1))
    shift = np.where(groups == 0, -1.0, 1.0)
    found = stated_mean(shift, groups)
    assert found.per_cause == {0: -1.0}
    assert found.overall == shift.mean()


def test_the_statement_moves_each_shift_toward_its_cause_mean() -> None:
    baseline = np.array([0.1, 0.4, 0.4, 0.7])
    history = np.array([-0.05, -0.2, 0.05, -0.3])
    groups = np.array([0, 0, 1, 2])  # cause 2 has no mean of its own: the action's
    mean = StatedMean(overall=-0.2, per_cause={0: -0.5, 1: 0.1})
    own = pooled_statement(history, baseline, groups, mean, shrink=1.0)
    np.testing.assert_allclose(own, history, atol=1e-12)
    pooled = pooled_statement(history, baseline, groups, mean, shrink=0.0)
    target = np.array([-0.5, -0.5, 0.1, -0.2])
    np.testing.assert_allclose(pooled, expit(logit(baseline) + target) - baseline)
    half = pooled_statement(history, baseline, groups, mean, shrink=0.5)
    own_shift = logit(baseline + history) - logit(baseline)
    expected = expit(logit(baseline) + (target + own_shift) / 2) - baseline
    np.testing.assert_allclose(half, expected)
    assert np.all(baseline + pooled > 0) and np.all(baseline + pooled < 1)  # log-odds


def _history(n_accounts: int = 400, months: int = 3, seed: int = 5):
    """A snapshot table and touchpoints: CSMs call the riskier accounts; the call helps."""
    rng = np.random.default_rng(seed)
    n = n_accounts * months
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["usage", "nps", "tickets"])
    risk = expit(-0.8 - 1.4 * X["usage"] + 0.8 * X["tickets"])
    called = rng.random(n) < np.clip(0.05 + 0.6 * risk, 0, 0.9)
    churn = (rng.random(n) < np.clip(risk - 0.12 * called, 0, 1)).astype(float)
    ids = np.repeat([f"acc-{i}" for i in range(n_accounts)], months)
    as_of = np.tile(pd.date_range("2025-01-01", periods=months, freq="MS"), n_accounts)
    dataset = X.assign(account_id=ids, as_of=as_of, churn=churn)
    touchpoints = pd.DataFrame(
        {
            "account_id": ids[called],
            "ts": pd.to_datetime(as_of[called]) + pd.Timedelta(days=10),
            "type": "exec_sponsor_call",
        }
    )
    return dataset, touchpoints


def test_only_what_is_stated_is_pooled_the_ranking_keeps_each_accounts_effect() -> None:
    dataset, touchpoints = _history()
    names = ["usage", "nps", "tickets"]
    config = UpliftConfig(min_propensity=0.01, bags=2, selection_bias=1.0)
    own = fit_uplift(dataset, touchpoints, None, config, feature_names=names)
    assert own.stated_means_ == {}  # stated_shrink 1 (the default): each account's own
    pooled_config = config.model_copy(update={"stated_shrink": 0.0})
    pooled = fit_uplift(dataset, touchpoints, None, pooled_config, feature_names=names)
    assert set(pooled.stated_means_) == {"exec_sponsor_call"}
    before = own.effects(dataset)["exec_sponsor_call"]
    after = pooled.effects(dataset)["exec_sponsor_call"]
    learned = after.basis == LEARNED
    assert learned.mean() > 0.8
    # the ranking, its bounds and reasons are untouched
    np.testing.assert_array_equal(after.effect, before.effect)
    np.testing.assert_array_equal(after.pessimistic, before.pessimistic)
    np.testing.assert_array_equal(after.reason, before.reason)
    # what is stated: the mean log-odds shift over at-risk fitting rows, at each baseline
    assert before.history is not None and after.history is not None
    mean = pooled.stated_means_["exec_sponsor_call"].overall  # no cause reader: one group
    base = pooled.baseline_risk(dataset)[learned]
    np.testing.assert_allclose(after.history[learned], expit(logit(base) + mean) - base)
    assert not np.allclose(after.history[learned], before.history[learned])
    assert mean < 0  # history alone shows the call helping at-risk accounts
    # the mean is over the rows the model puts at medium or high risk, not the healthy ones
    risky = base >= pooled.risk_cuts_["medium"]
    shift = logit(base + before.history[learned]) - logit(base)
    np.testing.assert_allclose(mean, shift[risky].mean(), rtol=1e-9)


def test_the_shipped_settings_state_the_pooled_effect() -> None:
    assert load_uplift_config().stated_shrink == 0.0
