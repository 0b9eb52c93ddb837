"""Write a simulated world in the data-contract format: Parquet or CSV, plus `_truth/`.

Parquet: one `<table>.parquet` per table, except `events/` as one Parquet file per month.
CSV: one `<table>.csv` per table, ISO-8601 timestamps, empty field = null.
Ground truth always goes to `_truth/churn.parquet` and `_truth/action_effects.parquet`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from features.contract import BOOL, DATE, FLOAT, INT, STRING, TABLES, TIMESTAMP
from simulator.shapes import ZONE
from simulator.structure import write_structure

if TYPE_CHECKING:
    from simulator.world import World

ARROW_TYPES: dict[str, pa.DataType] = {
    STRING: pa.string(),
    INT: pa.int64(),
    FLOAT: pa.float64(),
    BOOL: pa.bool_(),
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("us"),
}


def to_arrow(name: str, frame: pd.DataFrame, zone: str | None = None) -> pa.Table:
    """A contract table as an Arrow table with the contract's canonical types.

    With `zone`, timestamps (naive UTC in `frame`) are written as the same instants in
    that time zone.
    """
    table = TABLES[name]
    arrays, fields = [], []
    for column in table.columns:
        target = ARROW_TYPES[column.type]
        array = pa.Array.from_pandas(frame[column.name])
        if array.type != target:
            array = array.cast(target, safe=False)
        if zone is not None and column.type == TIMESTAMP:
            target = pa.timestamp("us", tz=zone)
            array = array.cast(pa.timestamp("us", tz="UTC")).cast(target)
        arrays.append(array)
        fields.append(pa.field(column.name, target))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _csv_ready(table: pa.Table, timestamps: str = "seconds") -> pa.Table:
    """Format timestamps as ISO-8601 text (`2024-03-05T14:02:11`); nulls stay empty.

    `subsecond` keeps the fraction (`14:02:11.250000`), `zoned` adds the offset (`+0100`).
    """
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            if timestamps == "seconds":
                column = column.cast(pa.timestamp("s"))
            zone = "%z" if timestamps == "zoned" else ""
            column = pc.strftime(column, format=f"%Y-%m-%dT%H:%M:%S{zone}")
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _write_events_parquet(events: pa.Table, folder: Path) -> None:
    """Events as one Parquet file per calendar month (rows are time-ordered)."""
    folder.mkdir(parents=True, exist_ok=True)
    ts = events.column("ts").to_numpy().astype("datetime64[M]")
    if len(ts) == 0:
        pq.write_table(events, folder / "part-empty.parquet")
        return
    months = np.unique(ts)
    bounds = np.searchsorted(ts, months, side="left").tolist() + [len(ts)]
    for month, lo, hi in zip(months, bounds[:-1], bounds[1:], strict=True):
        pq.write_table(events.slice(lo, hi - lo), folder / f"events-{month}.parquet")


def write_world(world: World, out: Path, fmt: str = "parquet", progress: bool = False) -> None:
    """Write every contract table of `world` to `out` in `fmt`, and its truth to `out/_truth`.

    Args:
        world: the simulated world.
        out: target directory (created; earlier table files of the same names are replaced).
        fmt: `parquet` or `csv`.
        progress: show a progress bar on stderr.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, not {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    style = world.config.timestamps
    zone = ZONE if style == "zoned" else None
    for name in tqdm(TABLES, desc=f"writing {fmt}", disable=not progress):
        for stale in (out / f"{name}.parquet", out / f"{name}.csv"):
            stale.unlink(missing_ok=True)
        if name not in world.tables:  # an optional table this world does not export
            shutil.rmtree(out / name, ignore_errors=True)
            continue
        table = to_arrow(name, world.tables[name], zone)
        if fmt == "csv":
            pacsv.write_csv(_csv_ready(table, style), out / f"{name}.csv")
        elif name == "events":
            shutil.rmtree(out / "events", ignore_errors=True)
            _write_events_parquet(table, out / "events")
        else:
            pq.write_table(table, out / f"{name}.parquet")
    truth_dir = out / "_truth"
    truth_dir.mkdir(exist_ok=True)
    for name, frame in world.truth.items():
        frame.to_parquet(truth_dir / f"{name}.parquet", index=False)
    write_structure(truth_dir, world.structure.seed)
