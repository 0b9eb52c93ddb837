"""econml's forest doubly robust learner, a well-kept library's candidate (`econml_forest_dr`).

Per action, `econml.dr.ForestDRLearner`: cross-fitted LightGBM propensity and churn models
(folds keep an account's snapshots together), DR pseudo-outcomes, and an honest
generalized random forest on them whose `effect_inference` gives each account's standard
error (the bootstrap of little bags), which the ranking's confidence bound uses as it uses
the pooled learner's bagged spread. The forest cannot take missing values, so features are
filled with the training medians (a feature missing everywhere with 0) and the cause
reader's probabilities, when given, are appended to them as effect modifiers.

Measured against the pooled learner on the protocol's worlds (docs/results.md, "Learners
compared"); the pooled learner stays the default.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lightgbm import LGBMClassifier

from training.uplift.config import UpliftConfig

TREES = 200  # a multiple of econml's subforest_size (4)


class ForestEffect:
    """One action's fitted `ForestDRLearner` and the medians that fill its features."""

    def __init__(self, estimator: Any, medians: np.ndarray) -> None:
        self.estimator = estimator
        self.medians = medians

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Effect on churn probability per row, and its standard error."""
        filled = fill(X, self.medians)
        inference = self.estimator.effect_inference(filled)
        return (
            np.asarray(inference.point_estimate, dtype=float).ravel(),
            np.asarray(inference.stderr, dtype=float).ravel(),
        )


def medians_of(X: np.ndarray) -> np.ndarray:
    """Column medians ignoring NaN; 0 for a column with no value."""
    with np.errstate(all="ignore"):
        found = np.nanmedian(np.where(np.isnan(X).all(axis=0), 0.0, X), axis=0)
    return np.nan_to_num(found, nan=0.0)


def fill(X: np.ndarray, medians: np.ndarray) -> np.ndarray:
    """`X` with each NaN replaced by its column's median."""
    return np.where(np.isnan(X), medians, X)


def fit_forest_dr(
    X: np.ndarray,
    treated: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    config: UpliftConfig,
    seed: int,
) -> ForestEffect:
    """Fit one action's forest DR learner on snapshots, whether it was done, and churn."""
    from econml.dr import ForestDRLearner

    params = config.nuisance.model_dump()

    def classifier(offset: int) -> LGBMClassifier:
        return LGBMClassifier(**params, random_state=seed + offset, n_jobs=1, verbose=-1)

    medians = medians_of(X)
    estimator = ForestDRLearner(
        model_regression=classifier(1),
        model_propensity=classifier(2),
        discrete_outcome=True,
        min_propensity=max(config.min_propensity, 1e-3),
        cv=config.cv,
        n_estimators=TREES,
        min_samples_leaf=config.final_min_child_samples // 4,
        max_depth=6,
        n_jobs=1,
        random_state=seed,
    )
    estimator.fit(y, treated, X=fill(X, medians), groups=groups)
    return ForestEffect(estimator, medians)
