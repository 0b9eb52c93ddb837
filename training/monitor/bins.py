"""Quantile bins with a missing bin, and the distances between two binnings.

PSI (population stability index): `sum((today - then) * ln(today / then))` over the bins,
shares floored at `FLOOR` so an empty bin counts as rare rather than impossible.
Conventions read it as: below 0.1 stable, 0.1-0.25 moving, above 0.25 shifted.
Jensen-Shannon distance (base 2, 0 = same, 1 = disjoint) on the same bins is bounded, so
it stays readable when a bin empties completely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

BINS = 10  # quantile bins per feature (fewer when values repeat), plus the missing bin


@dataclass(frozen=True)
class Bins:
    """Quantile bins of one measure: interior `edges` and the share in each bin.

    `shares` has `len(edges) + 2` entries: the bins `(-inf, e0)`, `[e0, e1)`, ...,
    `[e_last, inf)`, then the missing values.
    """

    edges: tuple[float, ...]
    shares: tuple[float, ...]

    @property
    def missing_share(self) -> float:
        return self.shares[-1]

    def shares_of(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """The shares of `values` in these bins (same layout as `shares`)."""
        return bin_shares(np.asarray(values, dtype=float), np.asarray(self.edges))


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of `values` in each bin cut at `edges`, then the missing share."""
    counts = np.zeros(len(edges) + 2)
    if len(values) == 0:
        return counts
    known = values[~np.isnan(values)]
    counts[: len(edges) + 1] = np.bincount(
        np.searchsorted(edges, known, side="right"), minlength=len(edges) + 1
    )
    counts[-1] = len(values) - len(known)
    return counts / len(values)


def quantile_bins(values: np.ndarray | pd.Series, bins: int = BINS) -> Bins:
    """Bins cut at the quantiles of the known values (repeated cut points merged)."""
    values = np.asarray(values, dtype=float)
    known = values[~np.isnan(values)]
    if len(known) == 0:
        edges = np.array([])
    else:
        inner = np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1])
        edges = np.unique(np.concatenate([[known.min()], inner]))  # below the minimum: new
    return Bins(tuple(float(e) for e in edges), tuple(float(s) for s in bin_shares(values, edges)))


FLOOR = 1e-4


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index between two share vectors over the same bins."""
    then = np.clip(np.asarray(reference, dtype=float), FLOOR, None)
    now = np.clip(np.asarray(current, dtype=float), FLOOR, None)
    return float(np.sum((now - then) * np.log(now / then)))


def js_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) between two share vectors; 0 when both are empty."""
    if not np.sum(reference) or not np.sum(current):
        return 0.0
    return float(jensenshannon(reference, current, base=2))
