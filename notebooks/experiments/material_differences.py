"""Issue 18 item 4 (ninth new-user audit): the smallest difference that reads as a reason.

The ninth audit's CSM read "Open support tickets of low priority: 1 ticket, worse than
healthy accounts (0 tickets)" and "Days since anyone at the account used the product: 1 day,
worse than healthy accounts (0 days)" as reasons for risk. Where nearly all healthy accounts
sit at 0, even the band of no width's 10th-90th percentile (`training.model.healthy_band`)
is [0, 0], so any value off 0 is "worse". A feature may declare the smallest difference
from healthy accounts that reads as a reason (`Feature.material`; the oldest open ticket's
is 7 days since the fifth session of 29 November 2026).

Candidate (a CS judgment of what a CSM reads as a reason, not fitted; the same for every
company): a week for the two recency features (a weekend or a day off is no warning), two
tickets for the counts of open tickets of any, low or normal priority (one open ticket is
support at work; one high or urgent ticket stays a reason):

    days_since_last_activity 7, days_since_key_user_active 7,
    open_tickets 2, open_tickets_low 2, open_tickets_normal 2

Rule, written before any run (29 November 2026, sixth session): on fresh untouched
structure seeds 497-504 (never used; `retain simulate --accounts 500 --months 18
--structure-seed K --seed 2000+K`), with each world's plain churn model and the shipped
reader read exactly as `training.diagnosis_fit.check` reads them, the candidate ships if,
against `before` (the same catalogue with those five at 0), the first driver's mean share
in the true cause's family falls at most 1 point, any of the first three's at most 1 point
and the worst world's first-driver share at most 2 points. It also prints the risk-raising
drivers per at-risk snapshot that the candidate calls immaterial under `before` (what a CSM
would no longer read) and the share of at-risk snapshots left with none.

    python notebooks/experiments/material_differences.py --worlds /tmp/worlds/s497 ...
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

CANDIDATE = {
    "days_since_last_activity": 7.0,
    "days_since_key_user_active": 7.0,
    "open_tickets": 2.0,
    "open_tickets_low": 2.0,
    "open_tickets_normal": 2.0,
}


def catalogues() -> dict[str, dict]:
    """Feature definitions by name: `before` (the five at 0) and `candidate`."""
    from features.definitions import FEATURES

    return {
        kind: {
            f.name: dataclasses.replace(f, material=values.get(f.name, f.material))
            for f in FEATURES
        }
        for kind, values in (
            ("before", dict.fromkeys(CANDIDATE, 0.0)),
            ("candidate", CANDIDATE),
        )
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
        immaterial = [
            sum(
                name in CANDIDATE
                and abs(float(values[name]) - float(reference[name])) < CANDIDATE[name]
                for name in shown
            )
            for shown, (_, values) in zip(raising, rows.iterrows(), strict=True)
        ]
        results.append(
            {
                "world": world.name,
                "kind": kind,
                "rows": found.get("cause_rows", 0.0),
                "first": found.get("cause_first_driver", np.nan),
                "three": found.get("cause_first_three", np.nan),
                "shown": float(np.mean([len(s) for s in raising])) if raising else np.nan,
                "immaterial": float(np.mean(immaterial)) if immaterial else np.nan,
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
            f" three {r['three']:.1%} shown {r['shown']:.2f} immaterial"
            f" {r['immaterial']:.3f} none {r['none_shown']:.1%}"
        )
    summary = frame.groupby("kind").agg(
        first=("first", "mean"),
        worst=("first", "min"),
        three=("three", "mean"),
        shown=("shown", "mean"),
        immaterial=("immaterial", "mean"),
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
