"""LightGBM with early stopping and a small, bounded hyper-parameter search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


# A plain LightGBM: the simple challenger's (and the `plain_lightgbm` baseline's) settings.
PLAIN_PARAMS = LightGBMParams(
    num_leaves=15, learning_rate=0.05, min_child_samples=20, feature_fraction=0.9, lambda_l2=1.0
)


SIMPLICITY = {"simple": 0, "configured": 1, "unconstrained": 2}
# (validation ROC-AUC, kind, params, columns, booster) of one fitted candidate
Candidate = tuple[float, str, LightGBMParams, list[str], lgb.Booster]


@dataclass(frozen=True)
class SearchResult:
    """The chosen booster and how every candidate did on the validation period.

    `kind` is `configured` (the YAML's candidates; monotone for churn), `unconstrained`
    (the best configured candidate without monotone constraints) or `simple` (a plain
    LightGBM on the small usage-and-contract feature set); `feature_names` are the
    chosen booster's columns.
    """

    booster: lgb.Booster
    params: LightGBMParams
    best_iteration: int
    validation_auc: float
    trials: pd.DataFrame
    kind: str = "configured"
    feature_names: tuple[str, ...] = ()


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
    simple_features: list[str] | None = None,
) -> SearchResult:
    """Try each configured candidate, then the challengers; keep the best by validation ROC-AUC.

    For churn (with `search.monotone_churn`), risk may only rise as a feature moves
    away from its healthy direction (`features.definitions`): a CS team's prior that
    also keeps the explanations coherent with the feature descriptions. It does not hold
    in every business, so the challengers (`search.challengers`) try the best candidate
    without it and a plain LightGBM on `simple_features`; the simplest candidate within one
    standard error of the best on validation is chosen (`_one_standard_error`).

    Args:
        train: training rows with `feature_names` and the `target` label.
        validation: validation rows (early stopping and selection only).
        feature_names: feature columns, in model order.
        target: label column.
        search: the candidates, challengers and early-stopping settings.
        seed: random seed, for reproducible models.
        on_trial: called after each candidate with (index, params, validation AUC).
        simple_features: the simple challenger's columns (default: none, no simple one).
    """
    monotone = (
        churn_monotone_constraints(feature_names)
        if (target == "churn" and search.monotone_churn)
        else None
    )
    train_y = train[target].to_numpy(dtype=float)
    validation_y = validation[target].to_numpy(dtype=float)

    def matrices(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return (
            train[names].to_numpy(dtype=float, na_value=np.nan),
            validation[names].to_numpy(dtype=float, na_value=np.nan),
        )

    full = matrices(feature_names)
    trials: list[dict[str, float | int | str]] = []
    fitted: list[Candidate] = []

    def attempt(kind: str, params: LightGBMParams, names: list[str], constraints: Any) -> None:
        train_x, validation_x = full if names is feature_names else matrices(names)
        booster = fit_booster(
            train_x, train_y, validation_x, validation_y, params, search, seed, constraints
        )
        auc = float(booster.best_score["validation"]["auc"])
        trials.append(
            {
                "candidate": len(trials),
                "kind": kind,
                **params.model_dump(),
                "features": len(names),
                "rounds": booster.best_iteration,
                "validation_auc": auc,
            }
        )
        if on_trial is not None:
            on_trial(len(trials) - 1, params, auc)
        fitted.append((auc, kind, params, names, booster))

    for params in search.configs:
        attempt("configured", params, feature_names, monotone)
    configured = max(fitted, key=lambda f: f[0])
    if "unconstrained" in search.challengers and monotone is not None and any(monotone):
        attempt("unconstrained", configured[2], feature_names, None)
    if "simple" in search.challengers and simple_features:
        attempt("simple", PLAIN_PARAMS, list(simple_features), None)
    finalists = [configured] + [f for f in fitted if f[1] != "configured"]
    gaps = _gaps_to_best(finalists, validation, target, seed)
    chosen = (
        _one_standard_error(finalists, validation, target, seed, gaps)
        if search.selection == "one_standard_error"
        else max(finalists, key=lambda f: f[0])
    )
    # what the choice saw, per finalist: its validation ROC-AUC gap to the best and the
    # gap's standard error (empty for the configured candidates that were not the best)
    table = pd.DataFrame(trials)
    table["gap_to_best"], table["gap_se"] = np.nan, np.nan
    for finalist, (gap, se) in zip(finalists, gaps, strict=True):
        row = next(i for i, f in enumerate(fitted) if f is finalist)
        table.loc[row, ["gap_to_best", "gap_se"]] = gap, se
    table["chosen"] = [f is chosen for f in fitted]
    auc, kind, params, names, booster = chosen
    return SearchResult(booster, params, booster.best_iteration, auc, table, kind, tuple(names))


def _gaps_to_best(
    candidates: list[Candidate], validation: pd.DataFrame, target: str, seed: int
) -> list[tuple[float, float]]:
    """Each candidate's validation ROC-AUC gap to the best, and the gap's standard error.

    The error is that of the paired gap over bootstrap resamples of the validation accounts
    (`evaluate.paired_auc_gap`); the best's own entry is (0, 0).
    """
    from training.evaluate import paired_auc_gap

    best = max(candidates, key=lambda c: c[0])
    y = validation[target].to_numpy(dtype=float)

    def scores(candidate: Candidate) -> Any:
        x = validation[candidate[3]].to_numpy(dtype=float, na_value=np.nan)
        return candidate[4].predict(x, raw_score=True, num_threads=1)

    best_scores = scores(best)
    return [
        (0.0, 0.0)
        if candidate is best
        else paired_auc_gap(
            y, best_scores, scores(candidate), validation["account_id"], draws=100, seed=seed
        )
        for candidate in candidates
    ]


def _one_standard_error(
    candidates: list[Candidate],
    validation: pd.DataFrame,
    target: str,
    seed: int,
    gaps: list[tuple[float, float]] | None = None,
) -> Candidate:
    """The simplest candidate within one standard error of the best on validation.

    The one-standard-error rule (Breiman et al.): a validation period of a few months and
    a few dozen outcomes cannot tell close candidates apart, and the simpler one (fewer
    features, then monotone before unconstrained) generalises more safely. `gaps`: the
    candidates' `_gaps_to_best`, computed here when not given.
    """
    gaps = gaps if gaps is not None else _gaps_to_best(candidates, validation, target, seed)
    ranked = sorted(zip(candidates, gaps, strict=True), key=lambda c: SIMPLICITY[c[0][1]])
    return next(candidate for candidate, (gap, se) in ranked if gap <= se)
