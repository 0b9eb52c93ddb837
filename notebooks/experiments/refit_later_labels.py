"""Refitting the registered churn model on the labels after its training months (Nov 2026).

The twelfth new-user audit: `retain train` fits the churn model on the training months,
stops early and calibrates on the validation months, reports on the test months, and
registers that model. At a 20-month cut of its export the model had 6 training months (597
snapshots, 14 churned) and ranked the next renewals at 0.580, where a logistic regression
on every label known at the cut ranked them at 0.695. After a retrain the registered model
had learned nothing from the months since a tracking change.

The candidate (`refit`): once the split has judged the procedure, train the chosen
candidate (its features, parameters and constraints) again on the training and validation
months, stopping early on the test months, and calibrate on the test months: the split rolled
forward by one period, so the model learns from the latest labels and is still calibrated
out of sample. Against `shipped` (the model registered today).

Judged on what neither saw: the data is simulated to its end, the models are trained as of
a cut seven months before it (only labels known at the cut), and both are scored on the
snapshots of the six months after the cut whose renewals are known by the end. Measures:
ROC-AUC, Brier score, calibration error (`training.evaluate.evaluate`). For context, a
logistic regression on every label known at the cut (`logistic_all`, not a candidate).

The rule, written before any run:
- Tuning worlds (`--set tuning`): structure seeds 701 and 702 in the 18-month monthly shape
  without optional tables (another author's world), 703 and 704 at 24 months with every
  table; 800 accounts, data seed 1000 + structure seed.
- `refit` passes if, against `shipped` over the worlds: the mean ROC-AUC gap is >= 0, no
  world's gap is below -0.02, and the mean Brier score gap is <= 0.
- If it passes, it runs once on fresh structure seeds 705-708 (705 and 706 monthly, 707 and
  708 full; `--set untouched`) under the same conditions, and only then is it built into
  `retain train`.

The tuning run (same day): the refit ranked better on all four worlds (+0.033 on average)
but was worse calibrated on the two annual ones (Brier +0.024 and +0.007): it fails.

A second candidate, with its rule written before its run (`refit_mapped`): the refit's
ranking with the registered model's calibration, carried over without labels. On the
accounts of the latest snapshot before the cut (what `retain train` has at hand, no label
needed), each refit score is mapped to the registered model's probability at the same
quantile (`quantile_map`): the refit decides the order, the registered model how many
churn. Rule: the same three conditions against `shipped` on tuning 701-704; if they hold,
once on fresh 705-708 under the same conditions.

The second candidate's tuning run (same day): ROC-AUC +0.030 on average, calibration
error no worse on any world, Brier +0.00016 on average (0.0017 worse on 703): it fails.

A third candidate, with its rule written before its run (`refit_fixed`): the chosen
candidate trained on the training and validation months for as many rounds as the
registered model stopped at, with the registered model's calibrator (fitted on the
validation months) on its raw scores. It sees no test-period label, so the test months
still judge it as they judge the registered model. Its rule: the same three conditions
against `shipped`, on tuning worlds neither candidate above has seen (`--set tuning2`:
709 and 710 monthly, 711 and 712 full); if they hold, once on fresh 713-716 (`--set
untouched2`, the same shapes).

The third candidate's runs (same day): tuning2 passed (ROC-AUC +0.022 mean, +0.005 worst;
Brier -0.0005); untouched2 failed (ROC-AUC +0.007 mean, -0.005 worst; Brier +0.0005).
Not shipped (docs/results.md, "A twelfth new-user audit").

Run from this folder: `python refit_later_labels.py --set tuning [--cache DIR]`.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from simple_challenger import world_dir

from simulator.config import SimConfig
from training.baselines import LogisticBaseline
from training.calibration import Calibrator
from training.config import load_config
from training.evaluate import evaluate
from training.model import healthy_reference
from training.search import churn_monotone_constraints, fit_booster
from training.split import time_split
from training.train import build_training_set, fit_target

MONTHLY = SimConfig(monthly_term_share=1.0, tables=(), expansions="renewal")
SETS: dict[str, list[tuple[int, int, SimConfig]]] = {
    "tuning": [
        (701, 18, MONTHLY),
        (702, 18, MONTHLY),
        (703, 24, SimConfig()),
        (704, 24, SimConfig()),
    ],
    "tuning2": [
        (709, 18, MONTHLY),
        (710, 18, MONTHLY),
        (711, 24, SimConfig()),
        (712, 24, SimConfig()),
    ],
    "untouched2": [
        (713, 18, MONTHLY),
        (714, 18, MONTHLY),
        (715, 24, SimConfig()),
        (716, 24, SimConfig()),
    ],
    "untouched": [
        (705, 18, MONTHLY),
        (706, 18, MONTHLY),
        (707, 24, SimConfig()),
        (708, 24, SimConfig()),
    ],
}
CUT_MONTHS = 7  # the cut, before the data's end
AFTER_MONTHS = 6  # snapshots judged after the cut


def refit(result, config):  # type: ignore[no-untyped-def]
    """The chosen candidate trained on training + validation months.

    Stopped early and calibrated on the test months.
    """
    split, search = result.split, result.search
    chosen = list(result.model.feature_names)
    both = pd.concat([split.train, split.validation])
    monotone = (
        churn_monotone_constraints(chosen)
        if search.kind == "configured" and config.search.monotone_churn
        else None
    )
    test_x = split.test[chosen].to_numpy(dtype=float, na_value=np.nan)
    test_y = split.test["churn"].to_numpy(dtype=float)
    booster = fit_booster(
        both[chosen].to_numpy(dtype=float, na_value=np.nan),
        both["churn"].to_numpy(dtype=float),
        test_x,
        test_y,
        search.params,
        config.search,
        config.seed,
        monotone,
    )
    calibrator = Calibrator(config.calibration).fit(
        booster.predict(test_x, raw_score=True, num_threads=1), split.test["churn"]
    )

    def predict(frame: pd.DataFrame) -> np.ndarray:
        x = frame[chosen].to_numpy(dtype=float, na_value=np.nan)
        return np.asarray(calibrator.transform(booster.predict(x, raw_score=True, num_threads=1)))

    return predict, booster.best_iteration


def refit_fixed(result):  # type: ignore[no-untyped-def]
    """The chosen candidate on training + validation months, registered rounds, calibrator.

    No test-period label is seen.
    """
    import lightgbm as lgb

    split, search = result.split, result.search
    chosen = list(result.model.feature_names)
    both = pd.concat([split.train, split.validation])
    rounds = max(1, int(search.best_iteration))
    params = dict(search.booster.params)  # as the registered booster was trained
    for key in ("early_stopping_round", "early_stopping_rounds", "num_iterations", "metric"):
        params.pop(key, None)
    booster = lgb.train(
        params,
        lgb.Dataset(
            both[chosen].to_numpy(dtype=float, na_value=np.nan),
            label=both["churn"].to_numpy(dtype=float),
        ),
        num_boost_round=rounds,
    )
    calibrator = result.model.calibrator

    def predict(frame: pd.DataFrame) -> np.ndarray:
        x = frame[chosen].to_numpy(dtype=float, na_value=np.nan)
        return np.asarray(calibrator.transform(booster.predict(x, raw_score=True, num_threads=1)))

    return predict


def quantile_map(reference_from: np.ndarray, reference_to: np.ndarray, scores: np.ndarray):  # type: ignore[no-untyped-def]
    """Each score's quantile among `reference_from`, read off `reference_to` at that quantile."""
    source, target = np.sort(reference_from), np.sort(reference_to)
    levels = np.linspace(0.0, 1.0, len(source))
    quantile = np.interp(scores, source, levels)
    return np.interp(quantile, np.linspace(0.0, 1.0, len(target)), target)


