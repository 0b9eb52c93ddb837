"""`risk_baseline: logistic`: what the learner reads in probability, at a ridge logistic's risk.

Seed 49 of the fourth untouched set: the pooled LightGBM baseline read held-out accounts'
risk flat, and the hidden-risk correction, the fixes' worth and the tiers scaled by it.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from tests.training.test_uplift import confounded_history
from training.uplift.config import UpliftConfig
from training.uplift.learned import learned_line
from training.uplift.model import BLIND_AUC, UpliftModel


def test_the_logistic_risk_replaces_the_baseline_and_leaves_history_alone() -> None:
    X, treatments, churn, groups, risk = confounded_history(n_accounts=600, months=3)
    fitting = np.asarray(groups).astype(int) < 400  # accounts 400-599 are new to the model
    config = UpliftConfig(min_propensity=0.01, bags=2, selection_bias=1.2)
    pooled = UpliftModel(config, random_state=0).fit(
        X[fitting], treatments[fitting], churn[fitting], groups[fitting]
    )
    logistic = UpliftModel(
        config.model_copy(update={"risk_baseline": "logistic"}), random_state=0
    ).fit(X[fitting], treatments[fitting], churn[fitting], groups[fitting])
    assert getattr(pooled, "risk_model_", None) is None
    new = X[~fitting]
    read = logistic.baseline_risk(new)
    assert logistic.risk_model_ is not None
    assert np.array_equal(read, logistic.risk_model_.predict_proba(new.to_numpy(float))[:, 1])
    assert ((read > 0) & (read < 1)).all()
    # it ranks the new accounts' true risk (a linear one here) at least as the pooled one does
    truth = np.asarray(risk)[~fitting]
    assert spearmanr(read, truth).statistic > 0.9
    assert spearmanr(read, truth).statistic >= spearmanr(pooled.baseline_risk(new), truth).statistic
    # history's own effect is the learned shifts' (the same fit); what is ranked allows for
    # the hidden risk at the new baseline, so it moves
    a, b = pooled.effects(new)["exec_sponsor_call"], logistic.effects(new)["exec_sponsor_call"]
    assert a.history is not None and b.history is not None
    np.testing.assert_allclose(a.history, b.history)
    assert not np.allclose(a.effect, b.effect, equal_nan=True)
    again = pickle.loads(pickle.dumps(logistic))  # registered as a pyfunc: it must pickle
    np.testing.assert_array_equal(again.baseline_risk(new), read)


def test_chosen_keeps_the_baseline_with_the_lower_out_of_fold_log_loss() -> None:
    X, treatments, churn, groups, _ = confounded_history(n_accounts=400, months=3)
    config = UpliftConfig(min_propensity=0.01, bags=2, risk_baseline="chosen")
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    losses = model.risk_losses_
    assert set(losses) == {"pooled", "logistic", "base_rate", "pooled_auc", "logistic_auc"}
    # churn here is linear in the features' log-odds: the logistic predicts new accounts better
    assert losses["logistic"] < losses["pooled"] and model.risk_baseline_ == "logistic"
    assert model.risk_model_ is not None
    # churn U-shaped in one feature: no line follows it, trees do
    rng = np.random.default_rng(1)
    u_risk = 1 / (1 + np.exp(-(-2.5 + 1.5 * X["usage"].abs().to_numpy() ** 2)))
    u_churn = (rng.random(len(X)) < u_risk).astype(float)
    other = UpliftModel(config, random_state=0).fit(X, treatments, u_churn, groups)
    assert other.risk_losses_["pooled"] < other.risk_losses_["logistic"]
    assert other.risk_baseline_ == "pooled" and other.risk_model_ is None


def test_guarded_keeps_the_trees_unless_they_know_less_than_the_base_rate() -> None:
    X, treatments, churn, groups, _ = confounded_history(n_accounts=400, months=3)
    config = UpliftConfig(min_propensity=0.01, bags=2, risk_baseline="guarded")
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    # the trees predict new accounts better than the churn rate: they stay, as shipped
    assert model.risk_losses_["pooled"] < model.risk_losses_["base_rate"]
    assert model.risk_baseline_ == "pooled" and model.risk_model_ is None
    shipped = UpliftModel(config.model_copy(update={"risk_baseline": "pooled"}), random_state=0)
    shipped.fit(X, treatments, churn, groups)
    np.testing.assert_array_equal(model.baseline_risk(X), shipped.baseline_risk(X))
    # churn that no feature tells: trees fitted to noise predict new accounts worse than the rate
    noise = (np.random.default_rng(2).random(len(X)) < 0.2).astype(float)
    blind = UpliftModel(config, random_state=0).fit(X, treatments, noise, groups)
    assert blind.risk_losses_["pooled"] >= blind.risk_losses_["base_rate"]
    assert blind.risk_baseline_ == "logistic" and blind.risk_model_ is not None


def test_unless_blind_keeps_the_trees_unless_they_barely_rank_and_the_logistic_does() -> None:
    X, treatments, churn, groups, _ = confounded_history(n_accounts=400, months=3)
    config = UpliftConfig(min_propensity=0.01, bags=2, risk_baseline="unless_blind")
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    assert model.risk_losses_["pooled_auc"] > BLIND_AUC  # the trees rank: they stay
    assert model.risk_baseline_ == "pooled" and model.risk_model_ is None
    # churn a line tells and the trees, kept from splitting, cannot: the logistic takes over
    stump = config.model_copy(
        update={"nuisance": config.nuisance.model_copy(update={"min_child_samples": 10_000})}
    )
    blind = UpliftModel(stump, random_state=0).fit(X, treatments, churn, groups)
    assert blind.risk_losses_["pooled_auc"] < BLIND_AUC < blind.risk_losses_["logistic_auc"]
    assert blind.risk_baseline_ == "logistic" and blind.risk_model_ is not None
    # churn nothing tells: neither ranks, so the trees stay
    noise = (np.random.default_rng(2).random(len(X)) < 0.2).astype(float)
    neither = UpliftModel(stump, random_state=0).fit(X, treatments, noise, groups)
    assert neither.risk_losses_["logistic_auc"] < BLIND_AUC
    assert neither.risk_baseline_ == "pooled"


def test_abstain_auc_leaves_the_playbook_to_decide_where_history_cannot_tell_who_churns() -> None:
    X, treatments, churn, groups, _ = confounded_history(n_accounts=400, months=3)
    config = UpliftConfig(min_propensity=0.01, bags=2, abstain_auc=0.55)
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    assert model.blind_auc_ is None  # churn here follows the features: effects are learned
    assert "learned" in set(model.effects(X)["exec_sponsor_call"].basis)
    noise = (np.random.default_rng(2).random(len(X)) < 0.2).astype(float)
    blind = UpliftModel(config, random_state=0).fit(X, treatments, noise, groups)
    assert blind.blind_auc_ is not None and blind.blind_auc_ < 0.55
    for found in blind.effects(X).values():
        assert set(found.basis) == {"playbook"} and np.isnan(found.effect).all()
        assert all("the playbook decides" in str(r) for r in found.reason)
    said = learned_line(blind, pd.DataFrame({"type": ["training", "health_check"]}))
    assert said.startswith("effects learned for 0 of ")
    assert f"ROC-AUC {blind.blind_auc_:.2f}, under abstain_auc 0.55" in said
    assert "the playbook ranks them all" in said
    # the same noise without the option: effects are learned from it, as before
    plain = UpliftModel(UpliftConfig(min_propensity=0.01, bags=2), random_state=0)
    learned = plain.fit(X, treatments, noise, groups).effects(X)["exec_sponsor_call"]
    assert "learned" in set(learned.basis)


def test_the_baselines_are_not_read_where_a_training_fold_holds_one_outcome() -> None:
    # a small book whose churned snapshots all belong to one account: the folds without it
    # hold renewals only (the data-shape matrix's 18-month annual book met this)
    from training.uplift.model import risk_losses

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    groups = np.repeat(["a", "b", "c"], 30)
    y = (groups == "a").astype(float)
    assert risk_losses(X, y, groups, {"n_estimators": 5}, seed=0) == {}
