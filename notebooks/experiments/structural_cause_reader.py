"""Experiment (November 2026, not shipped): read each world's cause weights from its renewals.

The record and the rules it was judged by are in docs/results.md ("Explanations that name the
cause", the last reader tried). In the simulator a cause's contribution to the churn log-odds
is the world's weight for it times how much of it the account shows
(`simulator.structure.cause_level`). This reader splits the two: per-cause LightGBM
regressors, fitted on tuning worlds, predict each cause's level from the features; the world's
weights come from a logistic regression of its own renewals on those levels (labelled
snapshots at most 60 days before an annual renewal; log-normal prior on the demo world's
weights); the cause probabilities are a softmax of weight x level. Drivers are then read as
serving reads them, with the pooled reader's evidence within each family.

    python notebooks/experiments/structural_cause_reader.py --worlds DIR --cv 101-124
    python notebooks/experiments/structural_cause_reader.py --worlds DIR --tuning 101-124 \
        --untouched 321-344 --variant posterior:0.45:0.5:1.5

World K is DIR/K, written by `retain simulate --accounts 500 --months 18 --structure-seed K
--seed 1000+K` (tuning) or `--seed 2000+K` (untouched). A variant is
`map:<prior sd>:<temperature>:<low-usage factor>` (the weights' MAP estimate) or
`posterior:<prior sd>:<temperature>:<low-usage factor>` (200 draws from their Laplace
posterior, the softmax averaged over them), with `:<window>` for round 3's renewals, or
`model:<floor>:<temperature>:<low-usage factor>` (round 4: the weights as the slopes of the
world's own churn model's log-odds on the levels); `--cv` runs the grid of `--round` 2, 3 or 4.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize

from features.definitions import FEATURE_NAMES
from simulator.causes import CAUSE_FAMILY
from simulator.structure import TODAY, read_structure
from training.diagnosis import READER_PARAMS, CauseReader
from training.diagnosis_fit import quick_churn_model, world_snapshots
from training.truth import explanations_against_causes

NAMES = list(FEATURE_NAMES)
CAUSES = list(CAUSE_FAMILY)
PRIMARY = {  # the weight (`ChurnCauses` field) each cause's level is measured against
    "key_user_gone": "key_gone",
    "low_usage": "disengaged",
    "low_adoption": "adoption_gap",
    "kpi_shortfall": "kpi_shortfall",
    "no_first_value": "no_first_value",
    "support_storm": "storm",
}
PRIOR = np.array([TODAY.churn.weight(PRIMARY[c]) for c in CAUSES])
WEIGHT_ERRORS: dict[str, list[float]] = {}  # variant -> per world, mean |log w - log true w|
RATIO_ERRORS: dict[str, list[float]] = {}  # the same with each side's mean log taken out
LEVEL_PARAMS: dict[str, object] = dict(READER_PARAMS, objective="regression", num_threads=2)


def snapshots(world: Path) -> pd.DataFrame:
    """The world's snapshots with each cause's contribution and the world's weights."""
    frame = world_snapshots(world)
    causes = pd.read_parquet(world / "_truth" / "causes.parquet")
    causes["account_id"] = causes["account_id"].astype(str)
    causes["as_of"] = pd.to_datetime(causes["as_of"])
    parts = [f"contribution_{c}" for c in CAUSES]
    frame = frame.merge(causes[["account_id", "as_of", *parts]], on=["account_id", "as_of"])
    structure = read_structure(world / "_truth")
    assert structure is not None, f"{world} has no _truth/ (not a simulated world)"
    churn = structure.churn
    weights = pd.DataFrame({f"w_{c}": churn.weight(PRIMARY[c]) for c in CAUSES}, index=frame.index)
    return pd.concat([frame, weights], axis=1)


