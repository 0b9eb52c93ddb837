"""Open a customer's data source and expose its contract tables to DuckDB.

A source is a directory of `<table>.parquet` / `<table>.csv` files (a table may
also be a directory of Parquet files, e.g. `events/*.parquet`), a DuckDB file
(`duckdb:///path.db`, or a path ending `.duckdb` / `.db`) or a PostgreSQL URL
(`postgresql://user@host:port/db`, optional `?schema=<name>` query parameter,
default the connection's current schema, which `?options=-csearch_path%3D<name>`
also sets).

`open_source` gives the tables exactly as stored (`raw_<table>` views; files are
read in place, CSV as text so that validation, not a guess, decides each value).
`load_source` validates them and adds the typed views `<table>` that feature SQL
reads: ids as text, timestamps as naive UTC, and an empty table for every
optional table the source does not have. The typed `touchpoints` view is the source's
touchpoints together with those the caller recorded elsewhere (the service's store,
`include_touchpoints`), each touchpoint once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from features.casting import quote, typed_expression
from features.contract import TABLES, create_table_sql
from features.problems import csv_header_problem, file_problem, first_line
from features.validate import ContractError, validate_source

__all__ = [
    "ContractError",
    "Source",
    "connect",
    "counted_touchpoints",
    "counting_until",
    "include_touchpoints",
    "load_source",
    "open_source",
]

SOURCE = ""  # key of `Source.unreadable` for problems with the source as a whole
_DUCKDB_SUFFIXES = (".duckdb", ".db")


@dataclass
class Source:
    """An opened source: a DuckDB connection with one `raw_<table>` view per table found.

    Attributes:
        uri: What the user passed.
        con: DuckDB connection (TimeZone UTC) holding the `raw_<table>` views.
        present: Contract tables the source holds and that could be read.
        unreadable: Table name (or "" for the whole source) -> why it could not be read.
        locations: Table name -> file or table it was read from, for messages.
        database_file: The DuckDB file whose tables are read in place (attached read-only),
            or None; a long-running reader watches it like the files of a directory.
    """

    uri: str
    con: duckdb.DuckDBPyConnection
    present: tuple[str, ...] = ()
    unreadable: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    database_file: str | None = None

    @property
    def is_database(self) -> bool:
        """Whether the tables are a database's (DuckDB file, PostgreSQL), not files."""
        return self.database_file is not None or self.uri.startswith(
            ("postgresql://", "postgres://")
        )

    def stored_types(self, table: str) -> dict[str, str]:
        """Column name -> DuckDB type of `raw_<table>`, as stored."""
        rows = self.con.execute(f"DESCRIBE {quote('raw_' + table)}").fetchall()
        return {str(row[0]): str(row[1]) for row in rows}

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC that never downloads extensions."""
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    # No bars in CLI output or logs. Inside Jupyter without ipywidgets DuckDB refuses
    # to touch the setting at all, and there its default is fine.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")  # ICU is built in: checked, nothing is downloaded
    # DuckDB's allocator kept what a big query freed: the pages' 12-month history held
    # ~0.4 GB of a 2,567-account service's RSS for good. Its background threads give it back.
    con.execute("SET allocator_background_threads = true")
    return con


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_file_sql(path: Path) -> str:
    if path.is_dir():
        return f"read_parquet({_sql_string(str(path / '*.parquet'))}, union_by_name = true)"
    if path.suffix == ".parquet":
        return f"read_parquet({_sql_string(str(path))})"
    # skip = 0: otherwise the sniffer may silently skip malformed leading rows.
    return (
        f"read_csv({_sql_string(str(path))}, header = true, skip = 0, all_varchar = true, "
        "delim = ',', quote = '\"', escape = '\"', comment = '', encoding = 'utf-8')"
    )


def _file_problem(path: Path) -> str | None:
    """Why a file cannot be a table before DuckDB even tries, or None."""
    if path.is_dir() and not any(path.glob("*.parquet")):
        return f"directory {path} holds no .parquet files"
    if path.is_file() and path.stat().st_size == 0:
        return f"empty file {path.name} (not even a header row)"
    return None


def _open_directory(source: Source, directory: Path) -> list[str]:
    present = []
    for name in TABLES:
        candidates = [
            path
            for path in (directory / f"{name}.parquet", directory / f"{name}.csv", directory / name)
            if path.exists()
        ]
        if not candidates:
            continue
        if len(candidates) > 1:
            found = ", ".join(path.name for path in candidates)
            source.unreadable[name] = f"more than one file for the table: {found}"
            continue
        path = candidates[0]
        source.locations[name] = str(path)
        problem = _file_problem(path)
        if problem is None:
            view = quote(f"raw_{name}")
            try:
                source.con.execute(f"CREATE VIEW {view} AS SELECT * FROM {_read_file_sql(path)}")
                columns = list(source.stored_types(name))  # DuckDB reads the header now
                problem = csv_header_problem(path, columns)
            except duckdb.Error as error:
                problem = file_problem(path, error)
            if problem is not None:
                source.con.execute(f"DROP VIEW IF EXISTS {view}")
        if problem is None:
            present.append(name)
        else:
            source.unreadable[name] = problem
    return present


def _open_duckdb_file(source: Source, path: str) -> list[str]:
    if not Path(path).is_file():
        source.unreadable[SOURCE] = f"DuckDB file {path} does not exist"
        return []
    try:
        source.con.execute(f"ATTACH {_sql_string(path)} AS customer_source (READ_ONLY)")
    except duckdb.Error as error:
        source.unreadable[SOURCE] = f"{path} could not be opened: {first_line(error)}"
        return []
    source.database_file = path
    tables = {
        str(row[0])
        for row in source.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'customer_source' AND table_schema = 'main'"
        ).fetchall()
    }
    present = [name for name in TABLES if name in tables]
    for name in present:
        source.locations[name] = f"{path}:{name}"
        stored = f"customer_source.main.{quote(name)}"
        source.con.execute(f"CREATE VIEW {quote('raw_' + name)} AS SELECT * FROM {stored}")
    return present


def open_source(uri: str | Path) -> Source:
    """Open a source and expose each contract table it holds as a `raw_<table>` view.

    Nothing is validated or converted here. A source, file or table that cannot be
    read is recorded in `Source.unreadable` (validation reports it) rather than raised.

    Args:
        uri: A directory, a DuckDB file or URL, or a PostgreSQL URL.

    Returns:
        The opened source; use it as a context manager or call `close()`.
    """
    text = str(uri)
    source = Source(uri=text, con=connect())
    if text.startswith(("postgresql://", "postgres://")):
        from features.postgres import copy_postgres_tables

        present = copy_postgres_tables(source, text)
    elif text.startswith("duckdb://"):
        present = _open_duckdb_file(source, text.removeprefix("duckdb://"))
    elif text.endswith(_DUCKDB_SUFFIXES) and not Path(text).is_dir():
        present = _open_duckdb_file(source, text)
    elif Path(text).is_dir():
        present = _open_directory(source, Path(text))
    else:
        source.unreadable[SOURCE] = f"{text} is neither a directory nor a database URL"
        present = []
    source.present = tuple(present)
    return source


def typed_select(source: Source, name: str) -> str:
    """The SELECT that reads present table `name` of `source` through the contract types."""
    stored = source.stored_types(name)
    columns = ", ".join(
        f"{typed_expression(column, stored[column.name])} AS {quote(column.name)}"
        for column in TABLES[name].columns
    )
    return f"SELECT {columns} FROM {quote('raw_' + name)}"


# The typed `touchpoints` is a view over the source's own (typed as `SOURCE_TOUCHPOINTS`)
# and the touchpoints recorded elsewhere (`RECORDED_TOUCHPOINTS`, filled by
# `include_touchpoints`; empty until then), each touchpoint once.
SOURCE_TOUCHPOINTS = "source_touchpoints"
RECORDED_TOUCHPOINTS = "recorded_touchpoints"
TOUCHPOINT_COLUMNS: tuple[str, ...] = TABLES["touchpoints"].column_names


def touchpoints_view_sql() -> str:
    """The `touchpoints` view: the source's rows, then the recorded ones, each touchpoint once.

    The rule of `store.combine_touchpoints`: the same touchpoint is the same
    `touchpoint_id` at the same account, and the recorded copy is the one kept (only those
    that count are recorded here: `counted_touchpoints`). Plain SQL that DuckDB and Spark
    both run.
    """
    columns = ", ".join(TOUCHPOINT_COLUMNS)  # plain identifiers: no quoting differences
    source_columns = ", ".join(f"s.{c}" for c in TOUCHPOINT_COLUMNS)
    return (
        f"SELECT {source_columns} FROM {SOURCE_TOUCHPOINTS} s WHERE NOT EXISTS ("
        f"SELECT 1 FROM {RECORDED_TOUCHPOINTS} r "
        "WHERE r.touchpoint_id = s.touchpoint_id AND r.account_id = s.account_id) "
        f"UNION ALL SELECT {columns} FROM {RECORDED_TOUCHPOINTS}"
    )


def create_typed_views(source: Source) -> None:
    """Create the typed view `<table>` for all nine contract tables on `source.con`.

    Present tables are read through the contract types; an absent table (only
    optional ones pass validation) becomes an empty table with the contract columns.
    A CSV file is parsed again by every query that reads a view over it, and the features
    read events many times: a CSV table is typed and stored once instead (a table).
    `touchpoints` is a view over the source's (`source_touchpoints`) and the recorded ones
    (none until `include_touchpoints`).
    """
    for name, table in TABLES.items():
        typed = SOURCE_TOUCHPOINTS if name == "touchpoints" else name
        if name not in source.present:
            source.con.execute(create_table_sql(table, typed))
            continue
        kind = "TABLE" if source.locations.get(name, "").endswith(".csv") else "VIEW"
        select = typed_select(source, name)
        source.con.execute(f"CREATE OR REPLACE {kind} {quote(typed)} AS {select}")
    recorded = create_table_sql(TABLES["touchpoints"], RECORDED_TOUCHPOINTS)
    source.con.execute(recorded)
    source.con.execute(f"CREATE OR REPLACE VIEW touchpoints AS {touchpoints_view_sql()}")


def recorded_rows(recorded: pd.DataFrame) -> pd.DataFrame:
    """`recorded` touchpoints as the contract's columns (text ids, naive UTC `ts`)."""
    frame = recorded.reindex(columns=list(TOUCHPOINT_COLUMNS)).astype(object)
    frame = frame.where(frame.notna(), None)
    for column in ("touchpoint_id", "account_id", "type"):
        frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    frame["ts"] = pd.to_datetime(recorded["ts"], utc=True).dt.tz_localize(None).to_numpy()
    return frame


