"""The playbook answers the cause the CSM reads first: the diagnosis orders its suggestions."""

from __future__ import annotations

from actions.ranking import rank, suggest
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
