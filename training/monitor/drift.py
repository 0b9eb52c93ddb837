"""Drift of today's snapshot from the training reference: PSI, Jensen-Shannon, missing share.

Measured on the reference's quantile bins plus a missing bin (`training.monitor.bins`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from training.monitor.bins import Bins, js_distance, psi
from training.monitor.reference import TrainingReference


def compare(bins: Bins, values: np.ndarray | pd.Series) -> dict[str, float]:
    """PSI, Jensen-Shannon and the missing share of `values` against reference `bins`."""
    then = np.asarray(bins.shares)
    now = bins.shares_of(values)
    return {
        "psi": psi(then, now),
        "js": js_distance(then, now),
        "missing_then": float(then[-1]),
        "missing_now": float(now[-1]),
    }


def feature_drift(
    reference: TrainingReference,
    snapshot: pd.DataFrame,
    feature_names: Sequence[str],
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per feature, sorted by PSI: how far today's snapshot is from the reference.

    Columns: `feature`, `psi`, `js`, `missing_then`, `missing_now`, `natural_psi` (the
    feature's usual month-to-month PSI in the reference) and `psi_month` (PSI of the
    `previous` snapshot, a month earlier, against today's, on the same bins; NaN without).

    Raises:
        MissingFeatures: the snapshot lacks features the model reads.
    """
    absent = [name for name in feature_names if name not in snapshot.columns]
    if absent:
        raise MissingFeatures(absent)
    rows = []
    for name in feature_names:
        bins = reference.features.get(name)
        if bins is None:
            continue
        row = {"feature": name, **compare(bins, snapshot[name])}
        row["natural_psi"] = reference.natural_psi.get(name, 0.0)
        row["psi_month"] = (
            psi(bins.shares_of(previous[name]), bins.shares_of(snapshot[name]))
            if previous is not None and name in previous.columns and len(previous)
            else float("nan")
        )
        rows.append(row)
    columns = ["feature", "psi", "js", "missing_then", "missing_now", "natural_psi", "psi_month"]
    return pd.DataFrame(rows, columns=columns).sort_values(
        "psi", ascending=False, ignore_index=True
    )


def score_drift(reference: TrainingReference, probability: np.ndarray) -> dict[str, float]:
    """How the churn score's distribution moved: PSI, JS, mean then and now."""
    if reference.score is None:
        return {}
    moved = compare(reference.score, probability)
    return {
        "psi": moved["psi"],
        "js": moved["js"],
        "mean_then": reference.score_mean,
        "mean_now": float(np.mean(probability)) if len(probability) else float("nan"),
        "natural_psi": reference.natural_psi.get("score", 0.0),
    }


def tier_mix(tiers: np.ndarray | Sequence[str]) -> dict[str, float]:
    """Share of accounts in each risk tier."""
    shares = pd.Series(np.asarray(tiers, dtype=object)).value_counts(normalize=True)
    return {str(tier): float(share) for tier, share in shares.items()}


def tier_shift(then: Mapping[str, float], now: Mapping[str, float]) -> dict[str, float]:
    """Per tier: the change in its share of accounts (now minus then, in share points)."""
    return {tier: now.get(tier, 0.0) - then.get(tier, 0.0) for tier in sorted({*then, *now})}


class MissingFeatures(KeyError):
    """The source no longer gives features the champion reads."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        super().__init__(
            f"the source no longer has {len(self.names)} feature(s) the champion reads: "
            f"{', '.join(self.names)}; retrain on this source (`make retrain`) or restore them"
        )

    def __str__(self) -> str:
        return str(self.args[0])
