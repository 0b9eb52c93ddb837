"""A plan line's words: why this account, why this action, said once and in the right order."""

from __future__ import annotations

from actions.plan_config import load_plan_config
from actions.plan_words import why_line

LEARNED = {
    "action": "health_check",
    "arm": "planned",
    "risk_tier": "medium",
    "churn_probability": 0.36,
    "arr": 172_471.0,
    "days_to_renewal": 162.4,
    "driver": "Latest KPI result: revenue uplift at 59% of target (healthy accounts: 102%).",
    "reason": "Learned from how accounts like this did after the CS team's health check:"
    " churn risk -13.0 pts (+/- 6.2).",
    "basis": "learned",
    "expected_effect": -0.13,
    "saved_arr": 22_333.0,
    "hours": 0.5,
}


def test_a_learned_effect_the_reason_already_gives_is_not_said_again():
    said = why_line(LEARNED, load_plan_config())
    assert said.count("-13.0 pts") == 1  # the fifth audit read it twice in every such line
    assert "Expected to save 22,333 ARR net of its cost (learned from the team's history)." in said
    assert "renewal in 162 days" in said


def test_a_playbook_reason_with_a_learned_value_still_gives_the_effect():
    line = dict(LEARNED, reason="The key users have not used the product for 154 days.")
    said = why_line(line, load_plan_config())
    assert "(learned from the team's history: churn -13.0 pts)" in said


def test_a_growth_ask_leads_with_the_chance_of_expanding_not_a_risk_driver():
    line = dict(
        LEARNED,
        action="upsell_offer",
        risk_tier="low",
        churn_probability=0.09,
        upsell_probability=0.71,
        driver="1 urgent or high-priority ticket open, the oldest for 583 days.",
        reason="The account looks ready to buy more.",
        basis="playbook",
    )
    said = why_line(line, load_plan_config())
    assert said.startswith("This account: 71% chance of expanding within 180 days, low churn")
    assert "ticket" not in said  # an open ticket is no reason to pitch
    risky = why_line(dict(line, action="training"), load_plan_config())
    assert "ticket" in risky and "chance of expanding" not in risky
