"""The typed contract views on Spark: the same nine views the feature SQL reads in DuckDB.

A Spark source is one of:

* a directory of Parquet data, local or on the cluster's storage (`s3a://bucket/crm`,
  `hdfs:///crm`, `/mnt/lake/crm`): `<table>.parquet` or a `<table>/` directory each;
* `catalog:<database>`: tables named after the contract in a Spark catalog
  (`catalog:crm`, `catalog:spark_catalog.crm`);
* a JDBC URL (`jdbc:postgresql://host/db?user=...&currentSchema=crm`): one table per
  contract table; the JDBC driver jar must be on the driver's and executors' class path
  (`--driver-class-path` and `--jars`, e.g. in `PYSPARK_SUBMIT_ARGS`).

Each present table becomes the view `<table>` with the contract's columns cast to
the contract types (timestamps as naive UTC `TIMESTAMP_NTZ`); an absent optional
table is an empty view. `touchpoints` is, as in DuckDB, the source's (`source_touchpoints`)
with the recorded ones (`features.source.include_touchpoints`), each touchpoint once.
Retain does not validate values on Spark (that is DuckDB's `retain validate`): a missing
required table or a missing column is an error that names it, a value Spark cannot cast
is NULL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pandas as pd

from features.contract import BOOL, DATE, FLOAT, INT, STRING, TABLES, TIMESTAMP, Table
from features.engines.spark import SparkConnection
from features.source import RECORDED_TOUCHPOINTS, SOURCE_TOUCHPOINTS, touchpoints_view_sql

SPARK_TYPES: dict[str, str] = {
    STRING: "STRING",
    INT: "BIGINT",
    FLOAT: "DOUBLE",
    BOOL: "BOOLEAN",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMP_NTZ",
}
CATALOG = "catalog:"


class SparkSourceError(ValueError):
    """The source cannot give Spark the contract's tables; the message says which and why."""