def counting_until(source: Any) -> datetime:
    """Up to when a recorded touchpoint counts: the source's latest activity.

    `features.horizon.latest_activity`, or the horizon where the source holds no activity.
    Counting touchpoints moves neither, so a reader of unchanged files may keep it
    (`serving.snapshots.FeatureStore`).
    """
    from features.horizon import data_horizon, latest_activity

    return latest_activity(source.con) or data_horizon(source.con)


def counted_touchpoints(
    source: Any, recorded: pd.DataFrame | None, until: datetime | None = None
) -> pd.DataFrame:
    """The recorded touchpoints that count: done by the source's latest activity.

    Nothing later can be seen as of any time the source can be scored at, and a touchpoint
    recorded today must not move the end of a source exported last week (every usage
    window would look empty): up to the latest activity (`features.horizon.latest_activity`;
    the horizon where the source holds no activity) it moves neither that nor the horizon.
    `until`: that time when the caller knows it (`counting_until`), else read from the source.
    """
    if recorded is None or recorded.empty:
        return pd.DataFrame(columns=list(TOUCHPOINT_COLUMNS))
    until = counting_until(source) if until is None else until
    stamps = pd.to_datetime(recorded["ts"], utc=True).dt.tz_localize(None)
    return recorded[(stamps <= pd.Timestamp(until)).to_numpy()]


