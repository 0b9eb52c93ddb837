"""Compute point-in-time account features for any number of snapshot times in one query.

One SQL statement over the typed contract views: the snapshot grid, the spine
of active accounts, one source relation per fact family (`features/sql/`), one
aggregate per source grouped by account and T, then the features derived from
other features. Nothing is looped over in Python.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import duckdb
import pandas as pd

from features.definitions import FEATURES, Feature
from features.sql.scans import scans_sql
from features.sql.sources import HELPERS, SOURCES
from features.sql.spine import SPINE, snapshots_sql

DERIVED = "features"


class FeatureEngine(Protocol):
    """Another engine's connection (`features.engines`) that runs the same feature SQL."""

    def run_features(self, as_of: Sequence[datetime], features: Sequence[Feature]) -> pd.DataFrame:
        """`features_sql(as_of, features)` run on the engine, naming any feature it cannot run."""
        ...


SNAPSHOTS_PER_QUERY = 12
"""Snapshot times DuckDB computes in one query. Its peak memory grows with them, past its
`memory_limit`: 10.7 GB for 60 monthly snapshots of the eleventh audit's five-year export
(2.5M events), 2.6 GB for 12. No feature of one T reads another T, so the parts are exact."""


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


def _relations(as_of: Sequence[datetime]) -> dict[str, str]:
    """Every relation the statement may define, name -> SQL: what `WITH` picks from."""
    available = {"snapshots": snapshots_sql(as_of), "spine": SPINE}
    available.update(scans_sql(as_of))
    available.update(HELPERS)
    available.update({f"src_{name}": sql for name, sql in SOURCES.items()})
    return available


def _names(name: str, sql: str) -> bool:
    """Whether `sql` holds `name` as a whole word (a relation, a table, a column)."""
    return re.search(rf"\b{re.escape(name)}\b", sql) is not None


def _closure(names: Collection[str], available: dict[str, str]) -> set[str]:
    """`names` and every relation of `available` they read, directly or through others."""
    needed = set(names)
    pending = list(needed)
    while pending:
        sql = available[pending.pop()]
        for name in available:
            if name not in needed and _names(name, sql):
                needed.add(name)
                pending.append(name)
    return needed


def _account_list(accounts: Collection[str]) -> str:
    """`accounts` as a list of SQL text literals."""
    return ", ".join("'" + str(account).replace("'", "''") + "'" for account in sorted(accounts))


def _with_clause(
    as_of: Sequence[datetime],
    sources: Collection[str] = tuple(SOURCES),
    accounts: Collection[str] | None = None,
) -> str:
    """The `WITH` clause: snapshots, spine, and only the relations `sources` need.

    A scan, helper or source becomes a CTE only when something included reads it.
    `accounts`: the spine keeps only their rows (`features_sql`).
    """
    available = _relations(as_of)
    if accounts is not None:
        chosen = _account_list(accounts) or "NULL"  # none: an empty spine
        available["spine"] = f"SELECT * FROM ({SPINE}) chosen WHERE account_id IN ({chosen})"
    needed = _closure({"snapshots", "spine"} | {f"src_{name}" for name in sources}, available)
    ctes = {name: sql for name, sql in available.items() if name in needed}
    return "WITH " + ",\n".join(f"{name} AS ({sql})" for name, sql in ctes.items())


@dataclass(frozen=True)
class TableReaders:
    """The features a typed table's rows reach (`readers_of`), and what computing them needs.

    Attributes:
        features: The features whose values can change when the table's rows change: those
            of every source whose SQL, or a relation it reads, names the table, and the
            derived features that name one of those (catalogue order).
        inputs: `features` and every measured feature a derived one among them reads: what
            `features_sql` needs to compute them (catalogue order).
        relations: The relations of the statement that read the table, directly or through
            others: `src_<source>`, and `spine`, a scan or a helper such as `product` when
            one does (the spine: which accounts are active can change with it; a helper:
            one account's rows can reach every account's features).
    """

    features: tuple[Feature, ...]
    inputs: tuple[Feature, ...]
    relations: frozenset[str]