@dataclass
class SparkSource:
    """A source opened on Spark, usable where a loaded DuckDB `Source` is.

    Attributes:
        uri: What the user passed.
        con: The Spark connection holding the typed views.
        present: Contract tables the source holds.
        locations: Table name -> where it was read from.
    """

    uri: str
    con: SparkConnection
    present: tuple[str, ...] = ()
    locations: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Drop the views; the Spark session stays up for the rest of the process."""
        self.con.close()

    def __enter__(self) -> SparkSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _exists(session: Any, path: str) -> bool:
    """Whether `path` exists on the storage Spark reads (local, HDFS, S3, ...)."""
    jvm = session.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    filesystem = hadoop_path.getFileSystem(session.sparkContext._jsc.hadoopConfiguration())
    return bool(filesystem.exists(hadoop_path))


def _read_directory(session: Any, directory: str, name: str) -> tuple[Any, str] | None:
    base = directory.rstrip("/")
    if _exists(session, f"{base}/{name}.csv"):
        raise SparkSourceError(
            f"{base}/{name}.csv: Spark reads Parquet only; convert it or use --engine duckdb"
        )
    for path in (f"{base}/{name}.parquet", f"{base}/{name}"):
        if _exists(session, path):
            try:
                return session.read.option("mergeSchema", "true").parquet(path), path
            except Exception as error:
                if "NANOS" in str(error):
                    raise SparkSourceError(
                        f"{path}: Spark cannot read timestamps stored in nanoseconds; write "
                        "them in microseconds (pandas: to_parquet(coerce_timestamps='us'))"
                    ) from error
                raise
    return None


def _read_catalog(session: Any, database: str, name: str) -> tuple[Any, str] | None:
    qualified = f"{database}.{name}"
    if not session.catalog.tableExists(qualified):
        return None
    return session.table(qualified), qualified


def _read_jdbc(session: Any, url: str, name: str) -> tuple[Any, str] | None:
    try:
        return session.read.jdbc(url, name), f"{url.split('?')[0]} table {name}"
    except Exception as error:
        if "does not exist" in str(error) or "not found" in str(error).lower():
            return None
        first = str(error).strip().splitlines()
        why = " ".join(first[:2]) if first else type(error).__name__
        raise SparkSourceError(f"table {name} could not be read over JDBC: {why}") from error


def _reader(uri: str) -> Any:
    if uri.startswith(CATALOG):
        return lambda session, name: _read_catalog(session, uri.removeprefix(CATALOG), name)
    if uri.startswith("jdbc:"):
        return lambda session, name: _read_jdbc(session, uri, name)
    if uri.startswith(("duckdb://", "postgresql://", "postgres://")) or uri.endswith(
        (".duckdb", ".db")
    ):
        raise SparkSourceError(
            f"{uri}: on Spark give a Parquet directory, catalog:<database> or a jdbc: URL"
        )
    return lambda session, name: _read_directory(session, uri, name)


def typed_view_sql(table: Table, stored: list[str] | None) -> str:
    """Spark SQL of the typed view of `table`; `stored` its column names (None: absent).

    Raises:
        SparkSourceError: When a column the contract requires is missing.
    """
    if stored is None:
        columns = [
            f"CAST(NULL AS {SPARK_TYPES[c.type]}) AS {_quote(c.name)}" for c in table.columns
        ]
        return f"SELECT {', '.join(columns)} WHERE 1 = 0"
    have = {name.lower() for name in stored}
    missing = [c.name for c in table.columns if c.name.lower() not in have]
    if missing:  # as in DuckDB: every contract column present, nullable ones may be empty
        raise SparkSourceError(f"table {table.name} has no column {', '.join(missing)}")
    columns = [
        f"CAST({_quote(c.name)} AS {SPARK_TYPES[c.type]}) AS {_quote(c.name)}"
        for c in table.columns
    ]
    return f"SELECT {', '.join(columns)} FROM {_quote('raw_' + table.name)}"


def open_spark_source(uri: str, con: SparkConnection) -> SparkSource:
    """Create the typed contract views of `uri` on `con`'s session.

    Raises:
        SparkSourceError: A required table or column is missing, or `uri` is no Spark source.
    """
    read = _reader(uri)
    session = con.session
    source = SparkSource(uri=uri, con=con)
    present = []
    for name, table in TABLES.items():
        found = read(session, name)
        if found is None and table.required:
            raise SparkSourceError(f"{uri}: the required table {name} is missing")
        stored = None
        if found is not None:
            frame, location = found
            frame.createOrReplaceTempView(f"raw_{name}")
            source.locations[name] = location
            present.append(name)
            stored = list(frame.columns)
        typed = SOURCE_TOUCHPOINTS if name == "touchpoints" else name
        session.sql(
            f"CREATE OR REPLACE TEMPORARY VIEW {_quote(typed)} AS {typed_view_sql(table, stored)}"
        )
    # As in DuckDB: `touchpoints` is the source's and the recorded ones (none yet), each once.
    recorded_touchpoints_frame(session, None).createOrReplaceTempView(RECORDED_TOUCHPOINTS)
    session.sql(f"CREATE OR REPLACE TEMPORARY VIEW touchpoints AS {touchpoints_view_sql()}")
    source.present = tuple(present)
    return source


def recorded_touchpoints_frame(session: Any, rows: pd.DataFrame | None) -> Any:
    """A Spark DataFrame of recorded touchpoints (`features.source.recorded_rows`, or none)."""
    table = TABLES["touchpoints"]
    schema = ", ".join(f"{_quote(c.name)} {SPARK_TYPES[c.type]}" for c in table.columns)
    if rows is None or rows.empty:
        return session.createDataFrame([], schema)
    records = rows[list(table.column_names)].astype(object)
    records = records.where(records.notna(), None)
    ts = list(records.columns).index("ts")
    data = [
        tuple(
            (None if v is None else pd.Timestamp(v).to_pydatetime()) if i == ts else v
            for i, v in enumerate(row)
        )
        for row in records.itertuples(index=False, name=None)
    ]
    return session.createDataFrame(data, schema)
