"""`AccountModel`: the registered model that serving loads, a pyfunc around LightGBM.

Reach it with `mlflow.pyfunc.load_model("models:/retain-churn@champion")
.unwrap_python_model()`. Everything runs on numpy so one-row scoring stays fast.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from actions.tiers import risk_tiers
from training.calibration import Calibrator


class AccountModel(PythonModel):
    """A calibrated LightGBM classifier scoring accounts for one target (churn or upsell).

    Attributes:
        target: `churn` or `upsell`.
        feature_names: the feature columns, in the order the model reads them.
        tier_thresholds: `{"high": p, "medium": p}` probability cut points chosen on the
            validation period (at or above `high` is high risk, at or above `medium` medium).
        healthy_reference: feature -> median among healthy (renewed) training accounts.
        missing_families: feature families with no data at training (e.g. no `tickets`
            table): their features are never shown as drivers nor fire playbook rules.
        models_not_trained: model kind -> the one-line reason it was not trained in the
            same run (e.g. `upsell` on a history too short for its 180-day labels).
        reference: the churn model's `training.monitor.TrainingReference` (what the
            accounts looked like at training, for `retain monitor`); None before it existed.
        cause_reader: the churn model's `training.diagnosis.CauseReader`, which orders the
            drivers by the cause they point to (`training.families`); None without one.
        family_reference: feature -> median among healthy training accounts for every
            feature (the chosen model may read fewer), to word drivers of every family.
        healthy_band: feature -> the middle half of healthy training accounts (their 25th
            and 75th percentiles), every feature: a value inside it is in line with healthy
            peers and never a reason (`training.families.comparison`); empty for models
            trained before it existed (they compare with the median alone).
    """

    # class-level defaults: models pickled before these existed still load
    missing_families: list[str] = []  # noqa: RUF012
    models_not_trained: dict[str, str] = {}  # noqa: RUF012
    reference: Any = None
    cause_reader: Any = None  # training.diagnosis.CauseReader (churn only)
    family_reference: dict[str, float] = {}  # noqa: RUF012
    healthy_band: dict[str, tuple[float, float]] = {}  # noqa: RUF012

    def __init__(
        self,
        target: str,
        booster: lgb.Booster,
        calibrator: Calibrator,
        feature_names: list[str],
        tier_thresholds: dict[str, float],
        healthy_reference: dict[str, float],
    ) -> None:
        self.target = target
        self.booster = booster
        self.calibrator = calibrator
        self.feature_names = list(feature_names)
        self.tier_thresholds = dict(tier_thresholds)
        self.healthy_reference = dict(healthy_reference)

    def matrix(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The float matrix of feature columns in model order (NaN where unknown)."""
        if isinstance(features, pd.DataFrame):
            missing = [name for name in self.feature_names if name not in features.columns]
            if missing:
                raise KeyError(f"missing feature columns: {missing}")
            return features[self.feature_names].to_numpy(dtype=float, na_value=np.nan)
        matrix = np.asarray(features, dtype=float)
        matrix = matrix.reshape(1, -1) if matrix.ndim == 1 else matrix
        if matrix.shape[1] != len(self.feature_names):
            raise ValueError(f"expected {len(self.feature_names)} features, got {matrix.shape[1]}")
        return matrix

    def raw_score(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Uncalibrated scores in log-odds space (what the contributions add up to)."""
        return np.asarray(
            self.booster.predict(self.matrix(features), raw_score=True, num_threads=1)
        )

    def predict_proba(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Calibrated probabilities of the target (e.g. not renewing), one per row."""
        return self.calibrator.transform(self.raw_score(features))

    def contributions(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """SHAP contributions, shape (n, k + 1); the last column is the base value.

        Each row sums to `raw_score` of that row.
        """
        return np.asarray(
            self.booster.predict(self.matrix(features), pred_contrib=True, num_threads=1)
        )

    def tier(self, probability: np.ndarray) -> np.ndarray:
        """`high`, `medium` or `low` for each probability, by the validation cut points."""
        return risk_tiers(probability, self.tier_thresholds)

    def proba_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from raw scores (e.g. the sum of the contributions)."""
        return self.calibrator.transform(np.asarray(raw, dtype=float))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> np.ndarray:
        """Pyfunc entry point: calibrated probabilities for a DataFrame of feature columns."""
        return self.predict_proba(model_input)


def healthy_reference(frame: pd.DataFrame, feature_names: list[str]) -> dict[str, float]:
    """Median of each feature among healthy accounts (the rows given: renewed, churn == 0)."""
    medians = frame[feature_names].median(numeric_only=True)
    return {name: float(medians.get(name, np.nan)) for name in feature_names}


def healthy_band(frame: pd.DataFrame, feature_names: list[str]) -> dict[str, tuple[float, float]]:
    """What healthy accounts look like per feature: the middle half (25th-75th percentile).

    Where the two quartiles are equal, the band has no width and says nothing about how far
    healthy accounts stray, so it is the 10th-90th percentile instead: the eighth audit
    read "Days since anyone used the product: 1 day, worse than healthy accounts (0 days)"
    as a reason for risk. Chosen by a rule written before the runs
    (`notebooks/experiments/band_width.py`): the drivers' agreement with the true causes
    held on structure seeds 201-224 and fresh 465-488, where the 10th-90th percentile
    everywhere lost a third of it. Features no healthy account has a value for are left out.
    """
    numeric = frame[feature_names].apply(pd.to_numeric, errors="coerce")
    quartiles = numeric.quantile([0.25, 0.75])
    deciles = numeric.quantile([0.10, 0.90])
    found = {}
    for name in feature_names:
        low, high = (float(v) for v in quartiles[name])
        if low == high:
            low, high = (float(v) for v in deciles[name])
        if not (np.isnan(low) or np.isnan(high)):
            found[name] = (low, high)
    return found