def include_touchpoints(
    source: Any, recorded: pd.DataFrame | None, until: datetime | None = None
) -> None:
    """Make `recorded` touchpoints part of the loaded source's typed `touchpoints` view.

    `recorded` (`store.Store.touchpoints()`: at least touchpoint_id, account_id, ts, type)
    replaces whatever was included before; only those that count do
    (`counted_touchpoints`, with `until` when given). A touchpoint in both (the same id at
    the same account, e.g. exported back by the CRM) counts once, as the recorded copy.

    Args:
        source: a `load_source` source (DuckDB, or Spark's `SparkSource`).
        recorded: the touchpoints recorded through the service; None or empty: none.
        until: `counting_until(source)`, when the caller knows it.
    """
    con = source.con
    counted = counted_touchpoints(source, recorded, until)
    if counted.empty:
        rows = pd.DataFrame(columns=list(TOUCHPOINT_COLUMNS))
    else:
        rows = recorded_rows(counted)
    if not isinstance(con, duckdb.DuckDBPyConnection):  # another engine (`features.engines`)
        con.replace_recorded_touchpoints(rows)
        return
    cursor = con.cursor()  # one transaction: readers see the old rows or the new, never none
    try:
        cursor.execute("BEGIN TRANSACTION")
        try:
            cursor.execute(f"DELETE FROM {RECORDED_TOUCHPOINTS}")
            if not rows.empty:
                cursor.register("recorded_incoming", rows)
                columns = ", ".join(
                    f"CAST({quote(c)} AS {'TIMESTAMP' if c == 'ts' else 'VARCHAR'})"
                    for c in TOUCHPOINT_COLUMNS
                )
                cursor.execute(
                    f"INSERT INTO {RECORDED_TOUCHPOINTS} SELECT {columns} FROM recorded_incoming"
                )
                cursor.unregister("recorded_incoming")
            cursor.execute("COMMIT")
        except BaseException:  # begun: undo, and raise what went wrong
            cursor.execute("ROLLBACK")
            raise
    finally:
        cursor.close()