def run_world(folder: Path) -> dict[str, object]:
    config = load_config()
    dataset, end = build_training_set(str(folder), None, config)
    cut = (pd.Timestamp(end) - relativedelta(months=CUT_MONTHS)).to_pydatetime()
    names = [c for c in dataset.columns if c in set(_feature_names())]
    split = time_split(dataset, "churn", cut, config.split)
    healthy = healthy_reference(split.train[split.train["churn"] == 0], names)
    result = fit_target(dataset, "churn", cut, config, names, healthy, lambda _: None, split)
    refitted, rounds = refit(result, config)
    when = pd.to_datetime(dataset["as_of"])
    after = dataset[
        (when >= pd.Timestamp(cut))
        & (when < pd.Timestamp(cut) + pd.DateOffset(months=AFTER_MONTHS))
        & dataset["churn"].notna()
        & (pd.to_datetime(dataset["renewal_date"]) <= pd.Timestamp(end))
    ]
    latest = dataset[when == when[when < pd.Timestamp(cut)].max()]  # no label needed
    mapped = quantile_map(refitted(latest), result.model.predict_proba(latest), refitted(after))
    every = pd.concat([split.train, split.validation, split.test])
    logistic = LogisticBaseline(names, "churn").fit(every)
    outcome = after["churn"].to_numpy(dtype=float)
    row: dict[str, object] = {
        "world": folder.name,
        "cut": f"{cut:%Y-%m-%d}",
        "kind": result.search.kind,
        "train_rows": len(split.train),
        "train_positives": int(split.train["churn"].sum()),
        "months": json.dumps(split.months()),
        "after_rows": len(after),
        "after_positives": int(outcome.sum()),
        "rounds_shipped": result.search.best_iteration,
        "rounds_refit": rounds,
    }
    for arm, p in (
        ("shipped", result.model.predict_proba(after)),
        ("refit", refitted(after)),
        ("refit_mapped", mapped),
        ("refit_fixed", refit_fixed(result)(after)),
        ("logistic_all", logistic.predict_proba(after)),
    ):
        metrics = evaluate(outcome, p, after["as_of"])
        for key in ("roc_auc", "brier", "ece"):
            row[f"{arm}_{key}"] = float(metrics[key])
    print(json.dumps(row), flush=True)
    return row


