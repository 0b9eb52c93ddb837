"""Baselines reported beside the model, on the same test period.

* a logistic regression on the same features (imputation + scaling pipeline; features
  with no observed value in training are left out);
* a plain LightGBM, unconstrained, on a small usage-and-contract feature set
  (`SIMPLE_FEATURES`) that any company's export supports: what a data scientist would
  try first, so the model must not lose to it;
* a hand-built health score of the kind CS teams keep in a spreadsheet: a weighted
  usage / support / NPS / contract-and-outcomes scorecard of named features, each
  scored 0-100 by its percentile among training accounts, healthy direction taken
  from `features.definitions`. Its 0-100 score is mapped to a probability by Platt
  scaling on the validation period, so its metrics read like the model's.
"""

from __future__ import annotations

from collections.abc import Iterable

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


# Usage and contract facts every product and billing system has: 16 features.
SIMPLE_FEATURES: tuple[str, ...] = (
    "events_30d",
    "active_users_30d",
    "active_days_30d",
    "events_change_30d",
    "active_users_change_30d",
    "days_since_last_activity",
    "features_used_30d",
    "value_events_30d",
    "licensed_users",
    "seat_utilization_30d",
    "active_user_share_30d",
    "contract_arr",
    "contract_seats",
    "tenure_days",
    "days_to_renewal",
    "term_length_days",
)


class LogisticBaseline:
    """Median imputation (with missing-value flags), scaling and a logistic regression.

    Features with no observed value in the training rows (a table the company does not
    have) are left out instead of imputed from nothing.
    """

    def __init__(self, feature_names: list[str], target: str) -> None:
        self.feature_names = list(feature_names)
        self.target = target

    def fit(self, train: pd.DataFrame) -> LogisticBaseline:
        """Fit on the training rows."""
        observed = train[self.feature_names].notna().any()
        self.used_ = [name for name in self.feature_names if observed[name]]
        self.pipeline_: Pipeline = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(C=0.5, max_iter=2000),
        ).fit(train[self.used_].astype(float), train[self.target].to_numpy(dtype=float))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of the target per row."""
        return np.asarray(self.pipeline_.predict_proba(frame[self.used_].astype(float))[:, 1])


def logistic_baseline(train: pd.DataFrame, feature_names: list[str], target: str) -> Pipeline:
    """The fitted logistic pipeline on the observed features (`LogisticBaseline`)."""
    return LogisticBaseline(feature_names, target).fit(train).pipeline_


def simple_features(columns: Iterable[str]) -> list[str]:
    """The `SIMPLE_FEATURES` present in `columns`, in their order."""
    present = set(columns)
    return [name for name in SIMPLE_FEATURES if name in present]


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
