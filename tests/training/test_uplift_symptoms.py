"""The playbook's symptoms as effect modifiers of the pooled next-best-action learner."""

from __future__ import annotations

import numpy as np
import pandas as pd

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from training.uplift import UpliftConfig, UpliftModel
from training.uplift.model import LEARNED
from training.uplift.symptoms import action_symptoms, symptom_matrix


def test_symptoms_are_the_feature_conditions_of_each_actions_rules():
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    names = ["key_users_lost_unreplaced_90d", "days_since_key_user_active", "nps_latest"]
    found = action_symptoms(playbook, ["key_user_replacement", "upsell_offer"], names)
    assert found["key_user_replacement"] == [
        (("key_users_lost_unreplaced_90d", ">=", 1.0),),
        (("days_since_key_user_active", ">", 30.0),),
    ]
    # "seats nearly full" names a feature the model does not see here; "likely to expand"
    # has only a score condition: neither says what the action fixes.
    assert found["upsell_offer"] == []


def test_symptom_matrix_ands_conditions_ors_rules_and_never_matches_unknowns():
    symptoms = {
        "training": [(("a", "<", 0.3), ("b", "==", 1.0)), (("c", ">", 5.0),)],
        "health_check": [],
    }
    X = pd.DataFrame(
        {"a": [0.1, 0.1, 0.9, np.nan], "b": [1.0, 0.0, 1.0, 1.0], "c": [0.0, 9.0, 0.0, np.nan]}
    )
    matrix = symptom_matrix(X, symptoms, ["training", "health_check"])
    np.testing.assert_array_equal(matrix[:, 0], [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(matrix[:, 1], [0.0, 0.0, 0.0, 0.0])


def gated_history(n_accounts: int = 1500, months: int = 4, seed: int = 1):
    """Replacing a key user cuts churn by 25 points where one left, and does nothing
    elsewhere; CSMs mostly do it where one left, and those accounts churn more."""
    rng = np.random.default_rng(seed)
    n = n_accounts * months
    lost = (rng.random(n) < 0.25).astype(float)
    X = pd.DataFrame(
        {
            "usage": rng.normal(size=n),
            "key_users_lost_unreplaced_90d": lost,
            "tickets": rng.normal(size=n),
        }
    )
    risk = 1 / (1 + np.exp(-(-1.2 - 0.8 * X["usage"] + 1.6 * lost)))
    done = (rng.random(n) < np.where(lost > 0, 0.5, 0.05)).astype(int)
    churn = (rng.random(n) < np.clip(risk - 0.25 * done * lost, 0, 1)).astype(float)
    treatments = pd.DataFrame({"key_user_replacement": done})
    groups = np.repeat(np.arange(n_accounts), months).astype(str)
    return X, treatments, churn, groups, lost > 0


def test_learner_finds_where_the_action_helps_from_its_playbook_symptoms():
    X, treatments, churn, groups, lost = gated_history()
    config = UpliftConfig(min_propensity=0.01, bags=4)
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups, playbook)
    found = model.effects(X)["key_user_replacement"]
    assert model.symptoms_["key_user_replacement"] == [
        (("key_users_lost_unreplaced_90d", ">=", 1.0),)
    ]
    learned = found.basis == LEARNED
    assert learned.mean() > 0.9
    with_symptom = np.nanmean(found.effect[learned & lost])
    without = np.nanmean(found.effect[learned & ~lost])
    assert with_symptom < -0.15  # truly -0.25 (the pooled learner shrinks a little)
    assert abs(without) < 0.06  # truly 0 without the symptom

    blind = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups, playbook=None)
    assert blind.symptoms_ == {}  # without a playbook there are no symptoms to learn from
    unaware = blind.effects(X)["key_user_replacement"]
    gap = np.nanmean(unaware.effect[learned & lost]) - np.nanmean(unaware.effect[learned & ~lost])
    assert with_symptom - without < gap  # the symptom separates the two better


