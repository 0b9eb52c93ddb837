"""Uplift models: treatments from touchpoints, confounded histories, overlap, ranking."""

from __future__ import annotations

import pickle
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from training.uplift import UpliftConfig, UpliftModel, fit_uplift, load_uplift_config
from training.uplift.data import own_choice_share, treatment_matrix
from training.uplift.model import LEARNED, PLAYBOOK, ActionEffect
from training.uplift.pooled import PooledFit

TRUE_EFFECT = -0.15


def confounded_history(n_accounts: int = 1500, months: int = 4, seed: int = 0):
    """CSMs mostly call the riskiest accounts; the call truly cuts churn by 15 points."""
    rng = np.random.default_rng(seed)
    n = n_accounts * months
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["usage", "nps", "tickets", "seats"])
    risk = 1 / (1 + np.exp(-(-0.8 - 1.6 * X["usage"] + 0.8 * X["tickets"])))
    chance = np.clip(0.03 + 0.8 * risk**2, 0, 0.9)
    called = (rng.random(n) < chance).astype(int)
    churn = (rng.random(n) < np.clip(risk + TRUE_EFFECT * called, 0, 1)).astype(float)
    treatments = pd.DataFrame({"exec_sponsor_call": called})
    groups = np.repeat(np.arange(n_accounts), months).astype(str)
    return X, treatments, churn, groups, risk


@pytest.fixture(scope="module")
def confounded():
    X, treatments, churn, groups, risk = confounded_history()
    model = UpliftModel(UpliftConfig(min_propensity=0.01, learner="dr_lightgbm"), random_state=0)
    return model.fit(X, treatments, churn, groups), X, treatments, churn, risk


def test_pooled_learner_does_not_make_the_call_look_harmful():
    X, treatments, churn, groups, _ = confounded_history()
    model = UpliftModel(UpliftConfig(min_propensity=0.01), random_state=0)
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    found = model.fit(X, treatments, churn, groups, playbook).effects(X)["exec_sponsor_call"]
    learned = found.basis == LEARNED
    assert model.config.learner == "pooled_logit"
    assert learned.mean() > 0.8
    # Naively the call looks harmful (+5 points or more); the pooled learner must find it
    # helps. It shrinks the size (about -0.06 for a true -0.15): ranking, not accounting.
    assert np.nanmean(found.effect[learned]) < -0.04
    assert np.mean(found.effect[learned] < 0) > 0.9
    assert np.all(found.std[learned] > 0)


def test_naive_comparison_makes_the_call_look_harmful(confounded):
    _, _, treatments, churn, _ = confounded
    called = treatments["exec_sponsor_call"].to_numpy() == 1
    assert churn[called].mean() - churn[~called].mean() > 0.05


def assert_finds_the_call_helps_with_about_the_true_size(found: ActionEffect) -> None:
    learned = found.basis == LEARNED
    assert learned.mean() > 0.8
    average = np.nanmean(found.effect[learned])
    assert average < -0.07
    assert abs(average - TRUE_EFFECT) < 0.07
    assert np.all(found.std[learned] > 0)


def test_dr_learner_finds_the_call_helps_with_about_the_true_size(confounded):
    model, X, _, _, _ = confounded
    assert_finds_the_call_helps_with_about_the_true_size(model.effects(X)["exec_sponsor_call"])


def test_econml_forest_learner_finds_the_call_helps_and_gives_a_baseline_risk():
    X, treatments, churn, groups, risk = confounded_history()
    config = UpliftConfig(min_propensity=0.01, learner="econml_forest_dr", causes=False)
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    found = model.effects(X)["exec_sponsor_call"]
    assert_finds_the_call_helps_with_about_the_true_size(found)
    baseline = model.baseline_risk(X)  # risk tiers need it: the protocol judges every learner
    assert np.corrcoef(baseline, risk)[0, 1] > 0.5
    assert len(model.risk_cuts_) == 2
    again = pickle.loads(pickle.dumps(model)).effects(X.head(20))["exec_sponsor_call"]
    np.testing.assert_allclose(again.effect, found.effect[:20])


def test_model_pickles_and_predicts_the_same(confounded):
    model, X, _, _, _ = confounded
    again = pickle.loads(pickle.dumps(model))
    first, second = model.effects(X.head(50)), again.effects(X.head(50))
    np.testing.assert_allclose(
        first["exec_sponsor_call"].effect, second["exec_sponsor_call"].effect
    )


