"""What a policy would have saved, estimated from the company's own history (no ground truth).

A doubly robust off-policy estimate (Dudik, Langford and Li 2011). Each labelled snapshot
(account, as_of) has the action the CS team took in the window after it (the first
touchpoint, or none; the learner's window, cut at the renewal) and whether the account
churned at its next renewal. Two models are cross-fitted by account: the chance CSMs take
each action given the features (propensity, multinomial LightGBM) and the churn
probability given the features and the action taken (outcome, LightGBM on features plus
the action). For policy pi, per snapshot,

    dr(a) = mu(x, a) + [a_taken = a] / e(a | x) x (churn - mu(x, a))
    saved = ARR x (dr(none) - dr(pi(x))) - cost(pi(x))

except for what the CS team did, whose outcomes were seen: saved = ARR x (dr(none) -
churn) - cost. A policy's value is the sum of `saved` (ARR saved net of cost against doing
nothing), with a bootstrap over accounts for the interval. The interval also allows for CSMs
having chosen whom to act on by risk the data does not show: it spans the bootstrap
intervals with the churn seen after every action the team took shifted by b =
-`HIDDEN_SELECTION` and +`HIDDEN_SELECTION` churn log-odds (churn - (mu - sigmoid(logit mu -
b)), mu the outcome model's churn for what was done), the estimate staying the unshifted
one; the bootstrap interval alone is kept beside it. No policy can save more than the ARR
that would churn if nothing were done (churn cannot fall below zero): that ceiling is
estimated the same way (the sum of ARR x dr(none)), every interval's upper end (the
bootstrap's alone too) is capped at the upper end of the ceiling's, and a policy estimated
above the ceiling itself is flagged as beyond what this history can judge (the weights of a
few rare actions carry it; the fifth audit's playbook read 99.7M, interval 0.58M-179M, where
the most any policy could save was 55.6M).
Propensities are floored at
`MIN_PROPENSITY` so a rare action cannot blow the estimate up; where the policy picks an
action CSMs took for fewer than 5% of such accounts, or fewer than `THIN` times in a
segment, the report says that history is too thin to judge it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from scipy.special import logit
from sklearn.model_selection import GroupKFold

from actions.ranking import NO_ACTION
from features.contract import ACTION_CODES
from features.units import money
from training.uplift.data import actions_in_window
from training.uplift.pooled import sigmoid

ARMS: tuple[str, ...] = (NO_ACTION, *ACTION_CODES)
# Chosen on tuning structure seeds 1-6 (two learner seeds each; training/uplift/protocol.py):
# against 0.02 the interval held the true value as often or more (learned 12 of 12 fits,
# playbook 10 against 8, CS team 10 both) and was 30-45% narrower; self-normalised weights, a
# smoother outcome model and three cross-fittings pooled did no better (docs/results.md,
# "Next-best-action"). Below it, history is too thin to judge an action (`thin_spots`).
MIN_PROPENSITY = 0.05
# The propensity model is kept smooth: an overfit one puts near-zero chances on the few
# treated accounts it memorised, and their weights then dominate the estimate.
SMOOTH: dict[str, Any] = {
    "n_estimators": 60,
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_child_samples": 100,
}
THIN = 30  # fewer times done than this in a segment: too thin to judge there
# How far CSMs may have chosen on risk the data does not show, in churn log-odds, either way.
# Chosen on tuning structure seeds 1-6 (two learner seeds each) by a rule written before the
# runs, among 0, 0.6, 1.2 and 2.0: the smallest with every policy's interval holding its
# true value in >= 11 of 12 fits (0: learned 12, playbook 10, CS team 10; 0.6: 12 / 12 / 12).
# On the untouched seeds 11-18: 16 / 16 / 16 of 16 (0: 13 / 12 / 16); 31-42: 24 / 20 / 20 of
# 24 (0: 17 / 14 / 14); the intervals 1.3-1.6x as wide (docs/results.md).
HIDDEN_SELECTION = 0.6
SEGMENT_SHARES = (1 / 3, 2 / 3)  # ARR bands at the book's own terciles


def _short(value: float) -> str:
    """'800', '62k', '1.2M': an ARR bound as a band's name says it."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.0f}"


