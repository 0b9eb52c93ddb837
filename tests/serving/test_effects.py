"""Expected effects from the uplift model in the API: fields, ranking, caching, none.

The uplift model is part of the champion bundle: its effects for the latest snapshot are
computed when the bundle loads or is swapped in, never on a request.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from features.contract import ACTION_CODES
from serving.app import create_app
from serving.models import ModelStore
from tests.support.serving import (
    API_KEY,
    AS_OF,
    FakeUplift,
    make_bundle,
    make_service,
    test_settings,
)
from training.uplift import ActionEffect


@pytest.fixture(scope="module")
def served():
    fake = FakeUplift()
    service = make_service(n=40, bundle=make_bundle(uplift=fake))
    with TestClient(create_app(test_settings(), service)) as client:
        yield client, service, fake


def test_actions_carry_effect_uncertainty_basis_and_saved_arr(served):
    client, service, _ = served
    ids = [f"acct-{i:04d}" for i in range(40)]
    body = client.post("/v1/score", json={"account_ids": ids}, headers={"X-API-Key": API_KEY})
    assert body.status_code == 200
    assert "retain-uplift:v1" in body.json()["model_version"]
    scores = body.json()["scores"]
    assert len(scores) == 40
    assert any(len(score["actions"]) > 1 for score in scores)  # the playbook part is checked
    called = 0
    for score in scores:
        # The call cuts churn by 10 points, or by all the churn there is, minus its cost.
        effect = max(-0.10, -score["churn_probability"])
        stated = max(-0.06, -score["churn_probability"])  # as history alone shows it
        if -effect * score["arr"] <= 500.0:  # not worth its cost: never recommended
            assert "exec_sponsor_call" not in [a["action"] for a in score["actions"]]
            continue
        called += 1
        top = score["actions"][0]
        assert score["next_best_action"] == "exec_sponsor_call" == top["action"]
        assert top["basis"] == "learned"
        assert top["ranking_effect"] == pytest.approx(effect)
        assert top["ranking_saved_arr"] == pytest.approx(-effect * score["arr"] - 500.0)
        assert top["expected_effect"] == pytest.approx(stated)  # what the CSM reads
        assert top["effect_std"] == pytest.approx(0.02)
        assert top["expected_saved_arr"] == pytest.approx(-stated * score["arr"] - 500.0)
        assert top["reason"]
        actions = [a["action"] for a in score["actions"]]
        assert "health_check" not in actions  # learned to save nothing: not recommended
        for later in score["actions"][1:]:
            assert later["basis"] == "playbook" and later["expected_effect"] is None
            assert later["ranking_effect"] is None and later["ranking_saved_arr"] is None
            assert later["rules"]  # playbook actions keep their rules and reasons
    assert called > 10  # the call pays for many of the 40 accounts


def test_playbook_reason_is_kept_when_a_rule_also_suggests_the_learned_action(served):
    _, service, _ = served
    _, _, scores, _ = service.score([f"acct-{i:04d}" for i in range(40)])
    called = [s for s in scores if s.actions and s.actions[0].action == "exec_sponsor_call"]
    fired = [s for s in called if s.actions[0].rules]
    learned_only = [s for s in called if not s.actions[0].rules]
    assert fired and learned_only  # both cases occur among these 40 accounts
    for score in fired:
        assert "how accounts like this did" not in score.actions[0].reason
    for score in learned_only:
        reason = score.actions[0].reason
        assert "how accounts like this did after the CS team's exec sponsor call" in reason


def test_retain_experiments_sets_the_randomized_effect_beside_the_effect_stated(served):
    # `retain experiments` fills a line's model estimate from the champion: the effect the
    # CSM was told (history alone, -6 pts), not the one that ranked it (-10 pts)
    from serving.plan_experiments import with_model_effects

    _, service, _ = served
    lines = pd.DataFrame(
        {
            "week": [AS_OF.date().isoformat()] * 2,
            "account_id": ["acct-0001", "acct-0002"],
            "action": ["exec_sponsor_call", "exec_sponsor_call"],
            "expected_effect": [np.nan, -0.2],  # a plan file's own estimate is kept
        }
    )
    found = with_model_effects(service, lines)["expected_effect"].tolist()
    assert found == [pytest.approx(-0.06), -0.2]


def test_effects_are_computed_when_the_bundle_loads_not_on_a_request():
    fake = FakeUplift()
    service = make_service(n=10, bundle=make_bundle(uplift=fake))
    assert fake.calls == 1  # at load, for the latest snapshot
    service.score(["acct-0001"])
    service.score(["acct-0002", "acct-0003"])
    assert fake.calls == 1
    service.score(["acct-0001"], AS_OF.replace(month=AS_OF.month - 1))
    assert fake.calls == 2  # another as_of is computed once, on demand


def test_a_snapshot_never_gets_the_effects_of_another_that_had_its_key(monkeypatch):
    # Review: tables were keyed by (as_of, id(snapshot)); a snapshot freed after a
    # touchpoint refresh could leave its id to a new one of the same date.
    from serving.effects import UpliftEffects
    from serving.snapshots import snapshot_from_frames
    from tests.support.serving import random_features

    monkeypatch.setattr(UpliftEffects, "_key", staticmethod(lambda snapshot: (snapshot.as_of, 0)))
    fake = FakeUplift()
    effects = UpliftEffects(fake, {})
    old = snapshot_from_frames(AS_OF, random_features(5, seed=1))
    new = snapshot_from_frames(AS_OF, random_features(5, seed=2))
    effects.prepare(old)
    assert effects.is_computed(old) and not effects.is_computed(new)
    effects.prepare(new)
    assert fake.calls == 2


def test_a_hot_swap_brings_its_own_effects_computed_before_it_serves():
    first, second = FakeUplift(), FakeUplift()
    service = make_service(n=10, store=ModelStore(make_bundle("1", uplift=first)))
    service.models.swap(make_bundle("2", uplift=second))
    assert second.calls == 1  # warmed during the swap
    _, bundle, scores, _ = service.score(["acct-0001"])
    assert second.calls == 1 and "retain-uplift:v2" in bundle.model_version
    assert scores[0].actions[0].basis == "learned"


def test_without_an_uplift_model_the_playbook_ranks_and_says_so():
    service = make_service(n=10)
    _, bundle, scores, _ = service.score([f"acct-{i:04d}" for i in range(10)])
    assert "retain-uplift" not in bundle.model_version
    ranked = [a for s in scores for a in s.actions]
    assert ranked and all(
        a.basis == "playbook" and a.basis_reason == "no uplift model" for a in ranked
    )


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
                for action in ACTION_CODES
            }

    service = make_service(n=20, bundle=make_bundle(uplift=Harmful()))
    _, _, scores, _ = service.score([f"acct-{i:04d}" for i in range(20)])
    assert len(scores) == 20
    for score in scores:
        assert score.actions == []  # every action is learned to hurt: none pays
        assert score.next_best_action == "none"
        assert score.none_reason is not None
        assert score.none_reason.startswith("no action is expected to pay: the best,")


def test_no_upsell_pitch_to_an_account_at_high_or_medium_churn_risk_even_when_learned_to_help():
    class PitchHelps(FakeUplift):
        def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
            n = len(X)
            found = super().effects(X)
            found["upsell_offer"] = ActionEffect(
                np.full(n, 0.0),
                np.full(n, 0.01),
                np.full(n, "learned", dtype=object),
                np.full(n, "learned", dtype=object),
                expansion=np.full(n, 0.3),  # learned to bring expansion worth 30% of ARR
            )
            return found

    service = make_service(n=60, bundle=make_bundle(uplift=PitchHelps()))
    _, _, scores, _ = service.score([f"acct-{i:04d}" for i in range(60)])
    risky = [s for s in scores if s.risk_tier in ("high", "medium")]
    low = [s for s in scores if s.risk_tier == "low"]
    assert {s.risk_tier for s in risky} == {"high", "medium"} and low
    assert all("upsell_offer" not in {a.action for a in s.actions} for s in risky)
    assert any(s.next_best_action == "upsell_offer" for s in low)  # at low risk it pays
    for score in scores:  # a reason exactly where nothing is recommended
        assert (score.none_reason is None) == (score.next_best_action != "none")
