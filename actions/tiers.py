"""Risk tiers: the one definition of high, medium and low churn risk.

A model's cut points are chosen on its validation period (`cut_points`): the riskiest
`high_share` of accounts are high risk, the next `medium_share` medium. Training, the
playbook, the policy evaluation and serving all read tiers through `risk_tier(s)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

RiskTier = Literal["high", "medium", "low"]
RISK_TIERS: tuple[RiskTier, ...] = ("high", "medium", "low")


def cut_points(probability: Any, high_share: float, medium_share: float) -> dict[str, float]:
    """Cut points putting `high_share` of accounts in high and the next `medium_share` in medium."""
    p = np.asarray(probability, dtype=float)
    high = float(np.quantile(p, 1 - high_share))
    medium = float(np.quantile(p, 1 - high_share - medium_share))
    return {"high": high, "medium": min(medium, high)}


def risk_tier_cuts(thresholds: Any) -> dict[str, float]:
    """Cut points given as (high, medium) or a mapping, as `{"high": p, "medium": p}`."""
    if isinstance(thresholds, Mapping):
        return {"high": float(thresholds["high"]), "medium": float(thresholds["medium"])}
    high, medium = (float(t) for t in thresholds)
    return {"high": high, "medium": medium}


def risk_tier(probability: float, thresholds: Any) -> RiskTier:
    """`high`, `medium` or `low` for one churn probability (at or above a cut is in its tier)."""
    cuts = risk_tier_cuts(thresholds)
    if probability >= cuts["high"]:
        return "high"
    return "medium" if probability >= cuts["medium"] else "low"


def risk_tiers(probability: Any, thresholds: Any) -> np.ndarray:
    """`risk_tier` of every probability in an array."""
    cuts = risk_tier_cuts(thresholds)
    p = np.asarray(probability, dtype=float)
    return np.where(p >= cuts["high"], "high", np.where(p >= cuts["medium"], "medium", "low"))
