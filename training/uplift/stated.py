"""What the CSM is told an action does: history's effect pooled over accounts of its cause.

The effect a CSM reads (`ActionEffect.history`) is history's, not the ranking's. Per
account it is noisy, and the recommended action is the one whose estimate came out best,
so what is stated at it overstates the truth (a winner's curse). Stated instead: the
account's baseline moved by the mean log-odds shift history shows for the action over the
fitting snapshots at medium or high risk with the same most likely diagnosed cause (the
action's mean where fewer than `MIN_GROUP` such snapshots have that cause), or a share
`stated_shrink` of the way back to the account's own shift. Only what is stated changes;
the ranking and the gate keep the per-account effects.

Chosen by a rule written before the runs (notebooks/experiments/stated_shrinkage.py,
docs/results.md "What an action is stated to do"): ARR-weighted error at the recommended
actions, tuning seeds 1-6 7.9 pts against 8.7, untouched 11-18 8.6 against 9.1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import logit

from training.uplift.pooled import sigmoid

MIN_GROUP = 20  # fitting snapshots a cause needs for its own mean


class StatedMean(NamedTuple):
    """One action's mean log-odds shift: over all at-risk fitting rows, and per cause."""

    overall: float
    per_cause: dict[int, float]


def log_odds_shift(baseline: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """The change in churn log-odds that `effect` makes to `baseline`."""
    base = np.clip(baseline, 1e-6, 1 - 1e-6)
    return logit(np.clip(base + effect, 1e-6, 1 - 1e-6)) - logit(base)


def stated_mean(shift: np.ndarray, groups: np.ndarray) -> StatedMean:
    """The mean of `shift`, and per group with at least `MIN_GROUP` rows."""
    per_cause = {}
    for group in np.unique(groups):
        inside = groups == group
        if inside.sum() >= MIN_GROUP:
            per_cause[int(group)] = float(shift[inside].mean())
    return StatedMean(float(shift.mean()), per_cause)


def pooled_statement(
    history: np.ndarray,
    baseline: np.ndarray,
    groups: np.ndarray,
    mean: StatedMean,
    shrink: float,
) -> np.ndarray:
    """`history` with each log-odds shift moved (1 - `shrink`) of the way to its group's mean."""
    target = np.asarray([mean.per_cause.get(int(g), mean.overall) for g in groups], dtype=float)
    moved = target + shrink * (log_odds_shift(baseline, history) - target)
    base = np.clip(baseline, 1e-6, 1 - 1e-6)
    return np.asarray(sigmoid(logit(base) + moved) - base, dtype=float)
