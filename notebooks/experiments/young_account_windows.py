"""Issue 18 item 4 (eleventh new-user audit): a count over more days than the account has had.

The eleventh audit's accounts 6-25 days old read "Value-producing steps completed in the
last 90 days: 2 events, worse than healthy accounts (13 events)": a count over the last N
days cannot be compared with healthy accounts' full windows before the account has been a
customer for N days. Candidate (a reading rule, not fitted): the usage counts over a window
(`Feature.window_days`: events, active users, active days, value steps, modules, functions
and hours over 7, 30 or 90 days; not the shares) are no reason for an account whose
`tenure_days` is below the window (`training.families.read_families`).

Rule, written before any run (29 November 2026, seventh session): on fresh untouched
structure seeds 505-512 (never used; `retain simulate --accounts 500 --months 18
--structure-seed K --seed 2000+K`), with each world's plain churn model and the shipped
reader read exactly as `training.diagnosis_fit.check` reads them, the candidate ships if,
against `before` (the same catalogue with no `window_days`), the first driver's mean share
in the true cause's family falls at most 1 point, any of the first three's at most 1 point
and the worst world's first-driver share at most 2 points. It also prints the at-risk
snapshots younger than 90 days (`young`, the only ones the candidate can change) and the
share of at-risk snapshots left with no risk-raising driver.

    python notebooks/experiments/young_account_windows.py --worlds /tmp/worlds/s505 ...

It passed (first driver 73.4% -> 73.2%, worst world 64.4% both, any of three 94.7% both)
and ships since 29 November 2026 (docs/results.md, "A count over more days than the account
has had is no reason").
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from training.diagnosis import SHIPPED_READER, CauseReader
from training.diagnosis_fit import quick_churn_model, world_snapshots
from training.families import first_families, read_batch
from training.truth import cause_agreement, causes_file


def catalogues() -> dict[str, dict]:
    """Feature definitions by name: `before` (no `window_days`) and `candidate` (shipped)."""
    from features.definitions import FEATURES

    return {
        "before": {f.name: dataclasses.replace(f, window_days=None) for f in FEATURES},
        "candidate": {f.name: f for f in FEATURES},
    }


def judge(world: Path, reader: CauseReader) -> list[dict[str, float]]:
    from features.definitions import FEATURE_NAMES

    snapshots = world_snapshots(world)
    names = list(FEATURE_NAMES)
    model, late = quick_churn_model(snapshots, names)
    at_risk = np.isin(model.tier(model.predict_proba(late)), ("high", "medium"))
    rows = late.loc[at_risk]
    contributions = model.contributions(rows)
    causes = pd.read_parquet(causes_file(world))
    reference = model.family_reference or model.healthy_reference
    results = []
    for kind, catalogue in catalogues().items():
        readings = read_batch(
            names,
            rows[names].to_numpy(dtype=float),
            model.feature_names,
            contributions,
            reference,
            catalogue,
            reader,
            bands=model.healthy_band,
        )
        found = cause_agreement(causes, rows, [first_families(r) for r in readings])
        raising = [[d for f in r if f.direction == "raises" for d in f.features] for r in readings]
        results.append(
            {
                "world": world.name,
                "kind": kind,
                "rows": found.get("cause_rows", 0.0),
                "first": found.get("cause_first_driver", np.nan),
                "three": found.get("cause_first_three", np.nan),
                "young": float((rows["tenure_days"] < 90).sum()),
                "none_shown": float(np.mean([not s for s in raising])) if raising else np.nan,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", nargs="+", type=Path, required=True)
    args = parser.parse_args()
    reader = CauseReader.load(SHIPPED_READER)
    frame = pd.DataFrame([r for world in args.worlds for r in judge(world, reader)])
    for _, r in frame.iterrows():
        print(
            f"{r['world']} {r['kind']:<9} rows {r['rows']:.0f} first {r['first']:.1%}"
            f" three {r['three']:.1%} young {r['young']:.0f} none {r['none_shown']:.1%}"
        )
    summary = frame.groupby("kind").agg(
        first=("first", "mean"),
        worst=("first", "min"),
        three=("three", "mean"),
        young=("young", "sum"),
        none_shown=("none_shown", "mean"),
    )
    print(summary.round(4).to_string())
    base, r = summary.loc["before"], summary.loc["candidate"]
    passes = (
        r["first"] >= base["first"] - 0.01
        and r["three"] >= base["three"] - 0.01
        and r["worst"] >= base["worst"] - 0.02
    )
    print(f"candidate: {'passes' if passes else 'fails'} the rule")


if __name__ == "__main__":
    main()
