"""LightGBM with early stopping and a small, bounded hyper-parameter search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from training.config import LightGBMParams, SearchConfig


def positive_weight(outcome: np.ndarray, imbalance: str) -> float:
    """Weight of the rare positive class: 1, sqrt(neg/pos) or neg/pos.

    The weighting distorts raw probabilities; calibration on the validation
    period maps them back.
    """
    positives = float(np.sum(outcome == 1))
    negatives = float(np.sum(outcome == 0))
    if imbalance == "none" or positives == 0:
        return 1.0
    ratio = negatives / positives
    return float(np.sqrt(ratio)) if imbalance == "sqrt" else ratio


@dataclass(frozen=True)
class SearchResult:
    """The chosen booster and how every candidate did on the validation period."""

    booster: lgb.Booster
    params: LightGBMParams
    best_iteration: int
    validation_auc: float
    trials: pd.DataFrame


def churn_monotone_constraints(feature_names: list[str]) -> list[int]:
    """+1 where a higher value is unhealthy, -1 where it is healthy, 0 where neutral."""
    from features.definitions import feature

    sign = {"lower": 1, "higher": -1, "neutral": 0}
    return [sign[feature(name).healthy] for name in feature_names]


def fit_booster(
    train_x: np.ndarray,
    train_y: np.ndarray,
    validation_x: np.ndarray,
    validation_y: np.ndarray,
    params: LightGBMParams,
    search: SearchConfig,
    seed: int,
    monotone: list[int] | None = None,
) -> lgb.Booster:
    """Train one LightGBM classifier, stopping early on validation ROC-AUC."""
    constraints = {"monotone_constraints": monotone} if monotone and any(monotone) else {}
    lgb_params = {
        "objective": "binary",
        "metric": "auc",
        "scale_pos_weight": positive_weight(train_y, search.imbalance),
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 1,  # several threads on a shared 2-core machine are far slower
        "verbosity": -1,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        **params.model_dump(),
        **constraints,
    }
    train_set = lgb.Dataset(train_x, label=train_y, free_raw_data=False)
    validation_set = lgb.Dataset(validation_x, label=validation_y, reference=train_set)
    return lgb.train(
        lgb_params,
        train_set,
        num_boost_round=search.max_rounds,
        valid_sets=[validation_set],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(search.early_stopping_rounds, verbose=False)],
    )


def search_booster(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    feature_names: list[str],
    target: str,
    search: SearchConfig,
    seed: int,
    on_trial: Callable[[int, LightGBMParams, float], None] | None = None,
) -> SearchResult:
    """Try each configured candidate; keep the best by validation ROC-AUC.

    For churn (with `search.monotone_churn`), risk may only rise as a feature moves
    away from its healthy direction (`features.definitions`): a CS team's prior that
    also keeps the explanations coherent with the feature descriptions.

    Args:
        train: training rows with `feature_names` and the `target` label.
        validation: validation rows (early stopping and selection only).
        feature_names: feature columns, in model order.
        target: label column.
        search: the candidates and early-stopping settings.
        seed: random seed, for reproducible models.
        on_trial: called after each candidate with (index, params, validation AUC).
    """
    monotone = (
        churn_monotone_constraints(feature_names)
        if (target == "churn" and search.monotone_churn)
        else None
    )
    train_x = train[feature_names].to_numpy(dtype=float, na_value=np.nan)
    validation_x = validation[feature_names].to_numpy(dtype=float, na_value=np.nan)
    train_y = train[target].to_numpy(dtype=float)
    validation_y = validation[target].to_numpy(dtype=float)
    trials: list[dict[str, float | int]] = []
    best: tuple[float, int, lgb.Booster] | None = None
    for index, params in enumerate(search.configs):
        booster = fit_booster(
            train_x, train_y, validation_x, validation_y, params, search, seed, monotone
        )
        auc = float(booster.best_score["validation"]["auc"])
        trials.append(
            {
                "candidate": index,
                **params.model_dump(),
                "rounds": booster.best_iteration,
                "validation_auc": auc,
            }
        )
        if on_trial is not None:
            on_trial(index, params, auc)
        if best is None or auc > best[0]:
            best = (auc, index, booster)
    assert best is not None
    auc, index, booster = best
    return SearchResult(
        booster, search.configs[index], booster.best_iteration, auc, pd.DataFrame(trials)
    )