def _readable(value: float) -> float:
    """`value` to two significant figures, so a band reads 62k rather than 61,874."""
    if value <= 0:
        return 0.0
    digits = 1 - int(np.floor(np.log10(value)))
    return float(round(value, digits))


def segment_of(arr: np.ndarray) -> np.ndarray:
    """The ARR band of each account, cut at the book's own terciles (`SEGMENT_SHARES`).

    Fixed bands (under 10k, 10k-50k, 50k and more) put an enterprise book in one band and a
    self-serve book in another, so neither could say which of its customers history is thin
    on. Bounds are rounded to two significant figures; equal bounds merge.
    """
    values = np.nan_to_num(np.asarray(arr, dtype=float), nan=0.0)
    known = values[values > 0]
    cuts = (
        [] if not len(known) else [_readable(float(np.quantile(known, q))) for q in SEGMENT_SHARES]
    )
    bounds = sorted({c for c in cuts if c > 0})
    if not bounds:
        return np.full(len(values), "every ARR", dtype=object)
    names = [f"ARR under {_short(bounds[0])}"]
    names += [f"ARR {_short(lo)}-{_short(hi)}" for lo, hi in zip(bounds, bounds[1:], strict=False)]
    names.append(f"ARR {_short(bounds[-1])} and more")
    return np.array(names, dtype=object)[np.searchsorted(bounds, values, side="right")]


@dataclass
class Nuisance:
    """Cross-fitted propensities and outcome predictions per snapshot and arm (`ARMS`)."""

    propensity: np.ndarray  # (rows, arms)
    outcome: np.ndarray  # (rows, arms): churn probability if that arm were taken
    taken: np.ndarray  # (rows,) index into ARMS


def cs_team_actions(snapshots: pd.DataFrame, touchpoints: pd.DataFrame, days: int) -> list[str]:
    """The first action the CS team logged in the `days` after each snapshot, or none.

    The window is the learner's (`actions_in_window`): cut at the snapshot's renewal.
    """
    found = actions_in_window(snapshots, touchpoints, days)
    first = found.sort_values("ts").drop_duplicates("row").set_index("row")["type"]
    return [str(first.get(i, NO_ACTION)) for i in range(len(snapshots))]


def fit_nuisance(
    X: np.ndarray, taken: np.ndarray, churn: np.ndarray, groups: np.ndarray, seed: int = 0
) -> Nuisance:
    """Cross-fit (2 folds by account) the propensity and outcome models."""
    n, k = len(churn), len(ARMS)
    propensity, outcome = np.zeros((n, k)), np.zeros((n, k))
    params: dict[str, Any] = {
        "n_estimators": 120,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 40,
    }
    folds = GroupKFold(n_splits=2, shuffle=True, random_state=seed)
    for train, test in folds.split(X, churn, groups):
        seen = np.unique(taken[train])
        if len(seen) == 1:  # one arm only (say, no action ever taken): it is certain
            propensity[test, seen[0]] = 1.0
        else:
            chooser = LGBMClassifier(**SMOOTH, random_state=seed, n_jobs=1, verbose=-1)
            chooser.fit(X[train], taken[train])
            propensity[np.ix_(test, seen)] = chooser.predict_proba(X[test])
        onehot = np.eye(k)[taken[train]]
        model = LGBMClassifier(**params, random_state=seed + 1, n_jobs=1, verbose=-1)
        model.fit(np.hstack([X[train], onehot]), churn[train])
        for a in range(k):
            arm = np.zeros((len(test), k))
            arm[:, a] = 1.0
            outcome[test, a] = np.asarray(model.predict_proba(np.hstack([X[test], arm])))[:, 1]
    return Nuisance(propensity, outcome, taken)


