"""Why a plan line is there, in words a CSM reads: this account, this action, this arm."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pandas as pd

from actions.plan_config import PlanConfig
from actions.ranking import GROWTH_ASKS
from features.units import money
from features.words import with_article


class Driver(Protocol):
    """A driver as scoring gives it: its sentence and its part in the churn score."""

    @property
    def sentence(self) -> str: ...

    @property
    def contribution(self) -> float: ...


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def words(action: str) -> str:
    """An action code as words: `business_review` -> `business review`."""
    return action.replace("_", " ")


def account_drivers(
    action: str,
    triggers: Iterable[Driver],
    account: Iterable[Driver],
    growth: Iterable[Driver] = (),
) -> tuple[str, str]:
    """The driver sentences of "why this account": (the lead, a caution or "").

    The lead is the action's trigger, or without one (a rule on the upsell score, a
    learned action) the account's lead driver; for a growth ask what raises its upsell
    score (`growth`, the score's `upsell_drivers`, given for an upsell offer), else a
    driver that lowers the churn risk, and its strongest risk driver becomes the caution.
    A growth ask is made because the account is healthy and growing: an upsell line that
    opened with a risk driver ("the oldest ticket is 370 days old") argued against the ask
    it explained (fifth new-user audit), yet the CSM should still know of it before asking;
    and one that opened with "The account looks ready to buy more." said nothing the score
    did not (tenth audit).
    """
    triggers, account = list(triggers), list(account)
    if action not in GROWTH_ASKS:
        reasons = [*triggers, *account]
        return (reasons[0].sentence if reasons else "", "")
    lead = [*triggers, *growth, *(d for d in account if d.contribution < 0)]
    risks = [d.sentence for d in account if d.contribution > 0]
    first = lead[0].sentence if lead else ""
    return first, next((r for r in risks if r != first), "")


def why_account(line: Mapping[str, Any]) -> str:
    """Why this account: churn risk, ARR, renewal and drivers (`account_drivers`), as known.

    A growth ask opens with the account's chance of buying more: that, not its churn
    risk, is why it is asked.
    """
    parts = []
    upsell = _number(line.get("upsell_probability"))
    if line.get("action") in GROWTH_ASKS and upsell is not None:
        parts.append(f"a {upsell:.0%} chance of buying more")
    risk = f"{line.get('risk_tier', 'unknown')} churn risk"
    churn = _number(line.get("churn_probability"))
    parts.append(risk if churn is None else f"{risk} ({churn:.0%})")
    arr = _number(line.get("arr"))
    if arr is not None:
        parts.append(f"ARR {money(arr)}")
    days = _number(line.get("days_to_renewal"))
    if days is not None:
        parts.append(f"renewal in {days:.0f} days")
    sentence = "This account: " + ", ".join(parts) + "."
    driver, caution = line.get("driver"), line.get("caution")
    if isinstance(driver, str) and driver:
        sentence += f" {driver.rstrip('.')}."
    if isinstance(caution, str) and caution:
        sentence += f" Keep in mind: {caution.rstrip('.')}."
    return sentence


def why_action(line: Mapping[str, Any], config: PlanConfig) -> str:
    """Why this action: the playbook's or the model's reason, then its value and effect.

    The value and effect given are the stated ones (history alone: `expected_saved_arr`,
    `expected_effect`); a learned line chosen at another value (`saved_arr`: the ranking's,
    with the hidden selection CSMs make taken out, under `choose_at: ranking`) also says
    what it was chosen at, and a line history alone expects nothing of (a random line, or
    one chosen at the ranking's value) says so. The effect is given here once; the reason
    says in words why (a learned action's reason leaves the figure out:
    `actions.ranking.effect_sentence`). A growth ask is
    "worth" its value rather than saving it, since most of it is expected expansion.
    """
    action = words(str(line["action"]))
    reason = str(line.get("reason") or "").strip()
    ranked = _number(line.get("saved_arr")) or 0.0
    stated = _number(line.get("expected_saved_arr"))
    saved = ranked if stated is None else stated
    effect = _number(line.get("expected_effect"))
    hours = _number(line.get("hours"))
    time = f" in {hours:g} h" if hours is not None else ""
    learned = line.get("basis") == "learned" and effect is not None
    points = 100 * (effect or 0.0)
    chosen = (
        f"chosen at {money(ranked)}, allowing for CSMs acting on accounts at more risk than the"
        " data shows"
    )
    other = abs(ranked - saved) >= 1  # chosen at the ranking's value (`choose_at`)
    if learned and saved <= 0:
        return (
            f"{with_article(action).capitalize()}{time}: {reason.rstrip('.')}. History alone"
            f" shows it saving no ARR net of its cost (churn {points:+.1f} pts after it for"
            " accounts like this)" + (f"; {chosen}." if other else ".")
        )
    if learned:
        basis = f"learned from the team's history: churn {points:+.1f} pts"
        if other:
            basis += f"; {chosen}"
    else:
        assumed = config.assumed_for(_number(line.get("churn_probability")), line["action"])
        basis = (
            f"assumed {100 * assumed:.3g} pts less churn: "
            "history cannot judge it for this account yet"
            if assumed
            else "no churn saving assumed for a growth ask history cannot judge yet"
        )
    expansion = _number(line.get("expansion_arr"))
    if expansion:
        basis = f"{money(expansion)} of it expected expansion; {basis}"
    value = "be worth" if line["action"] in GROWTH_ASKS else "save"
    return (
        f"{with_article(action).capitalize()}{time}: {reason.rstrip('.')}. "
        f"Expected to {value} {money(saved)} ARR net of its cost ({basis})."
    )


def why_arm(line: Mapping[str, Any]) -> str:
    """What the randomized arms mean for the CSM ('' for an ordinary planned line)."""
    action = words(str(line["action"]))
    probability = _number(line.get("probability")) or 0.0
    if line.get("arm") == "control":
        until = line.get("holdout_until")
        when = (
            "this week"
            if until is None or pd.isna(until)
            else f"before the renewal on {pd.Timestamp(until):%-d %b %Y}"
        )
        return (
            f"Held back at random as a control ({probability:.0%} of planned {action}s are): "
            f"do not do it {when}, so the team learns what {with_article(action)} truly does."
        )
    if line.get("arm") == "random":
        return (  # the chance is stored with the line; per account it is tiny and says
            # nothing to a CSM ("chance 0.015%": the thirteenth new-user audit)
            "Picked at random, not by the models: do it, so the team learns what works where"
            " the plan would not look."
        )
    return ""


def why_line(line: Mapping[str, Any], config: PlanConfig) -> str:
    """The whole explanation of one plan line."""
    return " ".join(
        part for part in (why_account(line), why_action(line, config), why_arm(line)) if part
    )
