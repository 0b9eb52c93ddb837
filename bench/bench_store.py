"""Benchmark: the service's store (touchpoints, score log) on SQLite and PostgreSQL.

Reports, in the same run:

* touchpoints recorded through `Store.add_touchpoint` (one transaction each, idempotency
  read included) by 4 threads, per second, against plain driver inserts with the same
  durability (sqlite3 WAL + synchronous=FULL; psycopg autocommit), as a ratio;
* one `retain score` run's log: 5,000 rows in one `Store.log_scores` transaction;
* what the API's score-log hook costs a request (`ScoreLogger.offer`, sample 1.0).

PostgreSQL is measured when the local server answers (127.0.0.1:5432, database test).
Run with `make bench` (or `python bench/bench_store.py [--touchpoints N]`).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serving.score_log import ScoreLogger  # noqa: E402
from store import Store, Touchpoint  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
THREADS = 4
WHEN = datetime(2026, 6, 1)


def in_threads(work, per_thread: int) -> float:
    """Rows per second of `work(thread, i)` run by THREADS threads."""
    threads = [
        threading.Thread(target=lambda t=t: [work(t, i) for i in range(per_thread)])
        for t in range(THREADS)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return THREADS * per_thread / (time.perf_counter() - started)


def store_rate(url: str, per_thread: int) -> float:
    with Store(url) as store:
        store.check()  # schema created outside the timing
        return in_threads(
            lambda t, i: store.add_touchpoint(
                Touchpoint(f"t{t}-{i}", f"acct-{i % 500:04d}", WHEN + timedelta(minutes=i),
                           "health_check", "dana", "bench")
            ),
            per_thread,
        )  # fmt: skip


def raw_sqlite_rate(path: Path, per_thread: int) -> float:
    local = threading.local()

    def insert(t: int, i: int) -> None:
        if not hasattr(local, "con"):
            local.con = sqlite3.connect(path, timeout=10, isolation_level=None)
            local.con.execute("PRAGMA journal_mode=WAL")
            local.con.execute("PRAGMA synchronous=FULL")
        local.con.execute(
            "INSERT INTO touchpoints VALUES (?, ?, ?, ?, ?, ?)",
            (f"t{t}-{i}", f"acct-{i % 500:04d}", str(WHEN), "health_check", "dana", "bench"),
        )

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE touchpoints (touchpoint_id TEXT PRIMARY KEY, account_id TEXT, "
                "ts TEXT, type TEXT, owner TEXT, notes TEXT)")  # fmt: skip
    con.close()
    return in_threads(insert, per_thread)


def raw_postgres_rate(schema: str, per_thread: int) -> float:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as con:
        columns = "account_id text, ts timestamp, type text, owner text, notes text"
        con.execute(f'CREATE TABLE "{schema}".raw (touchpoint_id text PRIMARY KEY, {columns})')
    local = threading.local()

    def insert(t: int, i: int) -> None:
        if not hasattr(local, "con"):
            local.con = psycopg.connect(POSTGRES, autocommit=True)
        local.con.execute(
            f'INSERT INTO "{schema}".raw VALUES (%s, %s, %s, %s, %s, %s)',
            (f"t{t}-{i}", f"acct-{i % 500:04d}", WHEN, "health_check", "dana", "bench"),
        )

    return in_threads(insert, per_thread)


def score_rows(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [f"acct-{i:05d}" for i in range(n)],
            "as_of": WHEN,
            "churn_probability": 0.2,
            "upsell_probability": 0.1,
            "model_version": "retain-churn:v3,retain-upsell:v2",
            "next_best_action": "health_check",
        }
    )


def batch_seconds(url: str) -> float:
    with Store(url) as store:
        store.check()
        started = time.perf_counter()
        store.log_scores(score_rows(5_000), "batch")
        return time.perf_counter() - started


def postgres_up() -> bool:
    import psycopg

    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, default=400, help="per thread")
    args = parser.parse_args()
    n = args.touchpoints
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ours = store_rate(f"sqlite:///{tmp}/store.db", n)
        raw = raw_sqlite_rate(tmp / "raw.db", n)
        print(f"SQLite (WAL, FULL) touchpoints, {THREADS} threads: store {ours:,.0f}/s, "
              f"plain sqlite3 {raw:,.0f}/s (ratio {raw / ours:.2f}x)")  # fmt: skip
        print(f"SQLite score log, 5,000 rows in one transaction: "
              f"{batch_seconds(f'sqlite:///{tmp}/store.db'):.3f} s")  # fmt: skip
        logger = ScoreLogger(Store(f"sqlite:///{tmp}/hook.db"), 1.0)
        score = [SimpleNamespace(**score_rows(1).iloc[0].to_dict())]
        started = time.perf_counter()
        for _ in range(2_000):
            logger.offer(score)
        per_call = (time.perf_counter() - started) / 2_000
        logger.close()
        print(f"API score-log hook (sample 1.0): {per_call * 1e6:.1f} us per request")
    if not postgres_up():
        print("PostgreSQL: no server at 127.0.0.1:5432, skipped")
        return
    import psycopg

    schema = f"retain_bench_{uuid.uuid4().hex[:8]}"
    url = f"{POSTGRES}?schema={schema}"
    try:
        ours = store_rate(url, n)
        raw = raw_postgres_rate(schema, n)
        print(f"PostgreSQL touchpoints, {THREADS} threads: store {ours:,.0f}/s, "
              f"plain psycopg {raw:,.0f}/s (ratio {raw / ours:.2f}x)")  # fmt: skip
        print(f"PostgreSQL score log, 5,000 rows in one transaction: {batch_seconds(url):.3f} s")
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
