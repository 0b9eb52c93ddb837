"""Benchmark: the pooled uplift learner's regression with one BLAS thread vs the default.

`training.uplift.pooled._logit_shifts` fits every action's shift of the churn log-odds by
L-BFGS: hundreds of products of a thin matrix (snapshots x a dozen columns) per fit, each
too small to share between threads. It runs with one BLAS thread; the reference is
OpenBLAS's default (one thread per core), on the same synthetic problem (`--rows`
snapshots, 11 actions, 10 modifiers), the best of `--repeat` runs, interleaved; once with
the machine as it is (run it on a quiet one) and once with another process keeping one core
busy (as under `make test`'s two workers, or a server next to other jobs). Ratios below 1
mean one thread is faster.

Run with `make bench` (or `python bench/bench_pooled.py [--rows N] [--repeat R]`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.uplift.pooled import _logit_shifts  # noqa: E402

ACTIONS, MODIFIERS = 11, 10


def problem(rows: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Actions (5% of snapshots each), symptoms, modifiers and churn with known shifts."""
    rng = np.random.default_rng(seed)
    T = (rng.random((rows, ACTIONS)) < 0.05).astype(float)
    A = (rng.random((rows, ACTIONS)) < 0.3).astype(float)
    S = rng.normal(size=(rows, MODIFIERS))
    offset = rng.normal(-1.5, 1.0, rows)
    modifiers = rng.normal(0.0, 0.3, (ACTIONS, MODIFIERS))
    eta = offset + T @ rng.normal(-0.3, 0.2, ACTIONS) + np.sum(T * (S @ modifiers.T), axis=1)
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return T, A, S, y, offset, np.ones(rows)


def best_of(repeat: int, args: tuple[np.ndarray, ...]) -> dict[str, float]:
    """Best time of each setting over `repeat` interleaved runs."""
    best = {"one thread": np.inf, "default": np.inf}
    for _ in range(repeat):
        for name, threads in (("default", None), ("one thread", 1)):
            start = time.perf_counter()
            _logit_shifts(*args, l2=1e-3, symptom_l2=1e-3, blas_threads=threads)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def spin(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    while not stop.is_set():
        sum(range(10_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = problem(args.rows)
    a = _logit_shifts(*data, l2=1e-3, symptom_l2=1e-3, blas_threads=None)
    b = _logit_shifts(*data, l2=1e-3, symptom_l2=1e-3, blas_threads=1)
    print(f"same coefficients: max difference {np.abs(a - b).max():.1e}")
    for label, busy in (("machine as it is", False), ("one core kept busy", True)):
        stop = multiprocessing.Event()
        spinner = multiprocessing.Process(target=spin, args=(stop,)) if busy else None
        if spinner is not None:
            spinner.start()
        try:
            best = best_of(args.repeat, data)
        finally:
            if spinner is not None:
                stop.set()
                spinner.join()
        ratio = best["one thread"] / best["default"]
        print(
            f"{label}: one BLAS thread {best['one thread']:.2f} s, default"
            f" {best['default']:.2f} s: ratio {ratio:.2f} ({args.rows:,} snapshots)"
        )


if __name__ == "__main__":
    main()
