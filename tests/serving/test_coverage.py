"""Serving what the data supports: no upsell model, feature families with no data."""

from __future__ import annotations

import math

import numpy as np
from fastapi.testclient import TestClient

from features.definitions import FEATURE_NAMES, feature
from serving.app import create_app
from serving.coverage import EXPANSION_ACTIONS
from serving.explain import top_drivers
from serving.models import ModelBundle
from tests.support.serving import API_KEY, make_model, make_service, test_settings

REASON = "upsell: not trained: only 4 snapshot months have upsell labels known at 2026-06-01"
KEY_USER_FEATURES = {n for n in FEATURE_NAMES if feature(n).family == "key_users"}


def _churn_only(missing_families: list[str] | None = None, reason: str | None = REASON):
    churn = make_model("churn")
    churn.missing_families = list(missing_families or [])
    churn.models_not_trained = {"upsell": reason} if reason else {}
    return ModelBundle(churn, None, {"retain-churn": "1"}, origin="memory")


def _actions(service) -> list[list[str]]:
    ids = service.features.latest.account_ids
    _, _, scores, _ = service.score(ids)
    return [[a.action for a in s.actions] for s in scores]


def test_without_an_upsell_model_scores_carry_null_and_no_upsell_offer():
    with_upsell = _actions(make_service(300))
    assert any("upsell_offer" in actions for actions in with_upsell)  # the rule can fire

    service = make_service(300, bundle=_churn_only())
    ids = service.features.latest.account_ids
    _, bundle, scores, _ = service.score(ids)
    assert all(s.upsell_probability is None for s in scores)
    assert all(0 <= s.churn_probability <= 1 for s in scores)
    offered = {a.action for s in scores for a in s.actions}
    assert not offered & EXPANSION_ACTIONS
    assert {s.next_best_action for s in scores} - {"none"}  # other actions still recommended
    assert all((s.none_reason is None) == (s.next_best_action != "none") for s in scores)
    assert bundle.missing["retain-upsell"] == REASON


def test_the_reason_defaults_to_no_registered_champion():
    bundle = _churn_only(reason=None)
    assert "no retain-upsell champion" in bundle.missing["retain-upsell"]
    assert "playbook ranks" in bundle.missing["retain-uplift"]


def test_models_and_readiness_say_which_model_is_missing_and_why():
    service = make_service(20, bundle=_churn_only(["nps"]))
    with TestClient(create_app(test_settings(), service)) as client:
        models = client.get("/v1/models", headers={"X-API-Key": API_KEY}).json()
        ready = client.get("/readyz").json()
    assert models["missing_models"]["retain-upsell"] == REASON
    assert models["missing_families"] == ["nps"]
    assert ready["missing_models"]["retain-upsell"] == REASON


def test_a_family_without_data_is_never_a_driver_nor_fires_a_rule():
    shown = make_service(300)
    drivers = {
        d.feature for s in shown.score(shown.features.latest.account_ids)[2] for d in s.drivers
    }
    assert drivers & KEY_USER_FEATURES  # the churn model mostly reads a key-user feature
    rules = {r for s in shown.score(shown.features.latest.account_ids)[2] for a in s.actions
             for r in a.rules}  # fmt: skip
    assert "key users gone quiet" in rules

    service = make_service(300, bundle=_churn_only(["key_users"]))
    _, _, scores, _ = service.score(service.features.latest.account_ids)
    assert scores and all(not {d.feature for d in s.drivers} & KEY_USER_FEATURES for s in scores)
    fired = {r for s in scores for a in s.actions for r in a.rules}
    assert "key users gone quiet" not in fired and "key user left and not replaced" not in fired


def test_a_driver_with_no_value_for_the_account_is_not_shown():
    names = ["a", "b", "c"]
    contributions = np.array([0.9, 0.5, 0.1])
    values = np.array([np.nan, 3.0, 1.0])
    catalogue = {n: feature("nps_latest") for n in names}
    drivers = top_drivers(contributions, values, names, {}, top=2, catalogue=catalogue)
    assert [d.feature for d in drivers] == ["b", "c"]
    assert all(d.value is not None and not math.isnan(d.value) for d in drivers)
