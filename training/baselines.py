"""Baselines reported beside the model, on the same test period.

* a logistic regression on the same features (imputation + scaling pipeline);
* a hand-built health score of the kind CS teams keep in a spreadsheet: a weighted
  usage / support / NPS / contract-and-outcomes scorecard of named features, each
  scored 0-100 by its percentile among training accounts, healthy direction taken
  from `features.definitions`. Its 0-100 score is mapped to a probability by Platt
  scaling on the validation period, so its metrics read like the model's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from features.definitions import feature
from training.calibration import Calibrator

# feature -> weight; usage 40%, support 20%, NPS 20%, contract and outcomes 20%.
HEALTH_SCORECARD: dict[str, float] = {
    "active_user_share_30d": 0.15,
    "events_change_30d": 0.10,
    "key_users_active_30d": 0.10,
    "seat_utilization_30d": 0.05,
    "tickets_opened_30d": 0.10,
    "csat_mean_180d": 0.05,
    "oldest_open_ticket_days": 0.05,
    "nps_mean_180d": 0.15,
    "nps_detractor_share_180d": 0.05,
    "kpi_attainment_latest": 0.10,
    "renewals_so_far": 0.05,
    "arr_growth_since_first_term": 0.05,
}


def logistic_baseline(train: pd.DataFrame, feature_names: list[str], target: str) -> Pipeline:
    """Median imputation (with missing-value flags), scaling and a logistic regression."""
    pipeline = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        LogisticRegression(C=0.5, max_iter=2000),
    )
    return pipeline.fit(train[feature_names].astype(float), train[target].to_numpy(dtype=float))


class HealthScore:
    """A weighted 0-100 health scorecard; higher is healthier.

    Args:
        weights: feature name -> weight (the weights are normalised to sum to 1).
    """

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = dict(weights or HEALTH_SCORECARD)

    def fit(self, train: pd.DataFrame) -> HealthScore:
        """Learn each feature's percentile scale from the training accounts."""
        self.quantiles_: dict[str, np.ndarray] = {}
        self.higher_is_healthy_: dict[str, bool] = {}
        for name in self.weights:
            values = train[name].dropna().to_numpy(dtype=float)
            grid = np.quantile(values, np.linspace(0, 1, 101)) if values.size else np.zeros(101)
            self.quantiles_[name] = grid
            self.higher_is_healthy_[name] = feature(name).healthy != "lower"
        return self

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Health 0-100 per row; an unknown value (e.g. no NPS answer) counts as neutral 50."""
        total = sum(self.weights.values())
        health = np.zeros(len(frame))
        for name, weight in self.weights.items():
            values = frame[name].to_numpy(dtype=float, na_value=np.nan)
            grid = self.quantiles_[name]
            # mid-rank percentile, so ties (e.g. many zeros) get the middle of their range
            low = np.searchsorted(grid, values, side="left")
            high = np.searchsorted(grid, values, side="right")
            points = np.clip((low + high) / 2.0 - 0.5, 0, 100)
            if not self.higher_is_healthy_[name]:
                points = 100.0 - points
            health += weight / total * np.where(np.isnan(values), 50.0, points)
        return health


class HealthScoreBaseline:
    """The health score turned into a probability for one target.

    Low health means churn risk; high health means upsell potential. Platt scaling on
    the validation period maps the 0-100 score to a probability.
    """

    def __init__(self, target: str, weights: dict[str, float] | None = None) -> None:
        self.target = target
        self.health = HealthScore(weights)

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame) -> HealthScoreBaseline:
        """Scale percentiles on training rows, calibrate on validation rows."""
        self.health.fit(train)
        self.calibrator_ = Calibrator("platt").fit(
            self._signed(validation), validation[self.target].to_numpy(dtype=float)
        )
        return self

    def _signed(self, frame: pd.DataFrame) -> np.ndarray:
        health = self.health.score(frame) / 10.0
        return -health if self.target == "churn" else health

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of the target per row."""
        return self.calibrator_.transform(self._signed(frame))
