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


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """A contract table as an Arrow table with the contract's canonical types."""
    table = TABLES[name]
    arrays = []
    for column in table.columns:
        target = ARROW_TYPES[column.type]
        array = pa.Array.from_pandas(frame[column.name])
        if array.type != target:
            array = array.cast(target, safe=False)
        arrays.append(array)
    schema = pa.schema([pa.field(col.name, ARROW_TYPES[col.type]) for col in table.columns])
    return pa.Table.from_arrays(arrays, schema=schema)


def _csv_ready(table: pa.Table) -> pa.Table:
    """Format timestamps as ISO-8601 text (`2024-03-05T14:02:11`); nulls stay empty."""
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            column = pc.strftime(column.cast(pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
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
    for name in tqdm(TABLES, desc=f"writing {fmt}", disable=not progress):
        table = to_arrow(name, world.tables[name])
        for stale in (out / f"{name}.parquet", out / f"{name}.csv"):
            stale.unlink(missing_ok=True)
        if fmt == "csv":
            pacsv.write_csv(_csv_ready(table), out / f"{name}.csv")
        elif name == "events":
            shutil.rmtree(out / "events", ignore_errors=True)
            _write_events_parquet(table, out / "events")
        else:
            pq.write_table(table, out / f"{name}.parquet")
    truth_dir = out / "_truth"
    truth_dir.mkdir(exist_ok=True)
    for name, frame in world.truth.items():
        frame.to_parquet(truth_dir / f"{name}.parquet", index=False)