def saved_per_snapshot(
    nuisance: Nuisance,
    chosen: Sequence[str],
    churn: np.ndarray,
    arr: np.ndarray,
    costs: Mapping[str, float],
) -> np.ndarray:
    """Doubly robust ARR saved net of cost against doing nothing, per snapshot.

    A policy that chose what was done on every snapshot (what the CS team did) has its
    outcomes observed: its churn is the churn seen, and only doing nothing is estimated.
    Weighting those outcomes as if the team's choices were a rule of the features (one over
    the chance of what it happened to do) only adds noise: tens of millions of interval on
    worlds whose true value is under one million (docs/results.md).
    """
    index = {arm: j for j, arm in enumerate(ARMS)}
    rows = np.arange(len(churn))
    picked = np.array([index[a] for a in chosen])
    price = np.array([0.0 if a == NO_ACTION else costs.get(a, 0.0) for a in chosen])

    def dr(arm: np.ndarray) -> np.ndarray:
        mu = nuisance.outcome[rows, arm]
        e = np.maximum(nuisance.propensity[rows, arm], MIN_PROPENSITY)
        return mu + (nuisance.taken == arm) / e * (churn - mu)

    nothing = churn_if_nothing(nuisance, churn)
    if was_done(nuisance, chosen):
        return arr * (nothing - churn) - price
    return arr * (nothing - dr(picked)) - price


def churn_if_nothing(nuisance: Nuisance, churn: np.ndarray) -> np.ndarray:
    """Doubly robust churn per snapshot had the CS team done nothing (arm `none`)."""
    rows = np.arange(len(churn))
    mu = nuisance.outcome[rows, 0]
    e = np.maximum(nuisance.propensity[rows, 0], MIN_PROPENSITY)
    return mu + (nuisance.taken == 0) / e * (churn - mu)


def was_done(nuisance: Nuisance, chosen: Sequence[str]) -> bool:
    """Whether the policy chose what was done on every snapshot: its outcomes were seen."""
    index = {arm: j for j, arm in enumerate(ARMS)}
    return bool(np.array_equal([index[a] for a in chosen], nuisance.taken))


@dataclass
class PolicyEstimate:
    """A policy's estimated value with its bootstrap interval, and where history is thin."""

    policy: str
    value: float
    low: float  # the interval, hidden selection allowed for (`HIDDEN_SELECTION`)
    high: float
    thin: list[str] = field(default_factory=list)
    sampling: tuple[float, float] | None = None  # the bootstrap interval alone
    ceiling: float | None = None  # ARR churned if nothing were done: no policy saves more
    ceiling_high: float | None = None  # the upper end of the ceiling's interval: the cap

    @property
    def beyond(self) -> bool:
        """Whether the estimate is above what any policy could save: not to be trusted."""
        return self.ceiling is not None and self.value > self.ceiling

    def line(self, level: float, thin: bool = True) -> str:
        """The estimate in one line; `thin`: and, below it, where history is too thin."""
        text = (
            f"  {self.policy:<12} {money(self.value):>12}   {100 * level:.0f}% interval"
            f" [{money(self.low)}, {money(self.high)}]"
        )
        if self.sampling is not None:
            text += f" (sampling alone [{money(self.sampling[0])}, {money(self.sampling[1])}])"
        if self.beyond and self.ceiling is not None:  # `beyond` implies a ceiling
            text += (
                f"\n    above the {money(self.ceiling)} that would churn if nothing were done,"
                " which no policy can save more than: this history cannot judge it (a few"
                " rarely done actions carry the estimate)"
            )
        if not thin or not self.thin:
            return text
        return text + f"\n    too thin to judge: {'; '.join(self.thin)}"


