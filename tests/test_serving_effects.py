"""Expected effects from the uplift model in the API: fields, ranking, caching, none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from test_serving_helpers import API_KEY, make_service, test_settings

from serving.app import create_app
from serving.effects import UpliftEffects
from training.uplift import ActionEffect, UpliftConfig

COSTS = {"exec_sponsor_call": 500.0, "health_check": 50.0}


class FakeUplift:
    """Stands in for a fitted UpliftModel: the call cuts churn by 10 points for every
    account, a health check adds nothing, upsell offers are unknown to history."""

    def __init__(self) -> None:
        self.config = UpliftConfig(costs=COSTS)
        self.actions_ = ["exec_sponsor_call", "health_check", "upsell_offer"]
        self.calls = 0

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        self.calls += 1
        n = len(X)

        def learned(value: float) -> ActionEffect:
            basis = np.full(n, "learned", dtype=object)
            reason = np.full(n, "learned from 400 times", dtype=object)
            return ActionEffect(np.full(n, value), np.full(n, 0.02), basis, reason)

        unknown = ActionEffect(
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, "playbook", dtype=object),
            np.full(n, "too few comparable cases", dtype=object),
        )
        return {
            "exec_sponsor_call": learned(-0.10),
            "health_check": learned(0.0),
            "upsell_offer": unknown,
        }


@pytest.fixture(scope="module")
def served():
    fake = FakeUplift()
    service = make_service(n=40, effects=UpliftEffects(fake))
    with TestClient(create_app(test_settings(), service)) as client:
        yield client, service, fake


def test_actions_carry_effect_uncertainty_basis_and_saved_arr(served):
    client, service, _ = served
    ids = [f"acct-{i:04d}" for i in range(40)]
    body = client.post("/v1/score", json={"account_ids": ids}, headers={"X-API-Key": API_KEY})
    assert body.status_code == 200
    for score in body.json()["scores"]:
        top = score["actions"][0]
        # The call is expected to save 10% of ARR minus its cost: always worth it here.
        assert score["next_best_action"] == "exec_sponsor_call" == top["action"]
        assert top["basis"] == "learned"
        assert top["expected_effect"] == pytest.approx(-0.10)
        assert top["effect_std"] == pytest.approx(0.02)
        assert top["expected_saved_arr"] == pytest.approx(0.10 * score["arr"] - 500.0)
        assert top["reason"]
        actions = [a["action"] for a in score["actions"]]
        assert "health_check" not in actions  # learned to save nothing: not recommended
        for later in score["actions"][1:]:
            assert later["basis"] == "playbook" and later["expected_effect"] is None
            assert later["rules"]  # playbook actions keep their rules and reasons


def test_playbook_reason_is_kept_when_a_rule_also_suggests_the_learned_action(served):
    _, service, _ = served
    _, _, scores, _ = service.score([f"acct-{i:04d}" for i in range(40)])
    fired = [s for s in scores if s.actions[0].rules]
    learned_only = [s for s in scores if not s.actions[0].rules]
    for score in fired:
        assert "renewed more often" not in score.actions[0].reason
    for score in learned_only:
        assert "renewed more often after a exec sponsor call" in score.actions[0].reason


def test_effects_are_computed_once_per_snapshot(served):
    _, service, fake = served
    before = fake.calls
    service.score(["acct-0001"])
    service.score(["acct-0002", "acct-0003"])
    assert fake.calls - before <= 1


def test_none_when_nothing_is_expected_to_help():
    class Harmful(FakeUplift):
        def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
            n = len(X)
            return {
                action: ActionEffect(
                    np.full(n, 0.05),
                    np.full(n, 0.01),
                    np.full(n, "learned", dtype=object),
                    np.full(n, "learned", dtype=object),
                )
                for action in ("exec_sponsor_call", "health_check", "upsell_offer")
            }

    service = make_service(n=20, effects=UpliftEffects(Harmful()))
    _, _, scores, _ = service.score([f"acct-{i:04d}" for i in range(20)])
    for score in scores:
        offered = {a.action for a in score.actions}
        assert not offered & {"exec_sponsor_call", "health_check", "upsell_offer"}
        if not score.actions:
            assert score.next_best_action == "none"
