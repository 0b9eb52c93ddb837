"""A one-condition playbook rule, for the ranking tests."""

from __future__ import annotations

from actions.playbook import Rule


def one_rule(action: str, priority: int, feature: str = "nps_latest") -> Rule:
    """A rule recommending `action` at `priority` when `feature` > 0 ("Do <action>.")."""
    return Rule(
        name=f"{action} rule",
        action=action,
        reason=f"Do {action}.",
        priority=priority,
        when=({"feature": feature, "op": ">", "value": 0},),  # type: ignore[arg-type]
    )
