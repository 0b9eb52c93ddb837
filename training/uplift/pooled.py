"""The pooled learner: one churn model for everyone, then each action's shift on top.

Stage 1 is a LightGBM churn model on the account features alone, cross-fitted by account:
its raw score is each snapshot's churn log-odds under the CS team's usual behaviour, and it
absorbs the confounding (CSMs act on accounts that look at risk). Stage 2 is one
L2-regularised logistic regression over all snapshots with stage 1 as offset: per action a
constant shift of the churn log-odds plus interactions with the few features stage 1 found
most telling. Thin actions borrow strength from the shared baseline, and an effect on the
log-odds turns into a bigger drop in churn probability for riskier accounts, as it should.
Bagging over accounts (bootstrap) gives each effect's standard error.

With `centre_treatments` the action columns are the treatments minus their cross-fitted
propensities (Robinson / R-learner centring), so the baseline does not soak up the effect of
actions CSMs take predictably. With `symptoms` each action's shift also has a term for
"the playbook's rules for this action fire here" (`symptoms.py`), bounded so the
action never helps less where the playbook calls for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from lightgbm import LGBMClassifier
from scipy.optimize import minimize
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

THREADS = min(2, os.cpu_count() or 1)  # LightGBM fits of the bags and folds at once
Item = TypeVar("Item")
Result = TypeVar("Result")


def in_threads(fit: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """`fit` of each item, in order, on up to `THREADS` threads.

    Each fit is a single-threaded LightGBM (`n_jobs=1`), which lets go of the GIL while it
    trains, so independent bags and folds share the cores (`bench/bench_uplift_threads.py`).
    Every fit has its own seed and data, so the results are the same on one thread or
    several. BLAS keeps one thread meanwhile: `_logit_shifts` asks for one anyway, and
    threads entering and leaving its limit at once must not restore another count.
    """
    items = list(items)
    if THREADS <= 1 or len(items) <= 1:
        return [fit(item) for item in items]
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(fit, items))


@dataclass
class PooledFit:
    """One bag of the pooled learner: baseline model, scaling, selected features, shifts."""

    baseline: LGBMClassifier
    center: np.ndarray
    scale: np.ndarray
    selected: np.ndarray
    coefficients: np.ndarray  # (actions, 2 + selected + causes): constant, symptom, modifiers

    def baseline_logit(self, X: np.ndarray) -> np.ndarray:
        """Churn log-odds without a new action."""
        return np.asarray(self.baseline.predict_proba(X, raw_score=True), dtype=float)

    def shifts(
        self, X: np.ndarray, symptoms: np.ndarray, causes: np.ndarray | None = None
    ) -> np.ndarray:
        """(rows, actions) change in churn log-odds if each action is done.

        `symptoms` is (rows, actions), 1 where the action's playbook symptoms show;
        `causes` is (rows, causes), the diagnosed chance of each cause (fits with causes).
        """
        S = standardise(X, self.center, self.scale)[:, self.selected]
        if causes is not None and causes.shape[1]:
            S = np.hstack([S, causes])
        B = self.coefficients
        return B[:, 0][None, :] + symptoms * B[:, 1][None, :] + S @ B[:, 2:].T


def standardise(X: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Median-centred, scaled features with unknown values at the centre, clipped to +/-5."""
    return np.clip(np.nan_to_num((X - center) / scale, nan=0.0), -5.0, 5.0)


def _logit_shifts(
    T: np.ndarray,
    A: np.ndarray,
    S: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    w: np.ndarray,
    l2: float | np.ndarray,
    symptom_l2: float,
    blas_threads: int | None = 1,
) -> np.ndarray:
    """Weighted L2 logistic regression of churn on actions x (1, symptom, S), fixed offset.

    Row n's log-odds: offset + sum_k T[n,k] (B[k,0] + A[n,k] B[k,1] + S[n] . B[k,2:]);
    `l2` is the ridge penalty of the columns of S (one for all, or one per column).
    The symptom coefficients B[:, 1] are bounded at 0 from above: where the playbook says
    an action is called for, it does not help less than elsewhere (history, confounded by
    who CSMs act on, otherwise can flip the sign on thin actions).
    `blas_threads`: BLAS threads while fitting (None: the library's default). One, because
    the products are thin (snapshots x a dozen columns) and repeated hundreds of times;
    `bench/bench_pooled.py` measures it against OpenBLAS's default.
    """
    k, d = T.shape[1], S.shape[1]
    TA = T * A
    l2 = np.broadcast_to(np.asarray(l2, dtype=float), (d,))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        B = theta.reshape(k, d + 2)
        # (S @ B.T) * T summed over actions: two BLAS products instead of a three-operand
        # einsum, which loops in C without BLAS (13 of 78 s of a profiled 300-account `train`).
        eta = offset + T @ B[:, 0] + TA @ B[:, 1] + np.sum(T * (S @ B[:, 2:].T), axis=1)
        residual = w * (1.0 / (1.0 + np.exp(-eta)) - y)
        value = np.sum(w * (np.logaddexp(0.0, eta) - y * eta))
        value += 1e-3 * np.sum(B[:, 0] ** 2) + symptom_l2 * np.sum(B[:, 1] ** 2)
        value += np.sum(l2[None, :] * B[:, 2:] ** 2)
        grad0 = T.T @ residual + 2e-3 * B[:, 0]
        grad1 = TA.T @ residual + 2.0 * symptom_l2 * B[:, 1]
        grad2 = (T * residual[:, None]).T @ S + 2.0 * l2[None, :] * B[:, 2:]
        return float(value), np.column_stack([grad0, grad1, grad2]).ravel()

    # The playbook's premise: an action helps at least as much where its symptoms show.
    bounds = [(None, 0.0) if i % (d + 2) == 1 else (None, None) for i in range(k * (d + 2))]
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        result = minimize(loss, np.zeros(k * (d + 2)), jac=True, method="L-BFGS-B", bounds=bounds)
    return np.asarray(result.x).reshape(k, d + 2)


