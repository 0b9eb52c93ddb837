"""Why a plan line is there, in words a CSM reads: this account, this action, this arm."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from actions.plan_config import PlanConfig
from actions.ranking import GROWTH_ASKS


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def words(action: str) -> str:
    """An action code as words: `business_review` -> `business review`."""
    return action.replace("_", " ")


def why_account(line: Mapping[str, Any]) -> str:
    """Why this account: its churn risk, ARR, renewal and top driver, as far as known.

    A growth ask (`actions.ranking.GROWTH_ASKS`) is there because the account looks ready to
    grow, not because of a risk: its line leads with the chance of expanding and names no
    risk driver (the fifth audit read an upsell offer opening with an open ticket).
    """
    parts = [f"{line.get('risk_tier', 'unknown')} churn risk"]
    churn = _number(line.get("churn_probability"))
    if churn is not None:
        parts[0] += f" ({churn:.0%})"
    growth = str(line.get("action")) in GROWTH_ASKS
    upsell = _number(line.get("upsell_probability"))
    if growth and upsell is not None:
        parts.insert(0, f"{upsell:.0%} chance of expanding within 180 days")
    arr = _number(line.get("arr"))
    if arr is not None:
        parts.append(f"ARR {arr:,.0f}")
    days = _number(line.get("days_to_renewal"))
    if days is not None:
        parts.append(f"renewal in {days:.0f} days")
    sentence = "This account: " + ", ".join(parts) + "."
    driver = line.get("driver")
    if isinstance(driver, str) and driver and not growth:
        sentence += f" {driver.rstrip('.')}."
    return sentence


def why_action(line: Mapping[str, Any], config: PlanConfig) -> str:
    """Why this action: the playbook's or the model's reason and what it is worth."""
    action = words(str(line["action"]))
    reason = str(line.get("reason") or "").strip()
    saved = _number(line.get("saved_arr")) or 0.0
    effect = _number(line.get("expected_effect"))
    if line.get("basis") == "learned" and effect is not None:
        basis = "learned from the team's history"
        stated = f"{100 * effect:+.1f} pts"
        if stated not in reason:  # the learner's own reason already gives it with its +/-
            basis += f": churn {stated}"
    else:
        assumed = config.assumed_for(_number(line.get("churn_probability")))
        basis = (
            f"assumed {100 * assumed:.3g} pts less churn: "
            "history cannot judge it for this account yet"
        )
    hours = _number(line.get("hours"))
    time = f" in {hours:g} h" if hours is not None else ""
    expansion = _number(line.get("expansion_arr"))
    if expansion:
        basis += f"; {expansion:,.0f} of it expected expansion"
    article = "An" if action[:1] in "aeiou" else "A"
    return (
        f"{article} {action}{time}: {reason.rstrip('.')}. Expected to save {saved:,.0f} ARR "
        f"net of its cost ({basis})."
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
            f"do not do it {when}, so the team learns what a {action} truly does."
        )
    if line.get("arm") == "random":
        return (
            f"Assigned at random (chance {100 * probability:.2g}%), not by the models: do it, "
            "so the team learns what works where the plan would not look."
        )
    return ""


def why_line(line: Mapping[str, Any], config: PlanConfig) -> str:
    """The whole explanation of one plan line."""
    return " ".join(
        part for part in (why_account(line), why_action(line, config), why_arm(line)) if part
    )
