"""The playbook answers the cause the CSM reads first: the diagnosis orders its suggestions."""

from __future__ import annotations

import numpy as np

from actions.ranking import ExpectedEffect, contradicts, rank, suggest
from tests.support.rules import one_rule as _rule

FIRED = [
    _rule("support_escalation", 92, "open_tickets_urgent"),
    _rule("key_user_replacement", 85, "days_since_key_user_active"),
    _rule("business_review", 60, "kpi_attainment_latest"),
]


def test_without_a_diagnosis_the_playbook_priority_decides():
    assert [s.action for s in suggest(FIRED)][0] == "support_escalation"


def test_the_first_driver_family_comes_first():
    found = suggest(FIRED, diagnosis=["key_users", "support"])
    assert [s.action for s in found] == [
        "key_user_replacement",
        "support_escalation",
        "business_review",
    ]
    ranked = rank(found, None, None)
    assert ranked[0].action == "key_user_replacement"


def test_a_family_with_no_rule_leaves_the_rest_in_priority_order():
    found = suggest(FIRED, diagnosis=["usage", "outcomes"])
    assert [s.action for s in found] == [
        "business_review",
        "support_escalation",
        "key_user_replacement",
    ]


# The learned next-best-action follows the same diagnosis (issue 18, item 4).
LEARNED_ARR = 100_000.0


def _effect(effect: float, pessimistic: float) -> ExpectedEffect:
    return ExpectedEffect(effect, 0.01, "learned", "learned", pessimistic=pessimistic)


def test_the_first_drivers_remedy_goes_first_when_the_best_is_not_surely_better():
    found = suggest(FIRED, diagnosis=["key_users", "support"])
    effects = {  # support saves 8,000 expected but only 4,000 surely; the key-user call 6,000
        "support_escalation": _effect(-0.08, -0.04),
        "key_user_replacement": _effect(-0.06, -0.03),
    }
    ranked = rank(found, effects, LEARNED_ARR)
    assert [r.action for r in ranked][:2] == ["key_user_replacement", "support_escalation"]
    assert ranked[0].basis == "learned"
    assert not contradicts(ranked, found, effects, LEARNED_ARR)
    # without the diagnosis the larger expected value wins, as before
    assert rank(suggest(FIRED), effects, LEARNED_ARR)[0].action == "support_escalation"


def test_a_surely_better_action_keeps_the_top_and_that_is_no_contradiction():
    found = suggest(FIRED, diagnosis=["key_users", "support"])
    effects = {  # support is sure to save 7,000, more than the key-user call's 3,000 expected
        "support_escalation": _effect(-0.08, -0.07),
        "key_user_replacement": _effect(-0.03, -0.01),
    }
    ranked = rank(found, effects, LEARNED_ARR)
    assert ranked[0].action == "support_escalation"
    assert not contradicts(ranked, found, effects, LEARNED_ARR)


def test_a_remedy_that_does_not_pay_surely_is_not_promoted():
    found = suggest(FIRED, diagnosis=["key_users", "support"])
    effects = {  # the key-user call may do harm at the confidence bound
        "support_escalation": _effect(-0.08, -0.01),
        "key_user_replacement": _effect(-0.05, 0.01),
    }
    ranked = rank(found, effects, LEARNED_ARR)
    assert ranked[0].action == "support_escalation"
    assert "key_user_replacement" not in [r.action for r in ranked]
    assert not contradicts(ranked, found, effects, LEARNED_ARR)


def test_the_old_order_is_what_contradiction_catches():
    found = suggest(FIRED, diagnosis=["key_users", "support"])
    effects = {
        "support_escalation": _effect(-0.08, -0.04),
        "key_user_replacement": _effect(-0.06, -0.03),
    }
    by_value = rank(suggest(FIRED), effects, LEARNED_ARR)  # the ranking blind to the drivers
    assert by_value[0].action == "support_escalation"
    assert contradicts(by_value, found, effects, LEARNED_ARR)


def test_recommendation_and_drivers_never_contradict_over_random_effects():
    rng = np.random.default_rng(18)
    families = ["key_users", "support", "outcomes", "usage"]
    promoted = 0
    for _ in range(2_000):
        diagnosis = list(rng.permutation(families))
        found = suggest(FIRED, diagnosis=diagnosis)
        effects = {}
        for rule in FIRED:
            effect = float(rng.normal(-0.03, 0.04))
            bound = effect + abs(float(rng.normal(0.0, 0.03)))
            effects[rule.action] = ExpectedEffect(
                effect, 0.01, "learned", "learned", cost=float(rng.uniform(0, 2_000)),
                pessimistic=bound,
            )  # fmt: skip
        arr = float(rng.uniform(5_000, 200_000))
        ranked = rank(found, effects, arr)
        assert not contradicts(ranked, found, effects, arr)
        blind = rank(suggest(FIRED), effects, arr)
        promoted += bool(ranked and blind and ranked[0].action != blind[0].action)
    assert promoted > 20  # the rule was exercised, not vacuously true


def test_a_remedy_history_cannot_judge_listed_below_a_learned_action_is_explained():
    """The eighth audit: "a key user left" first, a health check first to do, the key-user
    replacement listed second, and nothing said about why."""
    from actions.ranking import first_driver_note

    found = suggest(FIRED, diagnosis=["key_users", "support"])
    effects = {
        "health_check": _effect(-0.10, -0.05),
        "key_user_replacement": ExpectedEffect(
            None, None, "playbook", "too few comparable cases in history (19 times done)"
        ),
    }
    ranked = rank(found, effects, LEARNED_ARR)
    assert [r.action for r in ranked][:2] == ["health_check", "key_user_replacement"]
    assert first_driver_note(ranked, found) == (
        "The first driver calls for key user replacement (listed 2), which history cannot"
        " judge for this account yet: too few comparable cases in history (19 times done);"
        " health check comes first because its effect, learned from the team's history, pays"
        " at the configured confidence."
    )
    # the remedy first, or no remedy for the first driver among the suggestions: no note
    assert first_driver_note(rank(found, None, None), found) is None
    assert first_driver_note(ranked, suggest(FIRED, diagnosis=["usage"])) is None


def test_a_learned_remedy_below_a_surely_better_action_is_explained():
    from actions.ranking import first_driver_note

    found = suggest(FIRED, diagnosis=["key_users", "support"])
    effects = {  # support surely saves 9,000; the key-user call at most 6,000
        "support_escalation": _effect(-0.12, -0.09),
        "key_user_replacement": _effect(-0.06, -0.03),
    }
    ranked = rank(found, effects, LEARNED_ARR)
    assert ranked[0].action == "support_escalation"
    note = first_driver_note(ranked, found)
    assert note == (
        "The first driver calls for key user replacement (listed 2); support escalation comes"
        " first because its learned value, even at the confidence bound, is above what key"
        " user replacement is expected to save."
    )
