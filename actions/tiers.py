"""Risk tiers: the one definition of high, medium and low churn risk.

A model's cut points are chosen on its validation period (`cut_points`): the riskiest
`high_share` of accounts are high risk, the next `medium_share` medium. Training, the
playbook, the policy evaluation and serving all read tiers through `risk_tier(s)`.

A book of short and long terms gets cut points per term class (`SHORT_TERM_DAYS`). A churn
probability is the chance of not renewing at the next renewal: a month away on a monthly
term, up to a year on an annual one, so the two are different quantities and one set of
cut points starves one class. On a ninth new-user audit's book (40% monthly), cut on the
raw probability, none of 442 monthly accounts was medium or high, although a support storm
made them churn at 30% a month; cut on the risk over a year (1 - (1 - p) ** 12 for monthly
terms; measured, not shipped), 102 of the 105 high-risk accounts were monthly and 3 annual.
Per class, each holds its share of each tier, and a book of one term class is cut exactly
as before. A class with too few validation accounts (`MIN_CLASS_ROWS`) is cut with the
whole book's points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

RiskTier = Literal["high", "medium", "low"]
RISK_TIERS: tuple[RiskTier, ...] = ("high", "medium", "low")

SHORT_TERM_DAYS = 180
"""Terms under this many days (monthly, quarterly) renew every term: their own tier class."""
MIN_CLASS_ROWS = 50
"""Validation rows a term class needs for cut points of its own."""
TERM_COLUMN = "term_length_days"
SHORT = "short_terms_"  # prefix of the short-term class's cut points in a thresholds mapping


def term_days(rows: Any) -> np.ndarray | None:
    """The term length of each row of a feature frame (`term_length_days`), if it has one."""
    columns = getattr(rows, "columns", ())
    return rows[TERM_COLUMN].to_numpy(dtype=float) if TERM_COLUMN in columns else None


def _short(term_days: Any) -> np.ndarray:
    """True where a term is known and under `SHORT_TERM_DAYS`."""
    days = np.asarray(term_days, dtype=float)
    return np.isfinite(days) & (days < SHORT_TERM_DAYS)


def _cuts(p: np.ndarray, high_share: float, medium_share: float) -> dict[str, float]:
    high = float(np.quantile(p, 1 - high_share))
    medium = float(np.quantile(p, 1 - high_share - medium_share))
    return {"high": high, "medium": min(medium, high)}


def cut_points(
    probability: Any, high_share: float, medium_share: float, term_days: Any = None
) -> dict[str, float]:
    """Cut points putting `high_share` of accounts in high and the next `medium_share` in medium.

    With `term_days` (one per probability) and at least `MIN_CLASS_ROWS` accounts on each
    side of `SHORT_TERM_DAYS`, each term class gets its own: `high` and `medium` for the
    long terms, `short_terms_high` and `short_terms_medium` for the short ones.
    """
    p = np.asarray(probability, dtype=float)
    if term_days is not None:
        short = _short(term_days)
        if min(short.sum(), (~short).sum()) >= MIN_CLASS_ROWS:
            long_cuts = _cuts(p[~short], high_share, medium_share)
            short_cuts = _cuts(p[short], high_share, medium_share)
            return {**long_cuts, **{SHORT + k: v for k, v in short_cuts.items()}}
    return _cuts(p, high_share, medium_share)


def risk_tier_cuts(thresholds: Any, short_term: bool = False) -> dict[str, float]:
    """Cut points given as (high, medium) or a mapping, as `{"high": p, "medium": p}`.

    `short_term`: the short-term class's cut points where the mapping has them.
    """
    if isinstance(thresholds, Mapping):
        prefix = SHORT if short_term and SHORT + "high" in thresholds else ""
        return {
            "high": float(thresholds[prefix + "high"]),
            "medium": float(thresholds[prefix + "medium"]),
        }
    high, medium = (float(t) for t in thresholds)
    return {"high": high, "medium": medium}


def tier_thresholds(thresholds: Any) -> dict[str, float]:
    """Every cut point of `thresholds` by name: `high`, `medium` and any term class's own."""
    if isinstance(thresholds, Mapping):
        return {str(name): float(value) for name, value in thresholds.items()}
    return risk_tier_cuts(thresholds)


def risk_tier(probability: float, thresholds: Any, term_days: float | None = None) -> RiskTier:
    """`high`, `medium` or `low` for one churn probability (at or above a cut is in its tier).

    `term_days`: the account's term length, which picks its class's cut points.
    """
    short = term_days is not None and bool(_short(term_days))
    cuts = risk_tier_cuts(thresholds, short)
    if probability >= cuts["high"]:
        return "high"
    return "medium" if probability >= cuts["medium"] else "low"


def risk_tiers(probability: Any, thresholds: Any, term_days: Any = None) -> np.ndarray:
    """`risk_tier` of every probability in an array (`term_days`: one per probability)."""
    p = np.asarray(probability, dtype=float)
    short = np.zeros(len(p), dtype=bool) if term_days is None else _short(term_days)
    long_cuts, short_cuts = risk_tier_cuts(thresholds), risk_tier_cuts(thresholds, True)
    high = np.where(short, short_cuts["high"], long_cuts["high"])
    medium = np.where(short, short_cuts["medium"], long_cuts["medium"])
    return np.where(p >= high, "high", np.where(p >= medium, "medium", "low"))