def fit_pooled(
    X: np.ndarray,
    T: np.ndarray,
    A: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    weights: np.ndarray,
    params: dict[str, Any],
    interactions: int,
    l2: float,
    symptom_l2: float,
    cv: int,
    seed: int,
    causes: np.ndarray | None = None,
    cause_l2: float = 0.0,
) -> PooledFit:
    """Fit one bag: cross-fitted baseline offsets, then the per-action log-odds shifts.

    Args:
        X: features per snapshot (NaN allowed).
        T: 0/1 per action (columns) per snapshot (centred by `usual_chance` or not).
        A: 0/1 per action per snapshot: the action's playbook symptoms show
            (`symptoms.symptom_matrix`; zeros to learn without them).
        y: churn at the next renewal.
        groups: account per snapshot (cross-fitting keeps accounts together).
        weights: bootstrap weight per snapshot.
        params: LightGBM settings of the baseline.
        interactions: how many of the baseline's most important features modulate shifts.
        l2: ridge penalty on the interactions.
        symptom_l2: ridge penalty on the symptom modifiers.
        cv: cross-fitting folds for the offsets.
        seed: random seed.
        causes: (rows, causes) diagnosed chance of each cause (`training.diagnosis`),
            extra effect modifiers of every action; None: none.
        cause_l2: ridge penalty on the cause modifiers.
    """

    def model() -> LGBMClassifier:
        return LGBMClassifier(**params, random_state=seed, n_jobs=1, verbose=-1)

    offset = np.zeros(len(y))
    folds = GroupKFold(n_splits=cv, shuffle=True, random_state=seed)
    for train, test in folds.split(X, y, groups):
        fitted = model().fit(X[train], y[train], sample_weight=weights[train])
        offset[test] = fitted.predict_proba(X[test], raw_score=True)
    baseline = model().fit(X, y, sample_weight=weights)
    gain = baseline.booster_.feature_importance("gain")
    selected = np.argsort(-gain, kind="stable")[:interactions]
    # A table the company lacks leaves all-NaN columns: centre 0 and scale 1 there. They are
    # left out of the NaN statistics rather than silenced, since `warnings.catch_warnings`
    # is not thread-safe and the bags are fitted in threads (`in_threads`).
    observed = ~np.isnan(X).all(axis=0)
    center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    center[observed] = np.nanmedian(X[:, observed], axis=0)
    spread = np.nanstd(X[:, observed], axis=0)
    scale[observed] = np.where(spread == 0, 1.0, spread)
    S = standardise(X, center, scale)[:, selected]
    penalty = np.full(S.shape[1], l2)
    if causes is not None and causes.shape[1]:
        S = np.hstack([S, causes])
        penalty = np.concatenate([penalty, np.full(causes.shape[1], cause_l2)])
    coefficients = _logit_shifts(
        T.astype(float), A.astype(float), S, y, offset, weights, penalty, symptom_l2
    )
    return PooledFit(baseline, center, scale, selected, coefficients)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def usual_chance(
    X: np.ndarray, T: np.ndarray, groups: np.ndarray, params: dict[str, Any], cv: int, seed: int
) -> np.ndarray:
    """Cross-fitted chance that CSMs did each action (column of T) for each snapshot.

    Subtracting it from T is the R-learner centring of the pooled learner's action columns.
    """
    chance = np.zeros(T.shape, dtype=float)
    folds = GroupKFold(n_splits=cv, shuffle=True, random_state=seed)
    tasks = [
        (train, test, j)
        for train, test in folds.split(X, T[:, 0], groups)
        for j in range(T.shape[1])
        if 0 < T[train, j].astype(int).sum() < len(train)
    ]

    def fit(task: tuple[np.ndarray, np.ndarray, int]) -> np.ndarray:
        train, test, j = task
        model = LGBMClassifier(**params, random_state=seed + j, n_jobs=1, verbose=-1)
        fitted = model.fit(X[train], T[train, j].astype(int))
        return np.asarray(fitted.predict_proba(X[test]))[:, 1]

    for (_, test, j), found in zip(tasks, in_threads(fit, tasks), strict=True):
        chance[test, j] = found
    return chance
