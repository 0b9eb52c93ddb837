"""Benchmark: point-in-time features from a CSV export, stored once vs read through views.

A CSV file is parsed again by every query that reads a view over it, and the features read
`events` many times, so `features.source.create_typed_views` types each CSV table once
into DuckDB. This compares, on the same simulated export (400 accounts, 24 months) written
as CSV and as Parquet, in the same run:

* CSV, typed tables stored once (what `load_source` does);
* CSV, typed views over the files (what it did before; the reference);
* Parquet, typed views (read in place, columnar: the yardstick);

each the time to load the source (validation included) and compute every feature for 12
monthly snapshots, the best of `--repeat` runs (default 3), interleaved, as ratios.

Run with `make bench` (or `python bench/bench_csv.py [--accounts N] [--repeat R]`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.casting import quote  # noqa: E402
from features.compute import compute_features  # noqa: E402
from features.source import Source, load_source, typed_select  # noqa: E402
from simulator.world import simulate  # noqa: E402

SNAPSHOTS = list(pd.date_range("2024-12-01", periods=12, freq="MS").to_pydatetime())


def as_views(source: Source) -> None:
    """Turn the stored CSV tables back into typed views over the files (the old way)."""
    for name in source.present:
        kind = source.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        if kind is None or kind[0] != "BASE TABLE":
            continue
        source.con.execute(f"DROP TABLE {quote(name)}")
        source.con.execute(f"CREATE VIEW {quote(name)} AS {typed_select(source, name)}")


def features_seconds(folder: Path, prepare: Callable[[Source], None] | None = None) -> float:
    started = time.perf_counter()
    with load_source(folder) as source:
        if prepare is not None:
            prepare(source)
        features = compute_features(source.con, SNAPSHOTS)
    assert len(features) > 0
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    world = simulate(args.accounts, seed=21, months=24)
    with tempfile.TemporaryDirectory() as folder:
        csv, parquet = Path(folder) / "csv", Path(folder) / "parquet"
        for path, fmt in ((csv, "csv"), (parquet, "parquet")):
            path.mkdir()
            for name, frame in world.tables.items():
                if fmt == "csv":
                    frame.to_csv(path / f"{name}.csv", index=False)
                else:
                    frame.to_parquet(path / f"{name}.parquet", index=False)
        events = len(world.tables["events"])
        print(f"{args.accounts} accounts, {events:,} events, 12 monthly snapshots, all features")
        stored, views, columnar = [], [], []
        for _ in range(args.repeat):
            stored.append(features_seconds(csv))
            views.append(features_seconds(csv, as_views))
            columnar.append(features_seconds(parquet))
    best_stored, best_views, best_parquet = min(stored), min(views), min(columnar)
    print(f"CSV, typed tables stored once: {best_stored:6.2f} s")
    print(
        f"CSV, typed views (reference):  {best_views:6.2f} s -> stored once is "
        f"{best_views / best_stored:.1f}x faster"
    )
    print(
        f"Parquet, typed views:          {best_parquet:6.2f} s -> CSV stored once takes "
        f"{best_stored / best_parquet:.1f}x Parquet's time"
    )


if __name__ == "__main__":
    main()
