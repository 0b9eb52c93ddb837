"""Ground the learned effects in the plans' randomized slice (issue 12).

The uplift learner reads history where CSMs chose whom to contact, so its effects carry the
CS team's bias (accounts contacted for reasons the features do not show look as if the
action hurt). The weekly plan's `control` lines are the exception: of the accounts the plan
picked for an action, a coin flip with a stored probability held some back. Among those
lines, planned minus control churn at the renewal estimates what the action does to the
accounts the plan picks, free of that bias.

`randomized_effects` estimates it per action from lines with a known renewal, weighing each
line by one over its stored assignment probability (so weeks planned with different shares
count as the coin flips they were), and divides by the share of planned lines the team did
(intent to treat -> effect of doing it). `shifts` compares it with what the model expected
for the same lines when they were planned and moves each action's learned effects by the
difference, shrunk by its uncertainty against a prior on the model's bias (`prior_sd`):
with few lines the model stands, with many the randomized slice decides. `ground` applies
the shifts to a model's effects. `random` lines are not used: the accounts not drawn for
them are not stored, so they have no comparison group here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from training.uplift.model import ActionEffect

PRIOR_SD = 0.10
"""Prior spread of the learned average effect's bias, in churn probability (10 pts): the
learned minus true average effect per action measured on tuning structure seeds 1-3 ran
from -15 to +22 pts."""
MIN_LINES = 5  # planned and control lines with a known renewal an action needs


@dataclass(frozen=True)
class RandomizedEffect:
    """One action's effect measured on the randomized slice, and what the model expected."""

    action: str
    planned: int
    control: int
    done_share: float
    effect: float  # change in churn probability when the action is done (negative helps)
    se: float
    expected: float  # the model's mean expected effect on the same lines when planned


def randomized_effects(lines: pd.DataFrame, min_lines: int = MIN_LINES) -> list[RandomizedEffect]:
    """Per action, the randomized slice's effect of doing it (see the module docstring).

    Args:
        lines: plan lines with `action`, `arm` (`planned`, `control`, `random`), `probability`
            (the stored assignment probability of the line's arm), `churn` (1.0 / 0.0, NaN
            while the renewal is unknown), `done` (the team did it) and `expected_effect`
            (the model's, when the line was planned; NaN where it had none).
        min_lines: planned and control lines with a known renewal an action needs.
    """
    found = []
    known = lines[lines["churn"].notna() & lines["arm"].isin(["planned", "control"])]
    for action, group in known.groupby("action", sort=True):
        planned = group[group["arm"] == "planned"]
        control = group[group["arm"] == "control"]
        if len(planned) < min_lines or len(control) < min_lines:
            continue
        p1, n1 = _weighted_share(planned)
        p0, n0 = _weighted_share(control)
        done = float(planned["done"].mean())
        if done <= 0.0:
            continue
        se = float(np.sqrt(_variance(p1, n1) + _variance(p0, n0)))
        expected = group["expected_effect"].astype(float)
        found.append(
            RandomizedEffect(
                action=str(action),
                planned=len(planned),
                control=len(control),
                done_share=done,
                effect=(p1 - p0) / done,
                se=se / done,
                expected=float(expected.mean()) if expected.notna().any() else float("nan"),
            )
        )
    return found


def shifts(found: list[RandomizedEffect], prior_sd: float = PRIOR_SD) -> dict[str, float]:
    """Action -> how far to move its learned effects: (measured - expected), shrunk."""
    out = {}
    for measured in found:
        if not np.isfinite(measured.expected):
            continue
        weight = prior_sd**2 / (prior_sd**2 + measured.se**2)
        out[measured.action] = weight * (measured.effect - measured.expected)
    return out


def ground(effects: Mapping[str, ActionEffect], moved: Mapping[str, float]) -> dict[str, Any]:
    """The effects with each action's learned ones moved by `moved[action]` (bounds too)."""
    out: dict[str, Any] = dict(effects)
    for action, shift in moved.items():
        found = effects.get(action)
        if found is None:
            continue
        learned = np.asarray(found.basis) == "learned"
        out[action] = found._replace(
            effect=np.where(learned, np.asarray(found.effect, dtype=float) + shift, found.effect),
            pessimistic=_moved(found.pessimistic, learned, shift),
            pessimistic_suggested=_moved(found.pessimistic_suggested, learned, shift),
        )
    return out


def _moved(values: np.ndarray | None, learned: np.ndarray, shift: float) -> np.ndarray | None:
    if values is None:
        return None
    return np.where(learned, np.asarray(values, dtype=float) + shift, values)


def _weighted_share(lines: pd.DataFrame) -> tuple[float, float]:
    """Churn share weighted by 1 / assignment probability, and Kish's effective count."""
    weight = 1.0 / lines["probability"].astype(float).clip(lower=1e-6).to_numpy()
    churn = lines["churn"].astype(float).to_numpy()
    share = float((weight * churn).sum() / weight.sum())
    return share, float(weight.sum() ** 2 / (weight**2).sum())


def _variance(share: float, count: float) -> float:
    """A share's sampling variance, kept off zero (a share of 0 or 1 is not certain)."""
    smoothed = (share * count + 0.5) / (count + 1.0)
    return smoothed * (1.0 - smoothed) / count
