"""Probability calibration of raw model scores, fitted on the validation period only.

The fitted mapping is stored as plain numpy arrays so that applying it at
scoring time is a single `np.interp` (isotonic) or sigmoid (Platt).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression


class Calibrator:
    """Map raw scores (log-odds) to calibrated probabilities.

    Follows the scikit-learn estimator habits: `fit` returns self and learned
    attributes end in `_`.

    Args:
        method: `isotonic` (monotone step function) or `platt` (logistic on the score).
    """

    def __init__(self, method: Literal["isotonic", "platt"] = "isotonic") -> None:
        if method not in ("isotonic", "platt"):
            raise ValueError(f"unknown calibration method {method!r}")
        self.method = method

    def fit(self, raw_score: ArrayLike, outcome: ArrayLike) -> Calibrator:
        """Learn the mapping from validation scores and their 0/1 outcomes."""
        raw = np.asarray(raw_score, dtype=float).ravel()
        y = np.asarray(outcome, dtype=float).ravel()
        if raw.shape != y.shape or raw.size == 0:
            raise ValueError("raw_score and outcome must be non-empty and of equal length")
        if np.unique(y).size < 2:
            raise ValueError("calibration needs both outcomes in the validation period")
        if self.method == "platt":
            logistic = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
            self.slope_ = float(logistic.coef_[0, 0])
            self.intercept_ = float(logistic.intercept_[0])
        else:
            isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
            self.x_ = np.asarray(isotonic.X_thresholds_, dtype=float)
            self.y_ = np.asarray(isotonic.y_thresholds_, dtype=float)
        return self

    def transform(self, raw_score: ArrayLike) -> np.ndarray:
        """Calibrated probabilities in [0, 1] for raw scores."""
        raw = np.asarray(raw_score, dtype=float).ravel()
        if self.method == "platt":
            return 1.0 / (1.0 + np.exp(-(self.slope_ * raw + self.intercept_)))
        return np.interp(raw, self.x_, self.y_)