def test_an_action_never_helps_less_where_its_symptoms_show():
    from training.uplift.pooled import _logit_shifts

    rng = np.random.default_rng(0)
    n = 20_000
    done = (rng.random((n, 1)) < 0.3).astype(float)
    symptom = (rng.random((n, 1)) < 0.5).astype(float)
    # History says: the action cuts churn log-odds by 0.8 without its symptom, by 0.3 with.
    eta = -1.0 + done[:, 0] * (-0.8 + 0.5 * symptom[:, 0])
    churn = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    empty = np.zeros((n, 0))
    fitted = _logit_shifts(done, symptom, empty, churn, np.full(n, -1.0), np.ones(n), 1.0, 1.0)
    assert fitted[0, 1] == 0.0  # bounded: the playbook's premise
    assert fitted[0, 0] < -0.3  # the action still helps
    flipped = _logit_shifts(done, 1 - symptom, empty, churn, np.full(n, -1.0), np.ones(n), 1.0, 1.0)
    assert -0.8 < flipped[0, 1] < -0.2  # where it truly helps more, the shift is learned


class _ReaderOfColumn:
    """A stand-in cause reader: the chance of each cause is read off one feature column."""

    def __init__(self, columns: list[str]) -> None:
        self.feature_names = columns

    def matrix(self, features: pd.DataFrame, names: list[str]) -> np.ndarray:
        return features.reindex(columns=self.feature_names).to_numpy(dtype=float)

    def cause_probabilities(self, X: np.ndarray) -> np.ndarray:
        return np.nan_to_num(X, nan=0.0)


def test_learner_finds_which_diagnosed_cause_an_action_remedies(monkeypatch):
    # No playbook rule says it: the diagnosis (a cause reader) is the only modifier offered.
    X, treatments, churn, groups, lost = gated_history()
    X = X.rename(columns={"key_users_lost_unreplaced_90d": "diagnosed_key_user_gone"})
    monkeypatch.setattr(
        "training.uplift.model.load_reader", lambda: _ReaderOfColumn(["diagnosed_key_user_gone"])
    )
    config = UpliftConfig(min_propensity=0.01, bags=4, interactions=0, cause_l2=1.0)
    diagnosed = UpliftModel(config.model_copy(update={"causes": True}), random_state=0)
    found = diagnosed.fit(X, treatments, churn, groups).effects(X)["key_user_replacement"]
    learned = found.basis == LEARNED
    with_cause = np.nanmean(found.effect[learned & lost])
    without = np.nanmean(found.effect[learned & ~lost])
    assert with_cause < -0.15  # truly -0.25
    assert abs(without) < 0.06  # truly 0 for accounts whose diagnosis is another cause

    blind = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    assert blind.cause_reader_ is None
    unaware = blind.effects(X)["key_user_replacement"]
    gap = np.nanmean(unaware.effect[learned & lost]) - np.nanmean(unaware.effect[learned & ~lost])
    assert with_cause - without < gap - 0.1  # the diagnosis separates the two


def test_a_table_the_company_lacks_is_centred_without_a_warning_in_any_thread(recwarn):
    """All-NaN columns get centre 0 and scale 1 without raising a NumPy warning at all.

    The bag fit used to silence it with `warnings.catch_warnings`, which is process-wide
    and not thread-safe while bags run in threads, and the ninth audit saw it leak. (Its
    race did not show in this test on the old code: what this checks is that nothing is
    raised to silence, and the centring.)
    """
    from training.uplift.pooled import fit_pooled, in_threads

    rng = np.random.default_rng(0)
    n = 400
    X = np.column_stack([rng.normal(size=n), np.full(n, np.nan), np.full(n, 3.0)])
    T = (rng.random((n, 1)) < 0.3).astype(float)
    y = (rng.random(n) < 0.3).astype(float)
    params = {"n_estimators": 5, "num_leaves": 3, "min_child_samples": 20}

    def bag(seed: int):
        return fit_pooled(X, T, np.zeros_like(T), y, np.arange(n) % 50, np.ones(n), params,
                          interactions=3, l2=1.0, symptom_l2=1.0, cv=2, seed=seed)  # fmt: skip

    fits = in_threads(bag, [0, 1, 2, 3])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    for fit in fits:
        assert fit.center[1] == 0.0 and fit.scale[1] == 1.0  # the missing table's column
        assert fit.scale[2] == 1.0  # a constant column
        assert np.isfinite(fit.coefficients).all()
