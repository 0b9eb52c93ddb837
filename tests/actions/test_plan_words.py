"""A plan line's words as a CSM reads them (the fifth new-user audit's three complaints).

The effect is given once; a growth ask opens with why it is asked, not with a churn risk
driver; counts read in whole numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from actions.plan_config import plan_config
from actions.plan_words import why_account, why_action, why_arm, why_line
from actions.playbook import Rule
from actions.ranking import ExpectedEffect, rank

HOURS = {"training": 2, "referral_invite": 0.5, "upsell_offer": 1}
CONFIG = plan_config({"csm_hours": {"default": 10}, "hours": HOURS})
RISK = "Days since the CS team last touched the account: 331 days, worse than healthy accounts."
HEALTHY = "Product functions used in the last 30 days: 32 features, better than healthy accounts."
SEATS = "Active users per licensed seat: 95%, better than healthy accounts (73%)."


@dataclass(frozen=True)
class Driver:
    sentence: str
    contribution: float


def _learned_line(action: str, effect: ExpectedEffect, tier: str = "low") -> dict[str, object]:
    """The plan line of `action` as ranking learns it, with no playbook rule behind it."""
    ranked = rank([], {action: effect}, 10_000.0, tier)
    assert [r.action for r in ranked] == [action]
    found = ranked[0]
    return {
        "action": action, "reason": found.reason, "basis": found.basis,
        "expected_effect": found.expected_effect, "saved_arr": found.ranking_saved_arr,
        "expected_saved_arr": found.expected_saved_arr,
        "hours": CONFIG.hours[action], "risk_tier": tier, "churn_probability": 0.3,
    }  # fmt: skip


def test_a_learned_line_gives_its_effect_once() -> None:
    line = _learned_line("training", ExpectedEffect(-0.10, 0.01, "learned", "", cost=50.0))
    words = why_action(line, CONFIG)
    assert re.findall(r"[+-]?\d+(?:\.\d+)? pts", words) == ["-10.0 pts"], words
    assert "how accounts like this did after the CS team's training" in words


def test_a_learned_line_states_what_history_shows_and_what_it_was_chosen_at() -> None:
    cleared = ExpectedEffect(-0.10, 0.01, "learned", "", cost=50.0, history=-0.04)
    words = why_action(_learned_line("training", cleared), CONFIG)
    assert "Expected to save 350 ARR net of its cost" in words, words
    assert re.findall(r"[+-]?\d+(?:\.\d+)? pts", words) == ["-4.0 pts"], words
    assert "chosen at 950, allowing for CSMs acting on accounts at more risk" in words, words
    # history alone shows no saving: the line says so instead of a negative saving
    doubtful = ExpectedEffect(-0.10, 0.01, "learned", "", cost=50.0, history=0.01)
    words = why_action(_learned_line("training", doubtful), CONFIG)
    assert "Expected to save" not in words and "-150" not in words, words
    assert "History alone shows it saving no ARR net of its cost (churn +1.0 pts" in words
    assert "chosen at 950" in words, words
    # chosen at what is stated (plan.yaml's default `choose_at`): one value, said once
    for effect in (cleared, doubtful):  # the second: a random line history expects nothing of
        line = _learned_line("training", effect)
        line["saved_arr"] = line["expected_saved_arr"]
        words = why_action(line, CONFIG)
        assert "chosen at" not in words and words.endswith("accounts like this).") == (
            effect is doubtful
        ), words


def test_a_learned_growth_ask_is_worth_its_value_with_its_effect_once() -> None:
    """Valued on expansion: its churn effect alone (+0.5 pts) is not what it saves."""
    gain = ExpectedEffect(0.005, 0.01, "learned", "", cost=10.0, expansion=0.05)
    words = why_action(_learned_line("referral_invite", gain), CONFIG)
    assert words.count("pts") == 1 and "Expected to be worth 440 ARR" in words, words


def test_a_growth_ask_opens_with_its_growth_signal_not_a_risk_driver() -> None:
    from actions.plan_words import account_drivers

    account = [Driver(RISK, 0.4), Driver(HEALTHY, -0.2)]
    lead, caution = account_drivers("upsell_offer", [], account)  # a rule on the upsell score
    assert (lead, caution) == (HEALTHY, RISK)
    assert account_drivers("upsell_offer", [Driver(SEATS, -0.1)], account) == (SEATS, RISK)
    assert account_drivers("referral_invite", [], [Driver(RISK, 0.4)]) == ("", RISK)
    # what raises the upsell score comes before a healthy churn driver (tenth audit)
    assert account_drivers("upsell_offer", [], account, [Driver(SEATS, 1.2)]) == (SEATS, RISK)
    line = {
        "action": "upsell_offer", "upsell_probability": 0.62, "risk_tier": "low",
        "churn_probability": 0.09, "arr": 37_630.0, "days_to_renewal": 49,
        "driver": lead, "caution": caution,
    }  # fmt: skip
    words = why_account(line)
    assert words.startswith("This account: a 62% chance of buying more, low churn risk (9%)")
    opening = words.split(" days. ", 1)[1]
    assert opening.startswith(HEALTHY.rstrip("."))  # the risk comes after, as a caution
    assert f"Keep in mind: {RISK}" in words


def test_a_risk_line_opens_with_the_account_lead_driver_and_no_chance_of_buying() -> None:
    from actions.plan_words import account_drivers

    account = [Driver(RISK, 0.4), Driver(HEALTHY, -0.2)]
    assert account_drivers("health_check", [], account) == (RISK, "")
    words = why_account(
        {"action": "health_check", "upsell_probability": 0.62, "risk_tier": "medium",
         "churn_probability": 0.3, "driver": RISK}
    )  # fmt: skip
    assert words == f"This account: medium churn risk (30%). {RISK}"


def test_a_playbook_reason_and_a_driver_read_days_in_whole_numbers() -> None:
    rule = Rule.model_validate(
        {"name": "quiet", "action": "health_check", "priority": 10,
         "when": [{"feature": "days_since_touchpoint", "op": ">", "value": 45}],
         "reason": "No contact for {days_since_touchpoint}."}
    )  # fmt: skip
    assert rule.words({"days_since_touchpoint": 58.5}) == "No contact for 58 days."
    assert rule.words({"days_since_touchpoint": 96.8}) == "No contact for 97 days."


def test_a_control_upsell_line_reads_an_upsell_offer() -> None:
    line = {"action": "upsell_offer", "arm": "control", "probability": 0.05}
    assert "what an upsell offer truly does" in why_arm(line)
    whole = why_line({**line, "reason": "Ready to buy more.", "saved_arr": 900.0}, CONFIG)
    assert "An upsell offer: Ready to buy more." in whole


def test_a_random_line_says_why_without_its_tiny_chance() -> None:
    # Thirteenth audit: "Assigned at random (chance 0.015%)" meant nothing to a CSM
    words = why_arm({"action": "training", "arm": "random", "probability": 0.00015})
    assert words.startswith("Picked at random, not by the models: do it")
    assert "%" not in words


@pytest.mark.parametrize(("currency", "symbol"), [(None, ""), ("EUR", "€")])
def test_a_plan_lines_money_reads_in_the_currency_set(currency: str | None, symbol: str) -> None:
    """A new-user audit set RETAIN_CURRENCY=EUR and read "ARR 310,748" in 95 plan lines: the
    reasons wrote money past `features.units.money`. Unset, they read as before."""
    from features.units import use_currency

    use_currency(currency)
    cleared = ExpectedEffect(-0.10, 0.01, "learned", "", cost=50.0, history=-0.04)
    line = _learned_line("training", cleared) | {"arr": 310_748.4}
    assert f"low churn risk (30%), ARR {symbol}310,748." in why_account(line), why_account(line)
    words = why_action(line, CONFIG)
    assert f"Expected to save {symbol}350 ARR net of its cost" in words, words
    assert f"chosen at {symbol}950, allowing for CSMs" in words, words
    gain = ExpectedEffect(0.005, 0.01, "learned", "", cost=10.0, expansion=0.05)
    ask = _learned_line("referral_invite", gain) | {"expansion_arr": 500.0}
    words = why_action(ask, CONFIG)
    assert f"worth {symbol}440 ARR net of its cost ({symbol}500 of it expected expansion;" in words
    assert ("€" in words) == (currency == "EUR"), words