def readers_of(table: str, features: Sequence[Feature] = FEATURES) -> TableReaders:
    """Which of `features` read the typed table `table`, directly or through other relations.

    Found in the SQL itself, as `features_sql` finds the relations it needs, so a
    definition added later that reads the table is found too. It errs one way only: a word
    that merely looks like the table's name makes a reader, never the reverse.
    """
    available = _relations([datetime(2000, 1, 1)])  # which relation reads which: any T
    direct = {name for name, sql in available.items() if _names(table, sql)}
    readers = {name for name in available if _closure({name}, available) & direct}
    measured = {f.name for f in features if f.source != DERIVED and f"src_{f.source}" in readers}
    derived = [f for f in features if f.source == DERIVED]
    reached = measured | {f.name for f in derived if any(_names(n, f.sql) for n in measured)}
    inputs = set(reached)
    for f in derived:
        if f.name in reached:
            inputs |= {g.name for g in features if g.source != DERIVED and _names(g.name, f.sql)}
    return TableReaders(
        features=tuple(f for f in features if f.name in reached),
        inputs=tuple(f for f in features if f.name in inputs),
        relations=frozenset(readers),
    )


def features_sql(
    as_of: Sequence[datetime],
    features: Sequence[Feature] = FEATURES,
    accounts: Collection[str] | None = None,
) -> str:
    """The one SQL statement computing `features` for every account active at each T.

    `accounts`: only their rows, each the same as in the statement for every account (the
    spine keeps only theirs; every source is aggregated by account and T and joined to
    it, and reads whatever it reads of the other accounts as before). Restricts the
    result, not the work done for what the chosen features read: cheap for features that
    read no events (`readers_of`), not for the whole catalogue.
    """
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
        _with_clause(as_of, [s for s in by_source if s != DERIVED], accounts)
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
    features: Sequence[Feature] = FEATURES,
    accounts: Collection[str] | None = None,
) -> pd.DataFrame:
    """Features of every account active at each snapshot time, as known at that time.

    Args:
        con: Connection holding the typed contract views (`load_source(...).con`): DuckDB,
            or another engine's (`features.engines`), which runs the same SQL.
        as_of: One or more snapshot times T (naive UTC; a date means midnight).
        features: Which features (default the catalogue; a derived one needs the features
            it reads: `readers_of(...).inputs`).
        accounts: Only these accounts' rows (`features_sql`); DuckDB only.

    Returns:
        One row per account and T with a `new`/`renewal` term where
        start_date <= T < end_date: `account_id`, `as_of`, then the names of `features`
        as floats (NaN where unknown), sorted by `as_of` then `account_id`.

    Raises:
        ValueError: `accounts` given with another engine's connection.
    """
    stamps = as_timestamps(as_of)
    if isinstance(con, duckdb.DuckDBPyConnection) and len(stamps) > SNAPSHOTS_PER_QUERY:
        times = sorted(set(stamps))  # in order, so the parts keep the one query's order
        frame = pd.concat(
            [
                con.execute(features_sql(part, features, accounts)).df()
                for part in (
                    times[i : i + SNAPSHOTS_PER_QUERY]
                    for i in range(0, len(times), SNAPSHOTS_PER_QUERY)
                )
            ],
            ignore_index=True,
        )
    elif isinstance(con, duckdb.DuckDBPyConnection):
        frame = con.execute(features_sql(stamps, features, accounts)).df()
    elif accounts is not None:
        raise ValueError("only DuckDB computes the features of chosen accounts")
    else:
        frame = con.run_features(stamps, features)
    names = [f.name for f in features]
    frame["account_id"] = frame["account_id"].astype(str)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame[names] = frame[names].astype("float64")
    return frame.reset_index(drop=True)
