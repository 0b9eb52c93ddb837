"""Benchmark: point-in-time features for 12 monthly snapshots over >= 10 million events.

Generates `data/bench/` once (a simulated world replicated with shifted ids via
DuckDB until it holds enough events) and reuses it. Reports:

* all features, 12 monthly snapshots, DuckDB reading Parquet in place: seconds
  and events per second (target: under 30 s);
* a subset (30-day events, active users, value share, active days) in DuckDB
  and in a straightforward pandas implementation on the same data, the ratio,
  and a check that both give the same numbers;
* peak memory after the DuckDB part (events never enter Python there) and
  after the pandas part.

Each measurement is repeated (`--repeat`, default 3) with DuckDB and the pandas
reference interleaved, so both see the same load on a shared machine; the
best run is reported, with the median for DuckDB.

Run with `make bench` (or `python bench/bench_features.py [--events N]`).
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.compute import compute_features, features_sql  # noqa: E402
from features.contract import TABLES  # noqa: E402
from features.definitions import FEATURES, feature  # noqa: E402
from features.snapshots import snapshot_dates  # noqa: E402
from features.source import load_source  # noqa: E402
from simulator.bulk import ID_COLUMNS  # noqa: E402

BENCH = ROOT / "data" / "bench"
SEED_ACCOUNTS = 1000
SUBSET = ("events_30d", "active_users_30d", "value_share_30d", "active_days_30d")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _replicated(table: str, source: str, copy: int) -> str:
    columns = []
    for column in TABLES[table].column_names:
        if column in ID_COLUMNS and copy:
            columns.append(f"CAST({column} AS VARCHAR) || '~{copy}' AS {column}")
        else:
            columns.append(column)
    return f"SELECT {', '.join(columns)} FROM {source}"


def generate(min_events: int) -> None:
    """Simulate a seed world and replicate it with shifted ids until it has `min_events`."""
    from simulator.world import simulate_to_dir

    seed_dir = BENCH / "_seed_world"
    if not (seed_dir / "accounts.parquet").exists():
        print(f"simulating a seed world of {SEED_ACCOUNTS} accounts into {seed_dir} ...")
        simulate_to_dir(seed_dir, n_accounts=SEED_ACCOUNTS, seed=7, months=24)
    con = duckdb.connect()
    events_glob = f"read_parquet('{seed_dir}/events/*.parquet')"
    seed_events = con.execute(f"SELECT COUNT(*) FROM {events_glob}").fetchall()[0][0]
    copies = max(1, math.ceil(min_events / seed_events))
    print(f"replicating {seed_events:,} events x {copies} with shifted ids ...")
    (BENCH / "events").mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        source = events_glob if name == "events" else f"read_parquet('{seed_dir}/{name}.parquet')"
        if name != "events" and not (seed_dir / f"{name}.parquet").exists():
            continue
        if name == "events":
            for copy in range(copies):
                target = BENCH / "events" / f"copy-{copy:03d}.parquet"
                con.execute(
                    f"COPY ({_replicated(name, source, copy)}) TO '{target}' (FORMAT parquet)"
                )
        else:
            union = " UNION ALL ".join(_replicated(name, source, copy) for copy in range(copies))
            con.execute(f"COPY ({union}) TO '{BENCH / name}.parquet' (FORMAT parquet)")
    con.close()


def pandas_subset(events_dir: Path, grid: list[datetime]) -> tuple[pd.DataFrame, float, float]:
    """The subset features in plain pandas: (frame, read seconds, compute seconds)."""
    started = time.perf_counter()
    events = pd.read_parquet(events_dir, columns=["ts", "account_id", "user_id", "event_type"])
    read = time.perf_counter() - started
    started = time.perf_counter()
    events["day"] = events["ts"].dt.floor("D")
    events["is_value"] = events["event_type"].eq("value")
    frames = []
    for as_of in grid:
        window = events[(events["ts"] <= as_of) & (events["ts"] > as_of - pd.Timedelta(days=30))]
        grouped = window.groupby("account_id")
        frame = pd.DataFrame(
            {
                "events_30d": grouped.size(),
                "active_users_30d": grouped["user_id"].nunique(),
                "value_share_30d": grouped["is_value"].mean(),
                "active_days_30d": grouped["day"].nunique(),
            }
        )
        frames.append(frame.reset_index().assign(as_of=pd.Timestamp(as_of)))
    return pd.concat(frames, ignore_index=True), read, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="minimum events")
    parser.add_argument("--regenerate", action="store_true", help="rebuild data/bench")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    args = parser.parse_args()
    if args.regenerate:
        shutil.rmtree(BENCH, ignore_errors=True)
    if not (BENCH / "accounts.parquet").exists():
        generate(args.events)

    grid = snapshot_dates("2025-01-01", "2025-12-01", "1M")
    with load_source(BENCH) as source:
        con = source.con
        n_events = con.execute("SELECT COUNT(*) FROM events").fetchall()[0][0]
        print(
            f"{n_events:,} events in {BENCH}; {len(grid)} monthly snapshots; "
            f"{len(FEATURES)} features"
        )
        full_times, subset_times, pandas_runs = [], [], []
        subset_defs = [feature(name) for name in SUBSET]
        rss_duckdb = 0.0
        # Interleaved, so DuckDB and the pandas reference see the same machine load.
        for _ in range(args.repeat):
            started = time.perf_counter()
            full = compute_features(con, grid)
            full_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            duck_subset = con.execute(features_sql(grid, subset_defs)).df()
            subset_times.append(time.perf_counter() - started)
            rss_duckdb = rss_duckdb or peak_rss_mb()  # before pandas ever ran
            pandas_runs.append(pandas_subset(BENCH / "events", grid))

    full_s, subset_s = min(full_times), min(subset_times)
    print(
        f"all features, DuckDB:  {full_s:6.2f} s  {n_events / full_s:>14,.0f} events/s  "
        f"({len(full):,} account snapshots; target < 30 s: {'met' if full_s < 30 else 'MISSED'}; "
        f"best of {args.repeat}, median {statistics.median(full_times):.2f} s)"
    )
    print(
        f"subset, DuckDB:        {subset_s:6.2f} s  {n_events / subset_s:>14,.0f} events/s  "
        f"(best of {args.repeat}, median {statistics.median(subset_times):.2f} s)"
    )
    print(f"peak memory after DuckDB part: {rss_duckdb:,.0f} MB")

    pandas_frame = pandas_runs[0][0]
    read_s = min(run[1] for run in pandas_runs)
    pandas_s = min(run[2] for run in pandas_runs)
    print(
        f"subset, pandas:        {pandas_s:6.2f} s  {n_events / pandas_s:>14,.0f} events/s "
        f"(+ {read_s:.2f} s to read the events into memory; best of {args.repeat})"
    )
    print(f"peak memory after pandas part: {peak_rss_mb():,.0f} MB")
    print(f"ratio pandas / DuckDB, subset:            {pandas_s / subset_s:5.1f}x")
    print(f"ratio pandas (with read) / DuckDB subset: {(pandas_s + read_s) / subset_s:5.1f}x")
    print(f"ratio pandas subset / DuckDB all features: {(pandas_s + read_s) / full_s:5.1f}x")

    merged = full[["account_id", "as_of", *SUBSET]].merge(
        pandas_frame, on=["account_id", "as_of"], how="left", suffixes=("", "_pandas")
    )
    for name in ("events_30d", "active_users_30d", "active_days_30d"):
        merged[f"{name}_pandas"] = merged[f"{name}_pandas"].fillna(0.0)
    for name in SUBSET:
        np.testing.assert_allclose(
            merged[name], merged[f"{name}_pandas"], rtol=1e-9, equal_nan=True
        )
    np.testing.assert_allclose(
        duck_subset.sort_values(["as_of", "account_id"])[list(SUBSET)].to_numpy(dtype=float),
        full[list(SUBSET)].to_numpy(dtype=float),
        rtol=1e-9,
        equal_nan=True,
    )
    print(
        f"check: DuckDB and pandas agree on {len(merged):,} account snapshots "
        f"x {len(SUBSET)} features"
    )


if __name__ == "__main__":
    main()