def fit_levels(train: pd.DataFrame) -> list[lgb.Booster]:
    """Per cause, a regressor of its level (contribution / the world's weight)."""
    X = train[NAMES].to_numpy(float)
    return [
        lgb.train(LEVEL_PARAMS, lgb.Dataset(X, train[f"contribution_{c}"] / train[f"w_{c}"]), 200)
        for c in CAUSES
    ]


def levels(boosters: list[lgb.Booster], X: np.ndarray) -> np.ndarray:
    return np.clip(np.column_stack([b.predict(X) for b in boosters]), 0.0, None)


def weights_posterior(S: np.ndarray, y: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """The weights' MAP log-values and their Laplace covariance.

    The model: churn ~ intercept + S @ exp(log w), prior log w ~ N(log PRIOR, sd); the
    Hessian by central differences.
    """

    def loss(theta: np.ndarray) -> float:
        z = theta[0] + S @ np.exp(theta[1:])
        prior = np.sum((theta[1:] - np.log(PRIOR)) ** 2) / (2 * sd**2)
        return float(-np.sum(y * z - np.logaddexp(0.0, z)) + prior)

    theta = minimize(loss, np.r_[-2.0, np.log(PRIOR)], method="L-BFGS-B").x
    d, h = len(theta), 1e-3
    H = np.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            a, b = np.eye(d)[i] * h, np.eye(d)[j] * h
            corners = loss(theta + a + b) - loss(theta + a - b)
            corners += loss(theta - a - b) - loss(theta - a + b)
            H[i, j] = H[j, i] = corners / (4 * h * h)
    return theta[1:], np.linalg.inv(H + 1e-9 * np.eye(d))[1:, 1:]


class WeightedReader:
    """A reader (the `training.families.ReaderLike` protocol) from levels and world weights."""

    def __init__(
        self, pooled: CauseReader, boosters: list[lgb.Booster], draws: np.ndarray, T: float,
        boost: np.ndarray,
    ) -> None:  # fmt: skip
        self.pooled, self.boosters, self.draws = pooled, boosters, draws
        self.T, self.boost = T, boost
        self.feature_names = pooled.feature_names
        self.checks: dict[str, float] = {}

    def matrix(self, features: Any, names: Any) -> np.ndarray:
        return self.pooled.matrix(features, names)

    def cause_probabilities(self, X: np.ndarray) -> np.ndarray:
        S = levels(self.boosters, X)
        p = np.zeros_like(S)
        for w in self.draws:
            z = S * w * self.boost / self.T
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p += e / e.sum(axis=1, keepdims=True)
        return p / len(self.draws)

    def family_probabilities(self, X: np.ndarray) -> dict[str, np.ndarray]:
        p = self.cause_probabilities(X)
        out: dict[str, np.ndarray] = {}
        for j, cause in enumerate(CAUSES):
            out[CAUSE_FAMILY[cause]] = out.get(CAUSE_FAMILY[cause], 0.0) + p[:, j]
        return out

    def family_evidence(self, X: np.ndarray) -> dict[str, np.ndarray]:
        return self.pooled.family_evidence(X)


def weights_from_model(S: np.ndarray, raw: np.ndarray, floor: float) -> np.ndarray:
    """Round 4: each cause's weight as the slope of the company's churn log-odds on its level.

    The world's own churn model has read every labelled renewal of the early months; its
    log-odds at each early snapshot (labelled or not) is a smooth, low-noise target. The
    slopes come from non-negative least squares on centred levels (a cause never lowers the
    risk); a slope below `floor` x the demo world's weight is raised to it, so no cause is
    ruled out. The weights are then scaled to the demo world's geometric mean.
    """
    from scipy.optimize import nnls

    slopes, _ = nnls(S - S.mean(axis=0), raw - raw.mean())
    w = np.maximum(slopes, floor * PRIOR)
    # the model's slopes shrink together with how far a snapshot is from its renewal: keep
    # their ratios, at the demo world's overall scale (so temperatures mean what they did)
    return w * np.exp(np.mean(np.log(PRIOR)) - np.mean(np.log(w)))


def _log_errors(variant: str, found: np.ndarray, truth: np.ndarray) -> None:
    """Keep the world's log-weight errors: as they are, and of the ratios alone."""
    WEIGHT_ERRORS.setdefault(variant, []).append(float(np.abs(found - truth).mean()))
    ratios = (found - found.mean()) - (truth - truth.mean())
    RATIO_ERRORS.setdefault(variant, []).append(float(np.abs(ratios).mean()))


def reader_for(
    variant: str,
    pooled: CauseReader,
    boosters: list[lgb.Booster],
    early: pd.DataFrame,
    company: Any = None,
    early_all: pd.DataFrame | None = None,
) -> WeightedReader:
    """The variant's reader, its weights estimated on the world's early rows.

    `model:<floor>:<temperature>:<low-usage factor>` (round 4) reads them from `company`, the
    world's churn model, over `early_all` (every early snapshot); the others from the early
    labelled renewals.
    """
    kind, sd, T, factor, *rest = variant.split(":")
    if kind == "model":
        rows = early_all if early_all is not None else early
        X = rows[NAMES].to_numpy(float)
        w = weights_from_model(levels(boosters, X), company.raw_score(X), float(sd))
        truth = np.log([early[f"w_{c}"].iloc[0] for c in CAUSES])
        _log_errors(variant, np.log(w), truth)
        boost = np.ones(len(CAUSES))
        boost[CAUSES.index("low_usage")] = float(factor)
        return WeightedReader(pooled, boosters, w[None, :], float(T), boost)
    window = rest[0] if rest else "annual60"
    if window == "annual60":  # rounds 1-2: near an annual renewal
        near = ((early["days_to_renewal"] <= 60) & (early["term_length_days"] >= 300)).to_numpy()
    elif window == "all":
        near = np.ones(len(early), bool)
    else:  # round 3: within `window` days of the next renewal, any term
        near = (early["days_to_renewal"] <= float(window)).to_numpy()
    S = levels(boosters, early[NAMES].to_numpy(float))[near]
    mean, cov = weights_posterior(S, early["churn"].to_numpy()[near], float(sd))
    truth = np.log([early[f"w_{c}"].iloc[0] for c in CAUSES])
    _log_errors(variant, mean, truth)
    if kind == "map":
        draws = np.exp(mean)[None, :]
    else:
        rng = np.random.default_rng(0)
        L = np.linalg.cholesky(cov + 1e-9 * np.eye(len(mean)))
        draws = np.exp(mean + rng.standard_normal((200, len(mean))) @ L.T)
    boost = np.ones(len(CAUSES))
    boost[CAUSES.index("low_usage")] = float(factor)
    return WeightedReader(pooled, boosters, draws, float(T), boost)


def check_world(
    world: Path, frame: pd.DataFrame, pooled: CauseReader, boosters: list[lgb.Booster],
    variants: list[str],
) -> dict[str, dict[str, float]]:  # fmt: skip
    """Driver agreement with the true causes per variant, as `diagnosis_fit.check` measures."""
    model, late = quick_churn_model(frame, NAMES)
    labelled = frame[frame["churn"].notna()]
    months = np.sort(labelled["as_of"].unique())
    cut = months[int(0.6 * len(months))]
    early = labelled[labelled["as_of"] < cut]
    early_all = frame[frame["as_of"] < cut]  # what the company's model was fitted before
    found = {}
    for variant in ["pooled", *variants]:
        model.cause_reader = (
            pooled
            if variant == "pooled"
            else reader_for(variant, pooled, boosters, early, model, early_all)
        )
        found[variant] = explanations_against_causes(world, model, late, model.predict_proba(late))
    return found


def summary(results: dict[int, dict[str, dict[str, float]]]) -> None:
    for variant in next(iter(results.values())):
        frame = pd.DataFrame([r[variant] for r in results.values()])
        line = (
            f"{variant:24s} first {frame['cause_first_driver'].mean():.3f}"
            f" (worst {frame['cause_first_driver'].min():.3f})"
            f" any3 {frame['cause_first_three'].mean():.3f} |"
        )
        for cause in CAUSES:
            rows = frame.get(f"cause_rows_{cause}", pd.Series(dtype=float)).fillna(0.0)
            if rows.sum():
                hits = (frame[f"cause_first_driver_{cause}"].fillna(0.0) * rows).sum()
                line += f" {cause} {hits / rows.sum():.2f} ({int(rows.sum())})"
        if WEIGHT_ERRORS.get(variant):
            line += f" | log-weight error {np.mean(WEIGHT_ERRORS[variant]):.2f}"
            line += f" (of the ratios {np.mean(RATIO_ERRORS[variant]):.2f})"
        print(line, flush=True)


def seeds(text: str) -> list[int]:
    lo, hi = text.split("-")
    return list(range(int(lo), int(hi) + 1))


def fit(frames: list[pd.DataFrame]) -> tuple[CauseReader, list[lgb.Booster]]:
    train = pd.concat(frames, ignore_index=True)
    pooled = CauseReader.fit(train, train["dominant_cause"], CAUSE_FAMILY, FEATURE_NAMES)
    return pooled, fit_levels(train)


GRID = [f"map:0.7:{T}:1" for T in (0.25, 0.5, 1.0)] + [
    f"{kind}:{sd}:{T}:{f}"
    for kind, sds, Ts in (("map", (0.45, 0.7, 1.0), (0.5, 0.7, 1.0)),
                          ("posterior", (0.45, 0.7), (0.25, 0.5)))
    for sd in sds
    for T in Ts
    for f in ((1, 1.5) if kind == "posterior" else (1,))
] + ["map:0.7:0.5:1.5", "map:0.7:0.5:2"]  # fmt: skip
GRID3 = [  # round 3: the weights from more of the world's renewals
    f"{kind}:{sd}:0.5:{f}:{w}"
    for kind in ("map", "posterior")
    for sd in (0.45, 0.7)
    for w in ("60", "180", "all")
    for f in (1, 1.5)
]


GRID4 = [  # round 4: the weights from the company's churn model
    f"model:{floor}:{T}:{f}" for floor in (0.05, 0.2) for T in (0.25, 0.5, 1.0) for f in (1, 1.5)
] + ["posterior:0.45:0.5:1.5:60"]  # round 3's pick, beside them for the weights' error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=Path, required=True)
    parser.add_argument("--cv", help="tuning seeds lo-hi: 4-fold leave-worlds-out over GRID")
    parser.add_argument("--tuning", help="seeds lo-hi to fit on")
    parser.add_argument("--untouched", help="seeds lo-hi to check on")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--round", type=int, default=2, help="--cv's grid: 2 (rounds 1-2), 3 or 4")
    args = parser.parse_args()
    if args.cv:
        ks = seeds(args.cv)
        data = {k: snapshots(args.worlds / str(k)) for k in ks}
        order = np.random.default_rng(0).permutation(ks)
        results = {}
        for fold in (order[i::4] for i in range(4)):
            pooled, boosters = fit([data[k] for k in ks if k not in fold])
            for k in fold:
                grid = {3: GRID3, 4: GRID4}.get(args.round, GRID)
                results[k] = check_world(args.worlds / str(k), data[k], pooled, boosters, grid)
                print(f"world {k} done", flush=True)
        summary(results)
        return
    pooled, boosters = fit([snapshots(args.worlds / str(k)) for k in seeds(args.tuning)])
    summary(
        {
            k: check_world(
                args.worlds / str(k), snapshots(args.worlds / str(k)), pooled, boosters,
                args.variant,
            )
            for k in seeds(args.untouched)
        }
    )  # fmt: skip


if __name__ == "__main__":
    main()
