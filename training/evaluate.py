"""Metrics a customer-success leader can read, computed the same way for every model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

METRIC_NAMES: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "ece",
    "top_decile_lift",
    "arr_caught_top10",
)


def expected_calibration_error(outcome: ArrayLike, probability: ArrayLike, bins: int = 10) -> float:
    """Row-weighted mean gap between predicted and observed rates over equal-width bins."""
    y = np.asarray(outcome, dtype=float)
    p = np.asarray(probability, dtype=float)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    error = 0.0
    for b in np.unique(which):
        in_bin = which == b
        error += in_bin.mean() * abs(p[in_bin].mean() - y[in_bin].mean())
    return float(error)


def _riskiest(scores: pd.Series, share: float) -> pd.Series:
    """True for the `share` highest scores (at least one row)."""
    n = max(1, int(round(len(scores) * share)))
    order = np.argsort(-scores.to_numpy(), kind="stable")[:n]
    flag = np.zeros(len(scores), dtype=bool)
    flag[order] = True
    return pd.Series(flag, index=scores.index)


def top_share_flags(as_of: pd.Series, probability: np.ndarray, share: float = 0.10) -> np.ndarray:
    """Flag, within each snapshot date, the `share` of accounts with the highest probability."""
    scores = pd.Series(np.asarray(probability, dtype=float), index=as_of.index)
    flags = scores.groupby(as_of.to_numpy()).transform(lambda s: _riskiest(s, share))
    return flags.to_numpy(dtype=bool)


def evaluate(
    outcome: ArrayLike,
    probability: ArrayLike,
    as_of: pd.Series,
    arr: ArrayLike | None = None,
) -> dict[str, float]:
    """All report metrics of one model on one period.

    Args:
        outcome: 0/1 labels.
        probability: predicted probabilities of the positive outcome.
        as_of: snapshot date per row; "top 10%" is taken within each snapshot date,
            as a CS team would review its riskiest accounts each month, then pooled.
        arr: ARR per row; for churn, the share of churned ARR that sits in the riskiest
            10% of accounts (`arr_caught_top10`).

    Returns:
        roc_auc, pr_auc, brier, ece, top_decile_lift and (when `arr` is given)
        arr_caught_top10.
    """
    y = np.asarray(outcome, dtype=float)
    p = np.asarray(probability, dtype=float)
    both = np.unique(y).size == 2
    top = top_share_flags(as_of.reset_index(drop=True), p)
    base_rate = y.mean()
    metrics = {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "top_decile_lift": float(y[top].mean() / base_rate) if base_rate > 0 else float("nan"),
    }
    if arr is not None:
        lost = np.asarray(arr, dtype=float) * y
        metrics["arr_caught_top10"] = float(lost[top].sum() / lost.sum()) if lost.sum() else 0.0
    return metrics


class WeightedAuc:
    """ROC-AUC of fixed scores under row weights: a bootstrap resample without copying rows.

    A resample that draws a row k times gives the ROC-AUC of the data with that row k
    times, which is the Mann-Whitney statistic with weight k (ties count one half, as in
    the ROC curve's trapezoids, so it equals `roc_auc_score` on the copied rows). The rows
    are sorted once; each resample is then a few passes over the weights. Written here
    because `roc_auc_score` re-validates and re-sorts its input on every call: the
    bootstrap of a training run spent most of its time there (`bench/bench_auc.py`).
    """

    def __init__(self, outcome: np.ndarray, score: np.ndarray) -> None:
        self._order = np.argsort(score, kind="stable")
        ordered = score[self._order]
        self._ties = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # group starts
        self._positive = outcome[self._order] == 1

    def defined(self, weights: np.ndarray) -> bool:
        """Whether the weighted rows hold both outcomes."""
        w = weights[self._order]
        return bool(w[self._positive].any() and w[~self._positive].any())

    def __call__(self, weights: np.ndarray) -> float:
        w = weights[self._order]
        positive = np.add.reduceat(np.where(self._positive, w, 0.0), self._ties)
        negative = np.add.reduceat(np.where(self._positive, 0.0, w), self._ties)
        below = np.cumsum(negative) - negative  # negatives scored lower than each tie group
        pairs = positive.sum() * negative.sum()
        return float((positive * (below + 0.5 * negative)).sum() / pairs)


def paired_auc_gap(
    outcome: ArrayLike,
    probability: ArrayLike,
    other: ArrayLike,
    accounts: ArrayLike,
    draws: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """ROC-AUC of `probability` minus that of `other` on the same rows, and its noise.

    The noise is the standard error of the gap over `draws` bootstrap resamples of
    *accounts* (an account's snapshots share its renewal, so they are drawn together);
    resamples with a single outcome are skipped.

    Returns:
        (gap, standard error); the error is NaN when no resample holds both outcomes.
    """
    y = np.asarray(outcome, dtype=float)
    p, q = np.asarray(probability, dtype=float), np.asarray(other, dtype=float)
    gap = float(roc_auc_score(y, p) - roc_auc_score(y, q))
    codes, groups = pd.factorize(pd.Series(np.asarray(accounts)))
    auc_p, auc_q = WeightedAuc(y, p), WeightedAuc(y, q)
    rng = np.random.default_rng(seed)
    gaps = []
    for _ in range(draws):
        # A resample's rows are the drawn accounts' rows, each as often as it was drawn.
        drawn = np.bincount(rng.integers(0, len(groups), len(groups)), minlength=len(groups))
        weights = drawn[codes].astype(float)
        if not auc_p.defined(weights):
            continue
        gaps.append(auc_p(weights) - auc_q(weights))
    return gap, float(np.std(gaps, ddof=1)) if len(gaps) > 1 else float("nan")
