"""Bulk mode: a world of any size written as Parquet in chunks, never whole in memory.

A few independent batches of accounts are simulated the ordinary way
(`simulator.world.simulate`, each with its own seed; ground truth is not kept, so
its look-ahead runs with one path). Their tables are then written again and again
as copies with their own ids (`<id>~<copy>`), batch after batch, until the events
reach the asked number: one Parquet file of events per copy in `events/`, the
smaller tables gathered and written once at the end. Memory holds the batches'
tables (about 1.2 million events per 500 accounts) and one copy being written,
whatever the total.

Copies share their batch's history (same times and behaviour, other ids): the
numbers of a bulk world are for measuring speed, not models.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from features.contract import TABLES
from simulator.config import SimConfig
from simulator.world import simulate
from simulator.writer import to_arrow

ID_COLUMNS: tuple[str, ...] = (
    "account_id",
    "user_id",
    "subscription_id",
    "ticket_id",
    "response_id",
    "touchpoint_id",
)


@dataclass(frozen=True)
class BulkWorld:
    """What `write_bulk` wrote: where, how many events and accounts, from how many copies."""

    out: Path
    events: int
    accounts: int
    copies: int
    batches: int


def _with_copy_ids(table: pa.Table, copy: int) -> pa.Table:
    """`table` with every id column suffixed `~<copy>` (nulls stay null)."""
    suffix = pa.scalar(f"~{copy}")
    for index, name in enumerate(table.column_names):
        if name in ID_COLUMNS:
            ids = pc.binary_join_element_wise(table.column(name), suffix, "")
            table = table.set_column(index, name, ids)
    return table


def write_bulk(
    out: Path | str,
    events: int,
    seed: int = 7,
    months: int = 24,
    accounts_per_batch: int = 500,
    batches: int = 2,
    config: SimConfig | None = None,
    progress: bool = False,
) -> BulkWorld:
    """Write a world with at least `events` product events to `out` as Parquet.

    Args:
        out: Target directory (its contract tables are replaced).
        events: How many events at least.
        seed: Seed of the first batch; batch b uses `seed + b`.
        months: Months of history.
        accounts_per_batch: Accounts simulated per batch.
        batches: Independent batches the copies cycle through.
        config: Simulation knobs (default: sub-second timestamps, one look-ahead path).
        progress: Show a progress bar on stderr.

    Returns:
        The directory and how many events, accounts and copies it holds.
    """
    out = Path(out)
    cfg = config or SimConfig(timestamps="subsecond")
    cfg = replace(cfg, truth_draws=1, effect_draws=1)  # truth is not written
    worlds = []
    for batch in range(batches):
        world = simulate(accounts_per_batch, seed + batch, months=months, config=cfg)
        worlds.append({name: to_arrow(name, frame) for name, frame in world.tables.items()})
        del world
    per_round = sum(tables["events"].num_rows for tables in worlds)
    copies = max(1, math.ceil(events / per_round * batches))

    shutil.rmtree(out / "events", ignore_errors=True)
    (out / "events").mkdir(parents=True)
    small: dict[str, list[pa.Table]] = {name: [] for name in TABLES if name != "events"}
    written = 0
    for copy in tqdm(range(copies), desc="writing events", disable=not progress):
        tables = worlds[copy % batches]
        chunk = _with_copy_ids(tables["events"], copy)
        pq.write_table(chunk, out / "events" / f"part-{copy:05d}.parquet", row_group_size=1 << 20)
        written += chunk.num_rows
        for name, parts in small.items():
            if name in tables:
                parts.append(_with_copy_ids(tables[name], copy))
    for name, parts in small.items():
        (out / f"{name}.parquet").unlink(missing_ok=True)
        if parts:
            pq.write_table(pa.concat_tables(parts), out / f"{name}.parquet")
    accounts = sum(table.num_rows for table in small["accounts"])
    return BulkWorld(out=out, events=written, accounts=accounts, copies=copies, batches=batches)
