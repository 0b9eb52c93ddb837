"""The churn search's simple challenger and the signal families it cannot see (November 2026).

The churn search (`training.search.search_booster`) keeps the simplest candidate within one
standard error of the best on validation, and the simplest is a plain LightGBM on 16 usage
and contract features (`training.baselines.SIMPLE_FEATURES`). No key-user, support, outcome
or milestone feature is among them, although `users.is_key_user` is a required column. Where
that candidate wins, a departed admin or a storm of urgent tickets cannot raise the score,
however plainly the data shows it: the eighth new-user audit found storm accounts scored
0.6-3.6%, none in the riskiest 20%.

Variants of the simple candidate's columns (the plain LightGBM baseline printed by `retain
train` keeps the 16 either way):
- `shipped`: the 16 usage and contract features;
- `leads`: the 16 and, per signal family beyond usage and contract, the features that say
  most plainly that the family is in trouble (`LEADS`): a key user lost and not replaced,
  days since a key user was active, urgent and high tickets open, the oldest open ticket,
  the latest KPI attainment, first value overdue, the latest NPS. A table the company does
  not have leaves its leads empty, and LightGBM never splits on them;
- `no_simple`: no simple candidate (the monotone model or the same unconstrained).

Measured per world, on the test period `retain train` would use (the same split, search
settings and seed): the candidate chosen, the test ROC-AUC of its raw score, and per true
dominant cause (`_truth/causes.parquet`) the mean percentile of the score among the test
rows of the same snapshot date (100 = riskiest) for rows with that cause, and their share
in that date's riskiest 20%.

The rule, written before any run:
- Tuning worlds (`--set tuning`): structure seeds 101 and 102 (where the one-standard-error
  rule was chosen) in two shapes each: 18 months of monthly terms without optional
  tables and growth billed at renewal ("another author's world"), and 24 months with every
  table; plus structure seeds 103-106 at 24 months with every table. 1,000 accounts each,
  data seed 1000 + structure seed.
- A variant is kept if, against `shipped` on the tuning worlds: its mean test ROC-AUC is at
  most 0.002 lower, no world's is more than 0.015 lower, and the mean percentile of
  `support_storm` and of `key_user_gone` rows (each averaged over the worlds that hold
  at least 10 such test rows) is higher. Of the kept, the one with the higher mean ROC-AUC.
- It then runs once on fresh structure seeds 601-608 (`--set untouched`, 24 months, every
  table; and 605-608 also in the 18-month monthly shape), and ships only if there too its
  mean test ROC-AUC is at most 0.002 lower than `shipped`'s and the storm and key-user
  percentiles are not lower. `tests/cli/test_data_shapes.py` must still pass.

Run from this folder: `python simple_challenger.py --set tuning [--cache DIR]`.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from simulator.config import SimConfig
from simulator.world import simulate_to_dir
from training.baselines import SIMPLE_FEATURES
from training.config import load_config
from training.search import search_booster
from training.split import time_split
from training.train import build_training_set

LEADS: tuple[str, ...] = (
    "key_users_lost_unreplaced_90d",
    "days_since_key_user_active",
    "open_tickets_urgent",
    "open_tickets_high",
    "oldest_open_ticket_days",
    "kpi_attainment_latest",
    "first_value_overdue",
    "nps_latest",
)

MONTHLY = SimConfig(monthly_term_share=1.0, tables=(), expansions="renewal")
SETS: dict[str, list[tuple[int, int, SimConfig]]] = {
    "tuning": [
        (101, 18, MONTHLY),
        (102, 18, MONTHLY),
        *[(seed, 24, SimConfig()) for seed in (101, 102, 103, 104, 105, 106)],
    ],
    "untouched": [
        *[(seed, 24, SimConfig()) for seed in range(601, 609)],
        *[(seed, 18, MONTHLY) for seed in (605, 606, 607, 608)],
    ],
}
VARIANTS = ("shipped", "leads", "no_simple")


def world_dir(cache: Path, seed: int, months: int, config: SimConfig, accounts: int) -> Path:
    shape = "monthly" if config.tables == () else "full"
    folder = cache / f"s{seed}_{months}m_{shape}_{accounts}"
    if not (folder / "_truth").is_dir():
        simulate_to_dir(
            folder, accounts, 1000 + seed, months=months, config=config, structure_seed=seed
        )
    return folder


def percentiles(test: pd.DataFrame, score: np.ndarray) -> pd.Series:
    """Each row's percentile of `score` among the rows of its snapshot date (100 = riskiest)."""
    frame = pd.DataFrame({"as_of": test["as_of"].to_numpy(), "score": score})
    return frame.groupby("as_of")["score"].rank(pct=True).mul(100).set_axis(test.index)