def test_pessimistic_effect_is_the_bound_at_the_configured_confidence(confounded):
    model, X, _, _, _ = confounded
    config = UpliftConfig(min_propensity=0.01, learner="dr_lightgbm", confidence=0.9)
    sure = UpliftModel(config, random_state=0)
    sure.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")})
    found = sure.effects(X.head(40))["exec_sponsor_call"]
    learned = found.basis == LEARNED
    assert learned.any()
    assert found.pessimistic is not None
    bound = found.effect[learned] + 1.2815516 * found.std[learned]
    np.testing.assert_allclose(found.pessimistic[learned], bound, rtol=1e-3)
    assert np.all(found.pessimistic[learned] > found.effect[learned])
    assert found.pessimistic_suggested is not None  # unset playbook_confidence: the same bound
    np.testing.assert_allclose(found.pessimistic_suggested[learned], found.pessimistic[learned])
    sure.config = config.model_copy(update={"playbook_confidence": 0.5})
    relaxed = sure.effects(X.head(40))["exec_sponsor_call"].pessimistic_suggested
    assert relaxed is not None
    np.testing.assert_allclose(relaxed[learned], found.effect[learned])


def test_accounts_outside_overlap_fall_back_to_the_playbook(confounded):
    model, X, _, _, _ = confounded
    # Very healthy accounts: CSMs (almost) never called them; with a strict overlap rule
    # the learner must not claim to know, and must say why.
    strict = UpliftModel(UpliftConfig(min_propensity=0.2), random_state=0)
    strict.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")})
    healthy = pd.DataFrame({"usage": [3.0], "nps": [0.0], "tickets": [-2.0], "seats": [0.0]})
    found = strict.effects(healthy)["exec_sponsor_call"]
    assert found.basis[0] == PLAYBOOK
    assert np.isnan(found.effect[0])
    assert "almost never" in found.reason[0]


def test_rarely_done_action_is_left_to_the_playbook():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(600, 2)), columns=["usage", "nps"])
    treatments = pd.DataFrame({"benchmark_program": np.r_[np.ones(5), np.zeros(595)].astype(int)})
    churn = (rng.random(600) < 0.2).astype(float)
    model = UpliftModel(UpliftConfig(min_treated=40), random_state=0).fit(X, treatments, churn)
    found = model.effects(X)["benchmark_program"]
    assert set(found.basis) == {PLAYBOOK}
    assert "5 times" in found.reason[0]


def test_treatment_window_follows_as_of_and_stops_at_renewal():
    snapshots = pd.DataFrame(
        {
            "account_id": ["a", "a", "b"],
            "as_of": [datetime(2025, 1, 1), datetime(2025, 2, 1), datetime(2025, 1, 1)],
            "renewal_date": [datetime(2025, 6, 1), datetime(2025, 6, 1), datetime(2025, 1, 10)],
        }
    )
    touchpoints = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "b"],
            "ts": [
                datetime(2025, 1, 1),  # at as_of: already known, not a later action
                datetime(2025, 1, 20),
                datetime(2025, 1, 5),
                datetime(2025, 1, 15),  # after b's renewal: cannot change it
            ],
            "type": ["training", "exec_sponsor_call", "health_check", "training"],
        }
    )
    treated = treatment_matrix(snapshots, touchpoints, window_days=30)
    assert treated.loc[0, "exec_sponsor_call"] == 1 and treated.loc[0, "training"] == 0
    assert treated.loc[1].sum() == 0
    assert treated.loc[2, "health_check"] == 1 and treated.loc[2, "training"] == 0


def test_fit_uplift_joins_touchpoints_to_labelled_snapshots():
    X, treatments, churn, groups, _ = confounded_history(n_accounts=300, months=2, seed=3)
    as_of = np.tile([datetime(2025, 1, 1), datetime(2025, 2, 1)], 300)
    dataset = X.assign(
        account_id=groups, as_of=as_of, churn=churn, renewal_date=datetime(2026, 1, 1)
    )
    dataset.loc[0, "churn"] = np.nan
    calls = dataset[treatments["exec_sponsor_call"].to_numpy() == 1]
    touchpoints = pd.DataFrame(
        {"account_id": calls["account_id"], "ts": calls["as_of"] + pd.Timedelta(days=3)}
    ).assign(type="exec_sponsor_call")
    config = UpliftConfig(window_days=30)  # one month: each call counts for its own snapshot
    model = fit_uplift(dataset, touchpoints, None, config, seed=0, feature_names=list(X.columns))
    expected = int(treatments["exec_sponsor_call"].iloc[1:].sum())
    assert model.n_treated_["exec_sponsor_call"] == expected
    assert model.n_treated_["training"] == 0


