"""Benchmark: the bootstrap of a ROC-AUC gap, weighted resamples vs scikit-learn per resample.

`training.evaluate.paired_auc_gap` puts a standard error on the gap between two models'
ROC-AUC by resampling accounts (`retain train` compares the model with each baseline on
the test period, and the search compares candidates on validation). The reference is the
earlier loop: copy the drawn accounts' rows and call `sklearn.metrics.roc_auc_score` twice
per resample. The measured code sorts each score once and weights rows by how often their
account was drawn (`evaluate.WeightedAuc`). Same synthetic problem (`--rows` snapshots of
`--rows / 5` accounts, 200 resamples), the best of `--repeat` interleaved runs; the two
must give the same standard error. Ratios below 1 mean the weighted bootstrap is faster.

Run with `make bench` (or `python bench/bench_auc.py [--rows N] [--repeat R]`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.evaluate import paired_auc_gap  # noqa: E402

DRAWS = 200


def reference(y: np.ndarray, p: np.ndarray, q: np.ndarray, accounts: np.ndarray) -> float:
    """The standard error as computed before: rows copied, scikit-learn on each resample."""
    codes, groups = pd.factorize(pd.Series(accounts))
    rows_of = [np.flatnonzero(codes == g) for g in range(len(groups))]
    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(DRAWS):
        rows = np.concatenate([rows_of[g] for g in rng.integers(0, len(groups), len(groups))])
        if np.unique(y[rows]).size < 2:
            continue
        gaps.append(roc_auc_score(y[rows], p[rows]) - roc_auc_score(y[rows], q[rows]))
    return float(np.std(gaps, ddof=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    y = (rng.random(args.rows) < 0.15).astype(float)
    accounts = np.repeat(np.arange(args.rows // 5 + 1), 5)[: args.rows]
    p = np.round(y + rng.normal(0, 1.0, args.rows), 3)  # some tied scores
    q = np.round(y + rng.normal(0, 1.5, args.rows), 3)

    best = {"scikit-learn per resample": np.inf, "weighted resamples": np.inf}
    errors = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        errors["scikit-learn per resample"] = reference(y, p, q, accounts)
        best["scikit-learn per resample"] = min(
            best["scikit-learn per resample"], time.perf_counter() - start
        )
        start = time.perf_counter()
        errors["weighted resamples"] = paired_auc_gap(y, p, q, accounts, draws=DRAWS)[1]
        best["weighted resamples"] = min(best["weighted resamples"], time.perf_counter() - start)

    reference_seconds = best["scikit-learn per resample"]
    print(f"paired ROC-AUC gap, {args.rows:,} rows, {DRAWS} resamples (best of {args.repeat})")
    for name, seconds in best.items():
        print(
            f"  {name:<26} {seconds:8.3f} s  ratio {seconds / reference_seconds:5.2f}"
            f"  standard error {errors[name]:.6f}"
        )
    if not np.isclose(errors["weighted resamples"], errors["scikit-learn per resample"]):
        raise SystemExit("the two bootstraps disagree")


if __name__ == "__main__":
    main()