def load_source(uri: str | Path, touchpoints: pd.DataFrame | None = None) -> Source:
    """Open and validate a source, then add the typed contract views that features read.

    Args:
        uri: A directory, a DuckDB file or URL, or a PostgreSQL URL.
        touchpoints: touchpoints recorded outside the source (the service's store,
            `store.Store.touchpoints()`), read together with its `touchpoints` table, each
            touchpoint once (`include_touchpoints`).

    Returns:
        The source, whose connection has a typed view for each of the nine tables.

    Raises:
        ContractError: The source breaks the data contract; the message lists every problem.
    """
    from features.engines import active_engine, load_on_active_engine

    if active_engine().name != "duckdb":  # the same views on Spark (`features.engines`)
        spark_source = load_on_active_engine(str(uri))
        if touchpoints is not None and not touchpoints.empty:
            try:
                include_touchpoints(spark_source, touchpoints)
            except BaseException:
                spark_source.close()
                raise
        return spark_source  # type: ignore[no-any-return]
    source = open_source(uri)
    try:
        problems = validate_source(source)
        if problems:
            raise ContractError(problems)
        create_typed_views(source)
        if touchpoints is not None and not touchpoints.empty:
            include_touchpoints(source, touchpoints)
    except BaseException:
        source.close()
        raise
    return source