def test_config_rejects_typos_and_unknown_actions(tmp_path):
    with pytest.raises(ValidationError):
        UpliftConfig.model_validate({"window_dayz": 30})
    bad = tmp_path / "uplift.yaml"
    bad.write_text("costs:\n  coffee_with_ceo: 10\n")
    with pytest.raises(ValueError, match="coffee_with_ceo"):
        load_uplift_config(bad)
    assert load_uplift_config().cost("exec_sponsor_call") > load_uplift_config().cost(
        "health_check"
    )


def test_expansion_actions_are_valued_by_their_effect_on_the_upsell_label():
    rng = np.random.default_rng(3)
    n_accounts, months = 1200, 3
    n = n_accounts * months
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["usage", "nps", "seats"])
    offered = (rng.random(n) < 0.25).astype(int)
    grows = 1 / (1 + np.exp(-(-1.5 + 0.8 * X["usage"])))
    upsell = (rng.random(n) < np.clip(grows + 0.2 * offered, 0, 1)).astype(float)
    churn = (rng.random(n) < 0.15).astype(float)  # the pitch does not move churn here
    treatments = pd.DataFrame({"upsell_offer": offered, "health_check": 1 - offered})
    groups = np.repeat(np.arange(n_accounts), months).astype(str)
    config = UpliftConfig(min_propensity=0.01, expansion_value_share=0.2, bags=2)
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    model.fit_expansion(X, treatments, upsell, groups)
    found = model.effects(X.head(300))
    gain = found["upsell_offer"].expansion
    assert gain is not None
    # about +0.2 chance of expanding x 0.2 of ARR per expansion = +0.04 of ARR
    assert 0.015 < np.mean(gain) < 0.08
    assert found["health_check"].expansion is None  # not an expansion action
    # CSMs' hidden read of churn risk (`selection_bias`) is not taken out of the upsell label
    biased = UpliftModel(config.model_copy(update={"selection_bias": 0.5}), random_state=0)
    biased.fit(X, treatments, churn, groups).fit_expansion(X, treatments, upsell, groups)
    again = biased.effects(X.head(300))["upsell_offer"].expansion
    assert again is not None
    np.testing.assert_allclose(again, gain)


def test_pooled_regression_recovers_the_shifts_whatever_the_blas_threads():
    from training.uplift.pooled import _logit_shifts

    rng = np.random.default_rng(3)
    n, k, d = 20_000, 3, 2
    T = (rng.random((n, k)) < 0.2).astype(float)
    S = rng.normal(size=(n, d))
    offset = rng.normal(-1.0, 0.5, n)
    truth = np.array([[-0.8, 0.0, 0.4, 0.0], [0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, -0.3]])
    eta = offset + T @ truth[:, 0] + np.sum(T * (S @ truth[:, 2:].T), axis=1)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    args = (T, np.zeros((n, k)), S, y, offset, np.ones(n), 1e-3, 1.0)
    one = _logit_shifts(*args, blas_threads=1)
    default = _logit_shifts(*args, blas_threads=None)
    np.testing.assert_allclose(one, default, atol=1e-8)
    np.testing.assert_allclose(one[:, [0, 2, 3]], truth[:, [0, 2, 3]], atol=0.15)


def hidden_risk_history(n_accounts: int = 1500, months: int = 4, seed: int = 3):
    """CSMs call accounts whose risk they hear on calls and the features miss; the call does
    nothing. Returns the history and the called accounts' excess hidden log-odds."""
    rng = np.random.default_rng(seed)
    n = n_accounts * months
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["usage", "nps", "tickets"])
    hidden = rng.normal(size=n)  # what CSMs hear and the data does not hold
    logit = -1.2 - 1.0 * X["usage"] + 0.6 * X["tickets"] + hidden
    called = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 0.8 * X["tickets"] + 1.5 * hidden)))
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    treatments = pd.DataFrame({"exec_sponsor_call": called.astype(int)})
    groups = np.repeat(np.arange(n_accounts), months).astype(str)
    excess = float(hidden[called].mean() - hidden[~called].mean())
    return X, treatments, churn, groups, excess


