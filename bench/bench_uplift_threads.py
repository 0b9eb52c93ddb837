"""Benchmark: the pooled uplift learner's fit with its bags and folds on two threads vs one.

`UpliftModel.fit` (pooled learner) fits, per action, a propensity model, then cross-fitted
chances for the R-learner centring (folds x actions) and `bags` bootstrap bags, each a
cross-fitted LightGBM baseline and an L-BFGS regression: single-threaded LightGBM fits,
independent of one another. `training.uplift.pooled.in_threads` runs them on `THREADS`
threads; the reference is the same fit on one thread, on the same synthetic problem
(`--accounts` x 3 monthly snapshots, 30 features, 11 actions), the best of `--repeat` runs,
interleaved. Ratios below 1 mean the threads are faster; the fits are identical
(`tests/training/test_uplift.py`). On a 10,000-account world `retain train` spent about
80% of its 28.5 minutes in the uplift fits (docs/results.md, "Speed").

Run with `make bench` (or `python bench/bench_uplift_threads.py [--accounts N] [--repeat R]`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import training.uplift.pooled as pooled  # noqa: E402
from features.contract import ACTION_CODES  # noqa: E402
from training.uplift.config import UpliftConfig, load_uplift_config  # noqa: E402
from training.uplift.model import UpliftModel  # noqa: E402

MONTHS, FEATURES = 3, 30


def problem(
    accounts: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Snapshots, actions done (about 5% each, more at risk) and churn with known effects."""
    rng = np.random.default_rng(seed)
    n = accounts * MONTHS
    X = pd.DataFrame(rng.normal(size=(n, FEATURES)), columns=[f"f{i}" for i in range(FEATURES)])
    risk = -1.2 - 0.9 * X["f0"].to_numpy() + 0.6 * X["f1"].to_numpy()
    actions = list(ACTION_CODES)
    done = rng.random((n, len(actions))) < 0.03 + 0.05 / (1 + np.exp(-risk))[:, None]
    effects = rng.uniform(-0.8, 0.1, len(actions))
    logit = risk + done.astype(float) @ effects
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    groups = np.repeat(np.arange(accounts), MONTHS).astype(str)
    return X, pd.DataFrame(done.astype(int), columns=actions), churn, groups


def fit_seconds(threads: int, data: tuple[object, ...], config: UpliftConfig) -> float:
    pooled.THREADS = threads
    X, treatments, churn, groups = data
    started = time.perf_counter()
    UpliftModel(config, random_state=0).fit(X, treatments, churn, groups)  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = load_uplift_config().model_copy(update={"causes": False, "symptoms": False})
    data = problem(args.accounts)
    threads = 2
    times: dict[int, list[float]] = {1: [], threads: []}
    for _ in range(args.repeat):
        for count in times:
            times[count].append(fit_seconds(count, data, config))
    one, many = min(times[1]), min(times[threads])
    print(
        f"pooled uplift fit, {args.accounts * MONTHS:,} snapshots x {len(ACTION_CODES)} actions,"
        f" {config.bags} bags: {threads} threads / 1 thread = {many / one:.2f}"
        f" (best of {args.repeat}: {many:.1f} s / {one:.1f} s)"
    )


if __name__ == "__main__":
    main()
