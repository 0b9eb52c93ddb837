"""Fit the shipped cause reader on simulated worlds and check it on untouched ones.

    python -m training.diagnosis_fit --tuning W1 W2 ... --untouched U1 U2 ... [--out PATH]
    python -m training.diagnosis_fit --check-only --untouched U1 U2 ... [--out PATH]

`--check-only` keeps the reader at `--out` as it is and only replaces the checks it carries
(on fresh untouched worlds, say), so what `retain train` prints of it stays true.

Each world is a directory written by `retain simulate` (it has `_truth/causes.parquet`);
draw them from different structure seeds (`--structure-seed`), the tuning worlds from
other seeds than the untouched ones. The shipped reader: tuning structure seeds 101-108
(`--accounts 500 --months 18 --seed 1000+K`), checked on untouched 201-224 (`--seed
2000+K`; fitted beside 201-208, re-checked with 209-224 added).
The reader is fitted on every monthly snapshot of the tuning worlds whose dominant cause
is known. On each untouched world a plain churn
model is fitted on its first 60% of labelled months; on the later months the drivers are
read as serving reads them (`training.families`) for the accounts in its high and medium
tiers (the riskiest 30%), and `training.truth.cause_agreement` says how often the first
driver (and any of the first three) names the true cause's family. The mean, the worst
world and each cause's share pooled over the worlds are written into the reader
(`CauseReader.checks`) and printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from actions.tiers import cut_points
from training.calibration import Calibrator
from training.config import load_config
from training.diagnosis import SHIPPED_READER, CauseReader
from training.model import AccountModel, healthy_band, healthy_reference
from training.truth import explanations_against_causes

CHURN_PARAMS: dict[str, object] = {
    "objective": "binary",
    "num_leaves": 15,
    "learning_rate": 0.05,
    "min_child_samples": 40,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 1,
    "seed": 1,
    "deterministic": True,
}


def world_snapshots(world: Path) -> pd.DataFrame:
    """Monthly snapshots (features, labels) of a simulated world with its dominant causes."""
    from training.train import build_training_set

    dataset, _ = build_training_set(str(world), None, load_config())
    causes = pd.read_parquet(world / "_truth" / "causes.parquet")
    causes["account_id"] = causes["account_id"].astype(str)
    causes["as_of"] = pd.to_datetime(causes["as_of"])
    dataset["as_of"] = pd.to_datetime(dataset["as_of"])
    return dataset.merge(
        causes[["account_id", "as_of", "dominant_cause"]], on=["account_id", "as_of"]
    )


def quick_churn_model(
    snapshots: pd.DataFrame, names: list[str]
) -> tuple[AccountModel, pd.DataFrame]:
    """A plain churn model on the first 60% of labelled months, and the later rows."""
    labelled = snapshots[snapshots["churn"].notna()]
    months = np.sort(labelled["as_of"].unique())
    cut = months[int(0.6 * len(months))]
    early, late = labelled[labelled["as_of"] < cut], labelled[labelled["as_of"] >= cut]
    X = early[names].to_numpy(dtype=float)
    booster = lgb.train(CHURN_PARAMS, lgb.Dataset(X, early["churn"].to_numpy()), 250)
    raw = booster.predict(X, raw_score=True)
    calibrator = Calibrator("platt").fit(raw, early["churn"].to_numpy())
    healthy = healthy_reference(early[early["churn"] == 0], names)
    band = healthy_band(early[early["churn"] == 0], names)
    model = AccountModel("churn", booster, calibrator, names, {}, healthy)
    model.tier_thresholds = cut_points(model.predict_proba(late), 0.10, 0.20)
    model.family_reference, model.healthy_band = healthy, band
    return model, late


def check(reader: CauseReader, worlds: list[Path]) -> dict[str, float]:
    """Agreement of the drivers with the true causes on each world; mean, worst, per cause."""
    from features.definitions import FEATURE_NAMES

    per_world = []
    for world in worlds:
        snapshots = world_snapshots(world)
        model, late = quick_churn_model(snapshots, list(FEATURE_NAMES))
        model.cause_reader = reader
        found = explanations_against_causes(world, model, late, model.predict_proba(late))
        print(
            f"{world}: {int(found['cause_rows'])} at-risk snapshots with a known cause,"
            f" first driver {found['cause_first_driver']:.1%},"
            f" first three {found['cause_first_three']:.1%}; "
            + ", ".join(
                f"{k.removeprefix('cause_first_driver_')} {v:.0%}"
                for k, v in found.items()
                if k.startswith("cause_first_driver_")
            )
        )
        per_world.append(found)
    frame = pd.DataFrame(per_world)
    checks = {
        "worlds": float(len(worlds)),
        "first_driver_mean": float(frame["cause_first_driver"].mean()),
        "first_driver_worst": float(frame["cause_first_driver"].min()),
        "first_three_mean": float(frame["cause_first_three"].mean()),
        "first_three_worst": float(frame["cause_first_three"].min()),
    }
    for column in frame.columns:  # per cause, pooled over the worlds' snapshots
        if column.startswith("cause_rows_"):
            cause = column.removeprefix("cause_rows_")
            rows = frame[column].fillna(0.0)
            checks[f"rows_{cause}"] = float(rows.sum())
            for measure in ("first_driver", "first_three"):
                hits = (frame[f"cause_{measure}_{cause}"].fillna(0.0) * rows).sum()
                checks[f"{measure}_{cause}"] = float(hits / rows.sum())
    return checks


def main(argv: list[str] | None = None) -> None:
    """Fit on the tuning worlds, check on the untouched ones, write the reader."""
    from features.definitions import FEATURE_NAMES
    from simulator.causes import CAUSE_FAMILY

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", nargs="+", type=Path)
    parser.add_argument("--untouched", nargs="+", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=SHIPPED_READER)
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="re-check the reader already at --out on --untouched, without refitting it",
    )
    args = parser.parse_args(argv)
    if args.check_only:
        if not args.out.is_file():
            parser.error(f"--check-only: there is no reader at {args.out}")
        reader = CauseReader.load(args.out)
    elif not args.tuning:
        parser.error("--tuning is required unless --check-only")
    else:
        tuning = pd.concat([world_snapshots(world) for world in args.tuning], ignore_index=True)
        reader = CauseReader.fit(tuning, tuning["dominant_cause"], CAUSE_FAMILY, FEATURE_NAMES)
    reader.checks = check(reader, args.untouched)
    print({k: round(v, 3) for k, v in reader.checks.items()})
    reader.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
