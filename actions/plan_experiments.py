"""What the randomized slice of the plans says each action truly does, once outcomes are known.

For each action, the `planned` and `control` lines come from the same accounts by a coin
flip (`actions.plan_holdouts`), so the difference in their churn at the renewal (planned
minus control: intent to treat, whether or not the CSM did it) is the action's effect on
the accounts the plan picks, free of the CS team's choices. Its 95% interval is Newcombe's
hybrid score interval from the two arms' Wilson intervals. Beside it: the observational
estimate (the uplift model's expected effect on the same lines, learned from history where
CSMs chose whom to contact). `random` lines are counted; they are the exploration the
uplift learner gets with known probabilities, not part of this comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy.stats import binomtest

from actions.plan_words import words

Z95 = 1.959963984540054


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion."""
    ci = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe's 95% interval for p1 - p2 (hybrid score, from two Wilson intervals)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    diff = p1 - p2
    return (
        diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


@dataclass(frozen=True)
class ActionExperiment:
    """One action's randomized comparison (churn shares are of lines whose outcome is known)."""

    action: str
    planned: int
    planned_churned: int
    control: int
    control_churned: int
    pending: int
    random: int
    effect: float | None
    low: float | None
    high: float | None
    observational: float | None

    def sentence(self) -> str:
        """What a CS lead reads: the measured effect next to the model's, or why not yet."""
        name = words(self.action)
        if self.effect is None or self.low is None or self.high is None:
            known = self.planned + self.control
            if known == 0:
                why = "no renewal of its lines is known yet"
            else:
                arm = "control" if self.control == 0 else "planned"
                why = f"no {arm} line has a known renewal yet; {known} lines have one"
            return f"{name}: nothing to judge yet ({why}; still waiting: {self.pending})."
        model = (
            "the model has no learned effect for it"
            if self.observational is None
            else f"the model expected {100 * self.observational:+.1f} pts"
        )
        return (
            f"{name}: churn {100 * self.effect:+.1f} pts (95% interval {100 * self.low:+.1f} "
            f"to {100 * self.high:+.1f}) on {self.planned} planned vs {self.control} control "
            f"lines; {model}."
        )


def measure_actions(lines: pd.DataFrame) -> list[ActionExperiment]:
    """Per action, the randomized effect on churn at the renewal and the model's estimate.

    Args:
        lines: plan lines with `action`, `arm` and `churn` (1.0, 0.0, or NaN while the
            renewal is not known yet), optionally `expected_effect` (the uplift model's).
    """
    result = []
    for action, group in lines.groupby("action", sort=True):
        known = group[group["churn"].notna()]
        planned = known[known["arm"] == "planned"]
        control = known[known["arm"] == "control"]
        effect = low = high = None
        if len(planned) and len(control):
            x1, x2 = int(planned["churn"].sum()), int(control["churn"].sum())
            effect = x1 / len(planned) - x2 / len(control)
            low, high = newcombe(x1, len(planned), x2, len(control))
        compared = pd.concat([planned, control])
        observed = (
            compared["expected_effect"].dropna() if "expected_effect" in compared else pd.Series()
        )
        result.append(
            ActionExperiment(
                action=str(action),
                planned=len(planned),
                planned_churned=int(planned["churn"].sum()),
                control=len(control),
                control_churned=int(control["churn"].sum()),
                pending=int(group["churn"].isna().sum()),
                random=int((group["arm"] == "random").sum()),
                effect=effect,
                low=low,
                high=high,
                observational=float(observed.mean()) if len(observed) else None,
            )
        )
    return result
