"""Benchmark: the monitor's measures on 100 features x 5,000 accounts, numpy as reference.

`feature_drift` (PSI, Jensen-Shannon and missing share on quantile bins plus a missing
bin, and PSI since the month before), building the reference (6 months of 5,000
accounts), and the per-decile binomial calibration test on 5,000 matured scores. The
ratio is against one `np.sort` of the same 100 x 5,000 matrix measured in the same run.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from training.monitor.calibration import decile_calibration
from training.monitor.drift import feature_drift
from training.monitor.reference import build_reference

FEATURES, ACCOUNTS, REPEATS = 100, 5_000, 5


def _snapshot(rng: np.random.Generator, month: int, shift: float = 0.0) -> pd.DataFrame:
    values = rng.lognormal(shift, 1.0, (ACCOUNTS, FEATURES))
    values[rng.uniform(size=values.shape) < 0.05] = np.nan
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(FEATURES)])
    frame.insert(0, "as_of", pd.Timestamp(2026, month, 1))
    return frame


def _best(run) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(FEATURES)]
    history = pd.concat([_snapshot(rng, m) for m in range(1, 7)], ignore_index=True)
    today, previous = _snapshot(rng, 8, 0.1), _snapshot(rng, 7)
    matrix = today[names].to_numpy()
    reference = build_reference(history, names)
    p = rng.uniform(0.01, 0.6, ACCOUNTS)
    y = rng.binomial(1, p)
    sort = _best(lambda: np.sort(matrix, axis=0))
    timings = {
        "feature_drift (100 features, vs reference and last month)": _best(
            lambda: feature_drift(reference, today, names, previous)
        ),
        "build_reference (6 months x 5,000 accounts)": _best(
            lambda: build_reference(history, names)
        ),
        "decile_calibration (binomtest, 5,000 scores)": _best(
            lambda: decile_calibration(p, y, 0.01, 0.05)
        ),
    }
    print(f"reference: np.sort of {ACCOUNTS} x {FEATURES}: {sort * 1000:.1f} ms")
    for name, seconds in timings.items():
        print(f"{name:58} {seconds * 1000:8.1f} ms  ({seconds / sort:6.1f}x the sort)")


if __name__ == "__main__":
    main()
