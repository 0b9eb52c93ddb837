"""`retain train`'s uplift line says why an action's effect was not learned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contract import ACTION_CODES
from training.uplift.config import UpliftConfig
from training.uplift.learned import learned_line
from training.uplift.model import UpliftModel


def _fitted(learned: dict[str, int], done: dict[str, int]) -> UpliftModel:
    """An uplift model as `fit` leaves it: learned in `final_`, times done in `n_treated_`."""
    model = UpliftModel(UpliftConfig(min_treated=40, min_untreated=40))
    model.actions_ = list(ACTION_CODES)
    model.final_ = {action: [i] for i, action in enumerate(ACTION_CODES) if action in learned}
    model.n_treated_ = {action: 0 for action in ACTION_CODES} | learned | done
    return model


def _touchpoints(types: dict[str, int]) -> pd.DataFrame:
    kinds = [kind for kind, n in types.items() for _ in range(n)]
    return pd.DataFrame({"account_id": "a1", "ts": pd.Timestamp("2025-01-01"), "type": kinds})


def test_no_type_is_an_action_code():
    line = learned_line(
        _fitted({}, {}), _touchpoints({"Health Check": 412, "Call": 300, "Training": 250})
    )
    assert line == (
        "effects learned for 0 of 10 actions: no touchpoint type is an action code (found"
        " 'Health Check' 412 (looks like health_check), 'Call' 300, 'Training' 250 (looks like"
        " training); only exact codes count, see docs/data-contract.md)"
    )


def test_actions_with_too_little_history_are_named_with_the_times_done():
    model = _fitted({"training": 120, "health_check": 90}, {"upsell_offer": 12})
    line = learned_line(model, _touchpoints({"training": 130, "health_check": 95, "Call": 5}))
    assert line.startswith("effects learned for 2 of 10 actions: training, health_check; ")
    assert "the playbook ranks the rest, too few comparable cases in history" in line
    assert "(times done, 40 needed): onboarding_push 0," in line and "upsell_offer 12" in line
    assert "look like" not in line  # "Call" looks like no action code


def test_near_miss_types_are_named_when_actions_are_missing():
    model = _fitted({"training": 120}, {})
    line = learned_line(model, _touchpoints({"training": 130, "Health Check": 80}))
    assert "types that look like an action code but are not one: 'Health Check' 80" in line
    assert "(looks like health_check)" in line and "only exact codes count" in line


def test_every_action_learned_lists_them_only():
    model = _fitted({action: 100 for action in ACTION_CODES}, {})
    line = learned_line(model, _touchpoints({"health_check": 100, "Note": 3}))
    assert line == f"effects learned for 10 of 10 actions: {', '.join(ACTION_CODES)}"


def test_the_assumed_hidden_selection_is_shown_beside_what_history_alone_says():
    # Both audits: actions that truly do nothing were learned as protective on data where
    # CSMs chose on what the data shows; how much of that the assumed `selection_bias` makes
    # must be readable from `retain train`'s output.
    from tests.training.test_uplift import confounded_history
    from training.uplift.learned import assumed_line, assumed_selection, capped_shares

    X, treatments, churn, groups, _ = confounded_history(n_accounts=600, months=3)
    config = UpliftConfig(min_propensity=0.01, bags=2, selection_bias=1.2)
    model = UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)
    found = assumed_selection(model, X.head(400))
    used, alone = found["exec_sponsor_call"]
    assert used < alone - 0.02  # the assumption makes the call look more protective
    assert model.config.selection_bias == 1.2  # put back after reading history alone
    line = assumed_line(found, config)
    assert line is not None
    assert f"exec_sponsor_call {100 * used:+.1f} ({100 * alone:+.1f})" in line
    assert "selection_bias 1.2" in line and "set it to 0" in line
    assert "Warning" not in line  # nothing weighed against the churn scores
    # a book churning far less than the assumed effects: every account at the bound
    rows = X.head(400)
    effects = model.effects(rows)
    low = capped_shares(effects, np.full(len(rows), 0.001))
    assert low["exec_sponsor_call"] > 0.9
    assert capped_shares(effects, np.ones(len(rows)))["exec_sponsor_call"] == 0.0
    small = assumed_line(found, config, low)
    assert small is not None
    assert "Warning: as ranked, exec_sponsor_call (" in small
    assert "the cheapest of them comes first" in small
    assert "Warning" not in (assumed_line(found, config, {"exec_sponsor_call": 0.3}) or "")
    # an action nothing is assumed for (a growth ask) is not the assumption's doing
    assert "upsell_offer (" not in (assumed_line(found, config, {"upsell_offer": 1.0}) or "")
    plain = UpliftModel(config.model_copy(update={"selection_bias": 0.0}), random_state=0)
    plain.fit(X, treatments, churn, groups)
    assert assumed_selection(plain, X.head(400)) == {}
    # what the CSM is told is what the same fit says with nothing assumed
    same = plain.effects(X.head(400))["exec_sponsor_call"]
    assert alone == pytest.approx(float(np.nanmean(same.effect[same.basis == "learned"])))
    assert assumed_line({}, config) is None