def run_world(folder: Path, variants: tuple[str, ...]) -> list[dict[str, object]]:
    config = load_config()
    dataset, as_of = build_training_set(str(folder), None, config)
    split = time_split(dataset, "churn", as_of, config.split)
    names = [c for c in dataset.columns if c in set(_feature_names())]
    causes = pd.read_parquet(folder / "_truth" / "causes.parquet")[
        ["account_id", "as_of", "dominant_cause"]
    ]
    causes["account_id"] = causes["account_id"].astype(str)
    causes["as_of"] = pd.to_datetime(causes["as_of"])
    test = split.test.reset_index(drop=True)
    keyed = test[["account_id", "as_of"]].assign(as_of=lambda f: pd.to_datetime(f["as_of"]))
    cause = keyed.merge(causes, on=["account_id", "as_of"], how="left")["dominant_cause"]
    rows = []
    for variant in variants:
        search = config.search
        simple: list[str] | None = [n for n in SIMPLE_FEATURES if n in names]
        if variant == "leads":
            simple = [n for n in (*SIMPLE_FEATURES, *LEADS) if n in names]
        elif variant == "no_simple":
            search = search.model_copy(update={"challengers": ("unconstrained",)})
            simple = None
        result = search_booster(
            split.train, split.validation, names, "churn", search, config.seed,
            simple_features=simple,
        )  # fmt: skip
        chosen = list(result.feature_names) or names
        x = test[chosen].to_numpy(dtype=float, na_value=np.nan)
        score = np.asarray(result.booster.predict(x, raw_score=True, num_threads=1))
        pct = percentiles(test, score)
        top = pct > 80
        row: dict[str, object] = {
            "world": folder.name,
            "variant": variant,
            "kind": result.kind,
            "features": len(chosen),
            "test_rows": len(test),
            "roc_auc": float(roc_auc_score(test["churn"], score)),
        }
        for name in sorted(cause.dropna().unique()):
            mask = (cause == name).to_numpy()
            row[f"{name}_n"] = int(mask.sum())
            row[f"{name}_pct"] = float(pct[mask].mean())
            row[f"{name}_top20"] = float(top[mask].mean())
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _feature_names() -> list[str]:
    from features.definitions import FEATURES

    return [feature.name for feature in FEATURES]


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant: mean and worst ROC-AUC gap to `shipped`, and the causes' percentiles."""
    shipped = frame[frame["variant"] == "shipped"].set_index("world")
    out = []
    for variant, part in frame.groupby("variant"):
        part = part.set_index("world")
        gap = part["roc_auc"] - shipped["roc_auc"]
        line: dict[str, object] = {
            "variant": variant,
            "roc_auc": part["roc_auc"].mean(),
            "gap_mean": gap.mean(),
            "gap_worst": gap.min(),
            "simple_chosen": int((part["kind"] == "simple").sum()),
        }
        for name in ("support_storm", "key_user_gone", "low_usage", "low_adoption"):
            if f"{name}_pct" not in part:
                continue
            enough = part[f"{name}_n"].fillna(0) >= 10
            line[f"{name}_pct"] = part.loc[enough, f"{name}_pct"].mean()
            line[f"{name}_top20"] = part.loc[enough, f"{name}_top20"].mean()
        out.append(line)
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=list(SETS), required=True)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--cache", type=Path, default=Path("../../data/scache"))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args()
    rows = []
    for seed, months, config in SETS[args.set]:
        folder = world_dir(args.cache, seed, months, config, args.accounts)
        rows += run_world(folder, tuple(args.variants))
    frame = pd.DataFrame(rows)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    frame.to_csv(args.cache / f"simple_challenger_{args.set}_{stamp}.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summary(frame).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