def estimate(
    saved: np.ndarray, groups: np.ndarray, level: float = 0.9, draws: int = 300, seed: int = 0
) -> tuple[float, float, float]:
    """Sum of `saved` and its percentile bootstrap interval over accounts."""
    codes, uniques = pd.factorize(groups)
    per_account = np.bincount(codes, weights=saved, minlength=len(uniques))
    rng = np.random.default_rng(seed)
    totals = [per_account[rng.integers(0, len(uniques), len(uniques))].sum() for _ in range(draws)]
    tail = (1.0 - level) / 2.0
    return (
        float(saved.sum()),
        float(np.quantile(totals, tail)),
        float(np.quantile(totals, 1 - tail)),
    )


def chosen_on_hidden_risk(nuisance: Nuisance, churn: np.ndarray, shift: float) -> np.ndarray:
    """The churn seen with `shift` log-odds of hidden risk taken out of every action done.

    A positive shift says CSMs acted on accounts riskier than the features show (so what they
    did looks worse than it was), a negative one less risky.
    """
    rows = np.arange(len(churn))
    mu = np.clip(nuisance.outcome[rows, nuisance.taken], 1e-6, 1 - 1e-6)
    cleared = sigmoid(logit(mu) - shift)
    return churn - (nuisance.taken != 0) * (mu - cleared)


def thin_spots(nuisance: Nuisance, chosen: Sequence[str], arr: np.ndarray) -> list[str]:
    """Actions and ARR segments where the policy relies on actions history rarely shows."""
    out = []
    picked = np.asarray(chosen, dtype=object)
    segments = segment_of(arr)
    taken = np.asarray(ARMS, dtype=object)[nuisance.taken]
    index = {arm: j for j, arm in enumerate(ARMS)}
    for action in ACTION_CODES:
        mine = picked == action
        if not mine.any():
            continue
        rare = nuisance.propensity[mine, index[action]] < MIN_PROPENSITY
        if rare.mean() > 0.5:
            out.append(
                f"{action} (CSMs did it for fewer than {MIN_PROPENSITY:.0%} of such accounts)"
            )
        for name in dict.fromkeys(segments[mine]):
            done = int(((taken == action) & (segments == name)).sum())
            if done < THIN:
                out.append(f"{action} in {name} (done {done} times)")
    return out


def evaluate_offpolicy(
    X: np.ndarray,
    taken: Sequence[str],
    churn: np.ndarray,
    arr: np.ndarray,
    groups: np.ndarray,
    policies: Mapping[str, Sequence[str]],
    costs: Mapping[str, float],
    level: float = 0.9,
    seed: int = 0,
    hidden: float = HIDDEN_SELECTION,
) -> list[PolicyEstimate]:
    """Doubly robust value of each policy (name -> action per snapshot) with its interval.

    `hidden`: the hidden selection the interval allows for, in churn log-odds either way
    (0: the bootstrap interval alone).
    """
    index = {arm: j for j, arm in enumerate(ARMS)}
    nuisance = fit_nuisance(X, np.array([index[a] for a in taken]), churn, groups, seed)
    out = []
    shifted = [chosen_on_hidden_risk(nuisance, churn, b) for b in (-hidden, hidden) if hidden]
    ceiling, _, most = estimate(arr * churn_if_nothing(nuisance, churn), groups, level, seed=seed)
    for name, chosen in policies.items():
        saved = saved_per_snapshot(nuisance, chosen, churn, arr, costs)
        value, low, high = estimate(saved, groups, level, seed=seed)
        sampling = (low, high) if shifted else None
        for seen in shifted:
            _, lo, hi = estimate(
                saved_per_snapshot(nuisance, chosen, seen, arr, costs), groups, level, seed=seed
            )
            low, high = min(low, lo), max(high, hi)
        # what was done was seen: its value leans on no chance of doing it
        thin = [] if was_done(nuisance, chosen) else thin_spots(nuisance, chosen, arr)
        if value <= ceiling:  # beyond it the estimate itself is off: its interval is left be
            high = min(high, most)
            if sampling is not None:  # the seventh audit: sampling alone ran past the cap
                sampling = (sampling[0], min(sampling[1], most))
        out.append(PolicyEstimate(name, value, low, high, thin, sampling, ceiling, most))
    return out