def test_selection_bias_takes_the_hidden_risk_out_of_learned_effects():
    X, treatments, churn, groups, excess = hidden_risk_history()
    config = UpliftConfig(min_propensity=0.01, symptoms=False, bags=4)
    plain = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    found = plain.effects(X)["exec_sponsor_call"]
    learned = found.basis == LEARNED
    assert learned.mean() > 0.8
    # The call does nothing, yet history shows it harmful: CSMs chose the riskier accounts.
    assert np.nanmean(found.effect[learned]) > 0.03
    unbiased = UpliftModel(config.model_copy(update={"selection_bias": excess}), random_state=0)
    unbiased.__dict__.update({k: v for k, v in plain.__dict__.items() if k.endswith("_")})
    fixed = unbiased.effects(X)["exec_sponsor_call"]
    assert np.array_equal(fixed.basis, found.basis)  # only learned effects move
    assert all("more risk than the data shows" in r for r in fixed.reason[learned])
    assert not any("more risk" in r for r in found.reason)
    assert abs(np.nanmean(fixed.effect[learned])) < 0.5 * np.nanmean(found.effect[learned])
    # the treated churn loses `selection_bias` log-odds; the bound follows the effect
    base = plain.baseline_risk(X)[learned]
    treated = base + found.effect[learned]
    expected = 1 / (1 + np.exp(-(np.log(treated / (1 - treated)) - excess))) - base
    np.testing.assert_allclose(fixed.effect[learned], expected, rtol=1e-6)
    assert fixed.pessimistic is not None
    np.testing.assert_allclose(
        fixed.pessimistic[learned], fixed.effect[learned] + config.z() * fixed.std[learned]
    )
    # log-odds, not points: a safe account's churn cannot fall below zero
    assert np.all(base + fixed.effect[learned] > 0)
    assert np.all(np.abs(fixed.effect[learned] - found.effect[learned]) <= 0.25 * excess)
    # what a CSM is told stays history's own: the same model without the assumption
    assert fixed.history is not None and found.history is not None
    np.testing.assert_array_equal(fixed.history, found.effect)
    np.testing.assert_array_equal(found.history, found.effect)


def test_selection_bias_spares_what_followed_plan_lines():
    X, treatments, churn, groups, excess = hidden_risk_history(n_accounts=600)
    config = UpliftConfig(min_propensity=0.01, symptoms=False, bags=2, selection_bias=excess)
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    found = {}
    for share in (1.0, 0.5, 0.0):
        model.own_share_ = {"exec_sponsor_call": share}
        found[share] = model.effects(X)["exec_sponsor_call"]
    learned = found[1.0].basis == LEARNED
    base = model.baseline_risk(X)[learned]

    def treated_logit(share: float) -> np.ndarray:
        treated = base + found[share].effect[learned]
        return np.log(treated / (1 - treated))

    # the plan chose its accounts on the features: only the team's own choices hid risk
    np.testing.assert_allclose(treated_logit(0.5) - treated_logit(1.0), 0.5 * excess, rtol=1e-5)
    np.testing.assert_allclose(treated_logit(0.0) - treated_logit(1.0), excess, rtol=1e-5)
    assert "more risk than the data shows" in found[0.0].reason[learned][0]


def test_own_choice_share_counts_what_the_team_chose_without_a_plan_line():
    snapshots = pd.DataFrame(
        {"account_id": ["a", "b", "c", "d"], "as_of": pd.to_datetime(["2025-01-01"] * 4)}
    )
    touchpoints = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "c", "d"],
            "ts": pd.to_datetime(["2025-01-10"] * 5),
            "type": ["training", "training", "training", "training", "health_check"],
            "plan_line_id": [None, "plan-1-b", "plan-1-c", None, "plan-1-d"],
        }
    )
    share = own_choice_share(snapshots, touchpoints, window_days=30)
    # a: own; b: the plan's; c: the plan's line and once more of the team's accord: own
    assert share["training"] == pytest.approx(2 / 3)
    assert share["health_check"] == 0.0
    assert share["business_review"] == 1.0  # never done: nothing says it was planned
    alone = own_choice_share(snapshots, touchpoints.drop(columns="plan_line_id"), 30)
    assert set(alone.values()) == {1.0}


def test_selection_bias_cannot_be_negative():
    with pytest.raises(ValidationError):
        UpliftConfig(selection_bias=-0.1)
    with pytest.raises(ValidationError):
        UpliftConfig(growth_selection_bias=-0.1)
    assert UpliftConfig().hidden_risk() == 0.0