def _feature_names() -> list[str]:
    from features.definitions import FEATURES

    return [feature.name for feature in FEATURES]


def verdict(frame: pd.DataFrame, arm: str = "refit") -> str:
    auc = frame[f"{arm}_roc_auc"] - frame["shipped_roc_auc"]
    brier = frame[f"{arm}_brier"] - frame["shipped_brier"]
    passes = auc.mean() >= 0 and auc.min() >= -0.02 and brier.mean() <= 0
    return (
        f"{arm}: ROC-AUC gap mean {auc.mean():+.4f}, worst {auc.min():+.4f}; Brier gap mean"
        f" {brier.mean():+.5f}: {'passes' if passes else 'fails'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=list(SETS), required=True)
    parser.add_argument("--accounts", type=int, default=800)
    parser.add_argument("--cache", type=Path, default=Path("../../data/rcache"))
    args = parser.parse_args()
    rows = [
        run_world(world_dir(args.cache, seed, months, config, args.accounts))
        for seed, months, config in SETS[args.set]
    ]
    frame = pd.DataFrame(rows)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    frame.to_csv(args.cache / f"refit_{args.set}_{stamp}.csv", index=False)
    columns = [c for c in frame.columns if c.endswith(("roc_auc", "brier", "ece"))]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(frame[["world", "train_positives", "after_rows", *columns]].round(4).to_string())
    print(verdict(frame))
    print(verdict(frame, "refit_mapped"))
    print(verdict(frame, "refit_fixed"))


if __name__ == "__main__":
    main()
