"""Issue 18 item 4 (eighth new-user audit): how wide "in line with healthy accounts" is.

The audit's CSM read "Days since anyone used the product: 1 day, worse than healthy
accounts (0 days)" as a reason for risk: a value is no reason when it lies inside the middle
half of healthy accounts (`training.model.healthy_band`, 25th-75th percentile), and for a
feature most healthy accounts hold at 0 that band is [0, 0], so one day off it is "worse".

Candidates (the same fitted model, only the band the drivers are read with changes):
- `shipped`: 25th-75th percentile of healthy accounts;
- `wide`: 10th-90th percentile (a value four in five healthy accounts could show is typical);
- `flat_wide`: 25th-75th, but 10th-90th where the two quartiles are equal (a band of no width
  says nothing about how far healthy accounts stray).

Rule, written before any run (29 November 2026, second session):
- on the structure seeds 201-224 (`--accounts 500 --months 18 --seed 2000+K`; looked at
  before, the reader is not refitted), a candidate passes if, against `shipped`, the first
  driver's mean share falls at most 1 point, the first three's at most 1 point, and the
  worst world's first-driver share at most 2 points;
- `wide` is preferred if it passes, else `flat_wide`, else neither ships;
- the pick is then checked once on fresh structure seeds 465-488 (never used; `--seed
  2000+K`) by the same test, and ships only if it passes there too. Reported either way in
  docs/results.md.

Beside the agreement it prints what a CSM would read: the mean number of risk-raising
features shown per at-risk snapshot, and the share of at-risk snapshots left with no
risk-raising driver at all.

    python notebooks/experiments/band_width.py --worlds /tmp/worlds/s201 ... /tmp/worlds/s224
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from training.diagnosis import SHIPPED_READER, CauseReader
from training.diagnosis_fit import quick_churn_model, world_snapshots
from training.families import first_families, read_batch
from training.truth import cause_agreement, causes_file

CANDIDATES = ("shipped", "wide", "flat_wide")


def bands(healthy: pd.DataFrame, names: list[str], kind: str) -> dict[str, tuple[float, float]]:
    """The healthy band of each feature for one candidate."""
    numeric = healthy[names].apply(pd.to_numeric, errors="coerce")
    q = {p: numeric.quantile(p) for p in (0.10, 0.25, 0.75, 0.90)}
    found = {}
    for name in names:
        low, high = float(q[0.25][name]), float(q[0.75][name])
        if kind == "wide" or (kind == "flat_wide" and low == high):
            low, high = float(q[0.10][name]), float(q[0.90][name])
        if not (np.isnan(low) or np.isnan(high)):
            found[name] = (low, high)
    return found


def judge(world: Path, reader: CauseReader) -> list[dict[str, float]]:
    from features.definitions import FEATURE_NAMES, FEATURES

    snapshots = world_snapshots(world)
    names = list(FEATURE_NAMES)
    model, late = quick_churn_model(snapshots, names)
    labelled = snapshots[snapshots["churn"].notna()]
    cut = late["as_of"].min()
    early = labelled[labelled["as_of"] < cut]
    healthy = early[early["churn"] == 0]
    at_risk = np.isin(model.tier(model.predict_proba(late)), ("high", "medium"))
    rows = late.loc[at_risk]
    catalogue = {f.name: f for f in FEATURES}
    contributions = model.contributions(rows)
    causes = pd.read_parquet(causes_file(world))
    results = []
    for kind in CANDIDATES:
        readings = read_batch(
            names,
            rows[names].to_numpy(dtype=float),
            model.feature_names,
            contributions,
            model.family_reference or model.healthy_reference,
            catalogue,
            reader,
            bands=bands(healthy, names, kind),
        )
        found = cause_agreement(causes, rows, [first_families(r) for r in readings])
        shown = [sum(len(f.features) for f in r if f.direction == "raises") for r in readings]
        results.append(
            {
                "world": world.name,
                "kind": kind,
                "rows": found.get("cause_rows", 0.0),
                "first": found.get("cause_first_driver", np.nan),
                "three": found.get("cause_first_three", np.nan),
                "shown": float(np.mean(shown)) if shown else np.nan,
                "none_shown": float(np.mean(np.array(shown) == 0)) if shown else np.nan,
                **{k: v for k, v in found.items() if k.startswith(("cause_first_", "cause_rows_"))},
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
            f" three {r['three']:.1%} shown {r['shown']:.2f} none {r['none_shown']:.1%}"
        )
    summary = frame.groupby("kind").agg(
        first=("first", "mean"),
        worst=("first", "min"),
        three=("three", "mean"),
        shown=("shown", "mean"),
        none_shown=("none_shown", "mean"),
    )
    print(summary.round(4).to_string())
    base = summary.loc["shipped"]
    for kind in CANDIDATES[1:]:
        r = summary.loc[kind]
        passes = (
            r["first"] >= base["first"] - 0.01
            and r["three"] >= base["three"] - 0.01
            and r["worst"] >= base["worst"] - 0.02
        )
        print(f"{kind}: {'passes' if passes else 'fails'} the rule")
    per_cause = [c for c in frame.columns if c.startswith("cause_first_driver_")]
    weights = frame[["kind", "rows", *per_cause]]
    print(weights.groupby("kind")[per_cause].mean().round(3).T.to_string())
    print("pooled over the worlds' snapshots (as training.diagnosis_fit.check reports):")
    for kind, part in frame.groupby("kind"):
        pooled = {}
        for column in per_cause:
            cause = column.removeprefix("cause_first_driver_")
            rows = part[f"cause_rows_{cause}"].fillna(0.0)
            pooled[cause] = round(float((part[column].fillna(0.0) * rows).sum() / rows.sum()), 3)
        print(kind, pooled)


if __name__ == "__main__":
    main()