def test_growth_asks_take_their_own_selection_bias():
    config = UpliftConfig(selection_bias=1.2, growth_selection_bias=0.0)
    assert config.hidden_risk("exec_sponsor_call") == 1.2
    assert config.hidden_risk("training") == 1.2
    for ask in ("upsell_offer", "referral_invite", "benchmark_program"):
        assert config.hidden_risk(ask) == 0.0
    assert config.hidden_risk() == 1.2  # any action's: whether a baseline is needed at all
    # a model pickled before the growth asks had their own keeps one bias for all
    older = config.model_copy()
    del older.__dict__["growth_selection_bias"]
    assert older.hidden_risk("referral_invite") == 1.2


def test_a_growth_ask_keeps_what_history_shows_when_its_bias_is_zero():
    X, treatments, churn, groups, excess = hidden_risk_history(n_accounts=800)
    rng = np.random.default_rng(5)
    # CSMs invite accounts they sense are happy; the invitation itself does nothing
    happy = -np.asarray(X["tickets"]) + rng.normal(size=len(X))
    treatments["referral_invite"] = (rng.random(len(X)) < 1 / (1 + np.exp(2.0 - happy))).astype(int)
    config = UpliftConfig(min_propensity=0.01, symptoms=False, bags=2)
    plain = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    cleared = UpliftModel(
        config.model_copy(update={"selection_bias": excess, "growth_selection_bias": 0.0}),
        random_state=0,
    )
    cleared.__dict__.update({k: v for k, v in plain.__dict__.items() if k.endswith("_")})
    before, after = plain.effects(X), cleared.effects(X)
    learned = before["referral_invite"].basis == LEARNED
    assert learned.mean() > 0.8
    np.testing.assert_allclose(
        after["referral_invite"].effect[learned], before["referral_invite"].effect[learned]
    )
    assert not any("more risk" in r for r in after["referral_invite"].reason)
    # the call, chosen on hidden risk, still has it taken out
    called = after["exec_sponsor_call"].basis == LEARNED
    moved = after["exec_sponsor_call"].effect[called] - before["exec_sponsor_call"].effect[called]
    assert np.all(moved < 0)
    assert all(
        "more risk than the data shows" in r for r in after["exec_sponsor_call"].reason[called]
    )


def test_pooled_effects_predict_each_bags_baseline_once_per_action(monkeypatch):
    """The baseline's LightGBM predict is the cost of `effects`: once per bag and action."""
    X, treatments, churn, groups, _ = confounded_history(n_accounts=400, months=2)
    model = UpliftModel(UpliftConfig(min_propensity=0.01, bags=3), random_state=0)
    model.fit(X, treatments, churn, groups, load_playbook(DEFAULT_PLAYBOOK))
    features = X.to_numpy(dtype=float)
    symptoms = model._symptoms(X)
    expected = np.stack(
        [
            1 / (1 + np.exp(-(bag.baseline_logit(features) + bag.shifts(features, symptoms)[:, 0])))
            - 1 / (1 + np.exp(-bag.baseline_logit(features)))
            for bag in model.pooled_
        ]
    ).mean(axis=0)
    calls = []
    original = PooledFit.baseline_logit

    def counted(self: PooledFit, rows: np.ndarray) -> np.ndarray:
        calls.append(1)
        return original(self, rows)

    monkeypatch.setattr(PooledFit, "baseline_logit", counted)
    effect, _ = model._predict("exec_sponsor_call", features, symptoms)
    assert len(calls) == len(model.pooled_) == 3
    np.testing.assert_allclose(effect, expected, atol=1e-12)


def test_the_fit_is_the_same_on_one_thread_or_two(monkeypatch):
    """Bags, cross-fitting folds and propensities fit on threads; each has its own seed."""
    import training.uplift.pooled as pooled

    X, treatments, churn, groups, _ = confounded_history(n_accounts=300, months=2)
    treatments = treatments.assign(training=(np.arange(len(X)) % 7 == 0).astype(int))
    config = UpliftConfig(min_propensity=0.01, bags=3, centre_treatments=True)
    fitted = {}
    for threads in (1, 2):
        monkeypatch.setattr(pooled, "THREADS", threads)
        model = UpliftModel(config, random_state=4)
        fitted[threads] = model.fit(X, treatments, churn, groups, load_playbook(DEFAULT_PLAYBOOK))
    one, two = fitted[1], fitted[2]
    for a, b in zip(one.pooled_, two.pooled_, strict=True):
        np.testing.assert_array_equal(a.coefficients, b.coefficients)
    theirs = two.effects(X)
    for action, effect in one.effects(X).items():
        np.testing.assert_array_equal(effect.effect, theirs[action].effect)
    assert set(one.propensity_) == set(two.propensity_) == {"exec_sponsor_call", "training"}
