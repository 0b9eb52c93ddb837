"""Compute point-in-time account features for any number of snapshot times in one query.

One SQL statement over the typed contract views: the snapshot grid, the spine
of active accounts, one source relation per fact family (`features/sql/`), one
aggregate per source grouped by account and T, then the features derived from
other features. Nothing is looped over in Python.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Protocol

import duckdb
import pandas as pd

from features.definitions import FEATURE_NAMES, FEATURES, Feature
from features.sql.scans import scans_sql
from features.sql.sources import HELPERS, SOURCES
from features.sql.spine import SPINE, snapshots_sql

DERIVED = "features"


class FeatureEngine(Protocol):
    """Another engine's connection (`features.engines`) that runs the same feature SQL."""

    def run_features(self, as_of: Sequence[datetime], features: Sequence[Feature]) -> pd.DataFrame:
        """`features_sql(as_of, features)` run on the engine, naming any feature it cannot run."""
        ...


def as_timestamps(as_of: datetime | date | str | Sequence[datetime | date | str]) -> list[datetime]:
    """Normalise one or many snapshot times to naive datetimes (a date means midnight)."""
    items = [as_of] if isinstance(as_of, datetime | date | str) else list(as_of)
    stamps = []
    for item in items:
        stamp = pd.Timestamp(item)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        stamps.append(stamp.to_pydatetime())
    return stamps


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _with_clause(as_of: Sequence[datetime], sources: Collection[str] = tuple(SOURCES)) -> str:
    """The `WITH` clause: snapshots, spine, and only the relations `sources` need.

    A scan, helper or source becomes a CTE only when something included reads it.
    """
    available = {"snapshots": snapshots_sql(as_of), "spine": SPINE}
    available.update(scans_sql(as_of))
    available.update(HELPERS)
    available.update({f"src_{name}": sql for name, sql in SOURCES.items()})
    needed = {"snapshots", "spine"} | {f"src_{name}" for name in sources}
    pending = list(needed)
    while pending:
        sql = available[pending.pop()]
        for name in available:
            if name not in needed and re.search(rf"\b{name}\b", sql):
                needed.add(name)
                pending.append(name)
    ctes = {name: sql for name, sql in available.items() if name in needed}
    return "WITH " + ",\n".join(f"{name} AS ({sql})" for name, sql in ctes.items())


def features_sql(as_of: Sequence[datetime], features: Sequence[Feature] = FEATURES) -> str:
    """The one SQL statement computing `features` for every account active at each T."""
    by_source: dict[str, list[Feature]] = {}
    for feat in features:
        by_source.setdefault(feat.source, []).append(feat)
    unknown = set(by_source) - set(SOURCES) - {DERIVED}
    if unknown:
        raise ValueError(f"features read unknown sources: {sorted(unknown)}")

    aggregates, joins, columns = [], [], []
    for source, members in by_source.items():
        if source == DERIVED:
            continue
        exprs = ",\n  ".join(f"{f.sql} AS {_quote(f.name)}" for f in members)
        aggregates.append(
            f"agg_{source} AS (SELECT account_id, as_of,\n  {exprs}\n"
            f"FROM src_{source} GROUP BY account_id, as_of)"
        )
        joins.append(
            f"LEFT JOIN agg_{source} ON agg_{source}.account_id = spine.account_id "
            f"AND agg_{source}.as_of = spine.as_of"
        )
        for f in members:
            value = f"agg_{source}.{_quote(f.name)}"
            if f.empty is not None:
                value = f"COALESCE({value}, {f.empty!r})"
            columns.append(f"CAST({value} AS DOUBLE) AS {_quote(f.name)}")

    derived = [f"CAST({f.sql} AS DOUBLE) AS {_quote(f.name)}" for f in by_source.get(DERIVED, [])]
    ordered = ", ".join(_quote(f.name) for f in features)
    return (
        _with_clause(as_of, [s for s in by_source if s != DERIVED])
        + ",\n"
        + ",\n".join(aggregates)
        + ",\nbase AS (SELECT spine.account_id, spine.as_of,\n  "
        + ",\n  ".join(columns)
        + "\nFROM spine\n"
        + "\n".join(joins)
        + ")\n"
        + f"SELECT account_id, as_of, {ordered} FROM (SELECT base.*"
        + "".join(f",\n  {d}" for d in derived)
        + " FROM base) final ORDER BY as_of, account_id"
    )


def compute_features(
    con: duckdb.DuckDBPyConnection | FeatureEngine,
    as_of: Sequence[datetime | date | str] | datetime | date | str,
) -> pd.DataFrame:
    """Features of every account active at each snapshot time, as known at that time.

    Args:
        con: Connection holding the typed contract views (`load_source(...).con`): DuckDB,
            or another engine's (`features.engines`), which runs the same SQL.
        as_of: One or more snapshot times T (naive UTC; a date means midnight).

    Returns:
        One row per account and T with a `new`/`renewal` term where
        start_date <= T < end_date: `account_id`, `as_of`, then `FEATURE_NAMES`
        as floats (NaN where unknown), sorted by `as_of` then `account_id`.
    """
    stamps = as_timestamps(as_of)
    if isinstance(con, duckdb.DuckDBPyConnection):
        frame = con.execute(features_sql(stamps)).df()
    else:
        frame = con.run_features(stamps, FEATURES)
    frame["account_id"] = frame["account_id"].astype(str)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame[list(FEATURE_NAMES)] = frame[list(FEATURE_NAMES)].astype("float64")
    return frame.reset_index(drop=True)
