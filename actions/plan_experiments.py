"""What the randomized slice of the plans says each action truly does, once outcomes are known.

For each action, the `planned` and `control` lines come from the same accounts by a coin
flip (`actions.plan_holdouts`), so the difference in their churn at the renewal (planned
minus control: intent to treat, whether or not the CSM did it) is the action's effect on
the accounts the plan picks, free of the CS team's choices.

The unit is one outcome, an account's renewal, not a plan line: an account planned for the
same action in several weeks before one renewal has one churn, not several, and counting
each line as a trial made the intervals too narrow (the fifth audit: 502 lines stood for
332 renewals). Per action, a renewal whose lines all sit in one arm counts once in that arm;
one with lines in both arms (planned one week, held back another) is neither treated nor
untreated throughout, so it is left out and counted. A planned line with probability 1.0
could not have been held back (an account already given the action is not drawn as a
control), so it is not part of the randomized comparison: it neither makes a renewal
planned nor is counted as a line (it still marks a control renewal as contaminated, since
the account got the action before that renewal).

Its 95% interval is Newcombe's hybrid score interval from the two arms' Wilson intervals
on those renewals. It assumes the renewals are independent trials (one account's renewal
does not move another's) and that a renewal's arm is one coin flip with the same odds for
every renewal. The second holds only approximately: an account planned in several weeks
before its renewal is drawn several times, and the renewals drawn control after being
planned are the ones left out, so the larger the contaminated count, the less the planned
and control renewals are a pure coin flip apart. Beside it: the observational estimate (the
uplift model's expected effect on the same renewals, each the mean of its lines, learned
from history where CSMs chose whom to contact). `random` lines are counted; they are the
exploration the uplift learner gets with known probabilities, not part of this comparison.
And how long the slice must grow: the control renewals that, at its split and the planned
renewals' churn, tell the model's effect from none (`controls_needed`). At 5% controls a
5-point effect takes about 644; a CS lead reads why a slice says little yet, and when it will.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy.stats import binomtest, norm

from actions.plan_words import words

Z95 = 1.959963984540054
POWER = 0.8  # the chance a slice of the sized length shows the model's effect (two-sided 5%)
# What identifies one outcome of an action: the account and the renewal its churn is at.
OUTCOME = ("account_id", "renewal_date")


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


def controls_needed(effect: float, planned_churn: float, ratio: float) -> int | None:
    """Control renewals for a two-sided 5% test to tell `effect` from none with power `POWER`.

    The normal approximation with the null's pooled variance and the alternative's own, as
    statsmodels' `samplesize_proportions_2indep_onetail` (a test checks the two agree):
    control churn = `planned_churn` - `effect`, and `ratio` planned renewals per control.
    None where the effect is below a tenth of a point or the split is unknown.
    """
    if abs(effect) < 0.001 or not ratio > 0:
        return None
    planned = min(max(planned_churn, 0.01), 0.99)
    control = min(max(planned - effect, 0.01), 0.99)
    diff = control - planned
    if diff == 0:
        return None
    pooled = (control + planned * ratio) / (1 + ratio)
    null = math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
    alternative = math.sqrt(control * (1 - control) + planned * (1 - planned) / ratio)
    spread = Z95 * null + float(norm.ppf(POWER)) * alternative
    return math.ceil((spread / diff) ** 2)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class ActionExperiment:
    """One action's randomized comparison, counted in renewals whose outcome is known.

    `planned`, `control` and their `_churned` counts are renewals; `planned_lines` and
    `control_lines` the plan lines behind them. `contaminated`: renewals with lines in both
    arms, left out. `certain`: planned lines with probability 1.0 and a known renewal, left
    out. `pending` and `random` count lines (renewal not known yet; arm `random`).
    """

    action: str
    planned: int
    planned_lines: int
    planned_churned: int
    control: int
    control_lines: int
    control_churned: int
    contaminated: int
    certain: int
    pending: int
    random: int
    effect: float | None
    low: float | None
    high: float | None
    observational: float | None

    def sentence(self) -> str:
        """What a CS lead reads: the measured effect next to the model's, or why not yet."""
        name = words(self.action)
        left_out = self._left_out()
        if self.effect is None or self.low is None or self.high is None:
            if self.planned == self.control == self.contaminated == self.certain == 0:
                why = "no renewal of its lines is known yet"
            else:
                missing, other = (
                    ("control", "planned") if self.control == 0 else ("planned", "control")
                )
                present = self.planned + self.control
                why = f"no {missing} renewal to compare yet, {_count(present, other + ' renewal')}"
            return (
                f"{name}: nothing to judge yet ({why}{left_out}; "
                f"still waiting: {_count(self.pending, 'line')})."
            )
        model = (
            "the model has no learned effect for it"
            if self.observational is None
            else f"the model expected {100 * self.observational:+.1f} pts"
        )
        return (
            f"{name}: churn {100 * self.effect:+.1f} pts (95% interval {100 * self.low:+.1f} "
            f"to {100 * self.high:+.1f}) on {_count(self.planned, 'planned renewal')} "
            f"({_count(self.planned_lines, 'line')}) vs "
            f"{_count(self.control, 'control renewal')} ({_count(self.control_lines, 'line')})"
            f"{left_out}; {model}{self._sized()}."
        )

    def controls_needed(self) -> int | None:
        """Control renewals at this split to tell the model's effect from none (`POWER`)."""
        if self.observational is None or not self.planned or not self.control:
            return None
        churn = self.planned_churned / self.planned
        return controls_needed(self.observational, churn, self.planned / self.control)

    def _sized(self) -> str:
        needed = self.controls_needed()
        if needed is None:
            return ""
        so_far = "enough" if self.control >= needed else f"{self.control} so far"
        return (
            f"; telling that from none (95%, power {POWER:.0%}) takes about"
            f" {_count(needed, 'control renewal')} at this split ({so_far})"
        )

    def _left_out(self) -> str:
        parts = []
        if self.contaminated:
            parts.append(f"{_count(self.contaminated, 'renewal')} in both arms")
        if self.certain:
            parts.append(f"{_count(self.certain, 'line')} planned with certainty")
        return f"; left out: {' and '.join(parts)}" if parts else ""


