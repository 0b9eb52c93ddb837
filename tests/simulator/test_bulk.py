"""Bulk mode: many copies of a few simulated batches, written chunk by chunk, valid by contract."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from features.compute import compute_features
from features.source import load_source
from simulator.bulk import write_bulk


def test_bulk_world_reaches_the_events_asked_for_and_follows_the_contract(tmp_path: Path) -> None:
    bulk = write_bulk(tmp_path / "bulk", events=40_000, accounts_per_batch=12, batches=2, months=8)
    files = sorted((tmp_path / "bulk" / "events").glob("*.parquet"))
    assert len(files) == bulk.copies > 2  # one chunk per copy
    assert bulk.events >= 40_000
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == bulk.events
    with load_source(tmp_path / "bulk") as source:  # validates: unique ids, references
        accounts = source.con.execute("SELECT COUNT(DISTINCT account_id) FROM accounts").fetchall()
        frame = compute_features(source.con, ["2024-07-01"])
    assert accounts[0][0] == bulk.accounts == 12 * bulk.copies
    # copies of the same batch have the same history under other ids
    first, third = (frame[frame["account_id"].str.endswith(f"~{c}")] for c in (0, 2))
    assert len(first) == len(third) > 0
    assert first["events_30d"].sum() == third["events_30d"].sum()