def outcome_units(lines: pd.DataFrame) -> pd.DataFrame:
    """Per action and renewal with a known churn: its arm, churn, lines and model effect.

    `arm` is `planned`, `control`, `both` (contaminated: left out of the comparison) or
    `certain` (only planned lines with probability 1.0: never randomized). `lines` counts
    the unit's randomized lines (planned below probability 1.0, or control).
    """
    compared = lines[lines["churn"].notna() & lines["arm"].isin(("planned", "control"))]
    probability = (
        compared["probability"].astype(float)
        if "probability" in compared
        else pd.Series(float("nan"), index=compared.index)
    )
    certain = (compared["arm"] == "planned") & (probability >= 1.0)
    effect = (
        compared["expected_effect"].astype(float)
        if "expected_effect" in compared
        else pd.Series(float("nan"), index=compared.index)
    )
    flags = pd.DataFrame(
        {
            "action": compared["action"],
            "account_id": compared["account_id"],
            "renewal_date": compared["renewal_date"],
            "churn": compared["churn"].astype(float),
            "control": compared["arm"] == "control",
            "planned": (compared["arm"] == "planned") & ~certain,
            "certain": certain,
            "expected_effect": effect.where(~certain),
        }
    )
    units = flags.groupby(["action", *OUTCOME], dropna=False, sort=True).agg(
        churn=("churn", "max"),
        control=("control", "sum"),
        planned=("planned", "sum"),
        certain=("certain", "sum"),
        expected_effect=("expected_effect", "mean"),
    )
    arm = pd.Series("certain", index=units.index)
    arm[units["planned"] > 0] = "planned"
    arm[units["control"] > 0] = "control"
    arm[(units["control"] > 0) & (units["planned"] + units["certain"] > 0)] = "both"
    units["arm"] = arm
    units["lines"] = units["control"] + units["planned"]
    return units.reset_index()


def measure_actions(lines: pd.DataFrame) -> list[ActionExperiment]:
    """Per action, the randomized effect on churn at the renewal and the model's estimate.

    Args:
        lines: plan lines with `action`, `arm`, `account_id`, `renewal_date` (the renewal
            the line's churn is at: with the account, one outcome) and `churn` (1.0, 0.0, or
            NaN while the renewal is not known yet); optionally `probability` (the arm's:
            planned lines at 1.0 are left out) and `expected_effect` (the uplift model's).
    """
    units = outcome_units(lines)
    result = []
    for action, group in lines.groupby("action", sort=True):
        own = units[units["action"] == action]
        planned = own[own["arm"] == "planned"]
        control = own[own["arm"] == "control"]
        n1, n2 = len(planned), len(control)
        x1, x2 = int(planned["churn"].sum()), int(control["churn"].sum())
        effect = low = high = None
        if n1 and n2:
            effect = x1 / n1 - x2 / n2
            low, high = newcombe(x1, n1, x2, n2)
        observed = pd.concat([planned, control])["expected_effect"].dropna()
        result.append(
            ActionExperiment(
                action=str(action),
                planned=n1,
                planned_lines=int(planned["lines"].sum()),
                planned_churned=x1,
                control=n2,
                control_lines=int(control["lines"].sum()),
                control_churned=x2,
                contaminated=int((own["arm"] == "both").sum()),
                certain=int(own["certain"].sum()),
                pending=int(group["churn"].isna().sum()),
                random=int((group["arm"] == "random").sum()),
                effect=effect,
                low=low,
                high=high,
                observational=float(observed.mean()) if len(observed) else None,
            )
        )
    return result
