"""Run the DuckDB feature SQL on Apache Spark: translated by sqlglot, never hand-copied.

`SparkConnection` answers the two calls the rest of retain makes on a DuckDB
connection (`execute(sql, params).df()` and `.fetchall()`), translating each
statement from DuckDB SQL to Spark SQL first, so features, labels, the data's
horizon and touchpoints come from Spark with the same definitions. Results are
account-level rows collected to the driver (one row per account and snapshot).

`SparkConnection.run_features` computes the feature catalogue; when Spark cannot
translate or analyse the statement it finds, feature by feature, which
definitions fail and names them (`FeatureEngineError`).

Needs the `spark` extra (`pip install retain[spark]`: pyspark and sqlglot) and Java 17.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from features.definitions import Feature

# Spark settings the feature SQL needs, measured on pyspark 4.3 (see the README):
# several snapshots in one query crash the planner's PushProjectionThroughUnion rule
# ("key not found"); times are naive UTC; results come back through Arrow.
SQL_CONF: dict[str, str] = {
    "spark.sql.optimizer.excludedRules": (
        "org.apache.spark.sql.catalyst.optimizer.PushProjectionThroughUnion"
    ),
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.ansi.enabled": "false",
}
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
    # A local session's catalog lives in memory only: its folder stays out of the cwd.
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "retain-spark-warehouse"),
}


class FeatureEngineError(RuntimeError):
    """Spark cannot run some feature definitions; the message names each one and why."""

    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = failures
        lines = [f"  - {name}: {why}" for name, why in failures.items()]
        super().__init__(f"{len(failures)} feature(s) do not run on Spark:\n" + "\n".join(lines))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def translate(sql: str) -> str:
    """DuckDB SQL -> Spark SQL (sqlglot); raises sqlglot's error when it cannot."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    statements = sqlglot.transpile(
        sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    if len(statements) != 1:
        raise ValueError(f"expected one SQL statement, got {len(statements)}")
    return statements[0]


def _literal(value: Any) -> str:
    """A DuckDB SQL literal for a query parameter."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime | pd.Timestamp):
        return f"TIMESTAMP '{pd.Timestamp(value).isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def bind(sql: str, params: Sequence[Any]) -> str:
    """Put `params` into the `?` placeholders of `sql` as literals, in order."""
    import sqlglot
    from sqlglot import exp

    values = iter(params)
    tree = sqlglot.parse_one(sql, read="duckdb")

    def fill(node: exp.Expression) -> Any:
        if isinstance(node, exp.Placeholder):
            return sqlglot.parse_one(_literal(next(values)), read="duckdb")
        return node

    return tree.transform(fill).sql(dialect="duckdb")


@lru_cache(maxsize=4)
def spark_session(master: str) -> Any:
    """The process's SparkContext on `master` (started once; ~10 s locally)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise RuntimeError(
            "--engine spark needs the spark extra: pip install 'retain[spark]' (and Java 17)"
        ) from error

    builder = SparkSession.builder.master(master).appName("retain-features")
    conf = {**SQL_CONF, **(LOCAL_CONF if master.startswith("local") else {})}
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def new_session(master: str) -> Any:
    """A session of its own (temporary views, SQL settings) on the shared SparkContext."""
    session = spark_session(master).newSession()
    for key, value in SQL_CONF.items():
        session.conf.set(key, value)
    return session


class SparkResult:
    """The result of one statement, fetched the way DuckDB results are."""

    def __init__(self, frame: Any) -> None:
        self._frame = frame

    def df(self) -> pd.DataFrame:
        """All rows as pandas (through Arrow), NULL as NaN/NaT/None, times in microseconds."""
        frame = self._frame.toPandas()
        for spark_field in self._frame.schema.fields:  # dates and times as DuckDB gives them
            if spark_field.dataType.typeName() in ("date", "timestamp", "timestamp_ntz"):
                column = spark_field.name
                frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        return frame

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All rows as tuples, NULL as None."""
        frame = self.df().astype(object)
        frame = frame.where(frame.notna(), None)
        return [tuple(row) for row in frame.itertuples(index=False, name=None)]


class SparkConnection:
    """A SparkSession that takes DuckDB SQL, like the DuckDB connection it stands in for."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> SparkResult:
        """Translate `sql` (DuckDB dialect, `?` placeholders) to Spark SQL and run it."""
        if params:
            sql = bind(sql, params)
        return SparkResult(self.session.sql(translate(sql)))

    def cursor(self) -> SparkConnection:
        """The connection itself (DuckDB hands each thread a cursor; a SparkSession is shared)."""
        return self

    def run_features(self, as_of: Sequence[datetime], features: Sequence[Feature]) -> pd.DataFrame:
        """`features` for every account active at each T, computed on Spark.

        Raises:
            FeatureEngineError: Naming each feature whose SQL sqlglot cannot translate
                or Spark cannot analyse (e.g. an unknown function).
        """
        from features.compute import features_sql

        try:
            return self.execute(features_sql(as_of, features)).df()
        except Exception as error:
            failures = self.failing_features(as_of, features)
            if failures:
                raise FeatureEngineError(failures) from error
            raise

    def failing_features(
        self, as_of: Sequence[datetime], features: Sequence[Feature]
    ) -> dict[str, str]:
        """Feature name -> why Spark cannot run it, checking one definition at a time.

        Spark analyses a statement when it is created, so this runs no query. A
        feature derived from others is checked with every feature it may read.
        """
        from features.compute import DERIVED, features_sql

        measured = [f for f in features if f.source != DERIVED]
        failures: dict[str, str] = {}
        for feat in features:
            alone = [feat] if feat.source != DERIVED else [*measured, feat]
            why = self._why_not(features_sql(as_of[:1], alone))
            if why is not None:
                failures[feat.name] = why
        return failures

    def _why_not(self, sql: str) -> str | None:
        """Why Spark cannot run `sql` (DuckDB dialect), or None when it can."""
        try:
            spark_sql = translate(sql)
        except Exception as error:
            return f"sqlglot cannot translate it: {_first_line(error)}"
        try:
            self.session.sql(spark_sql)
        except Exception as error:
            return f"Spark rejects it: {_first_line(error)}"
        return None

    def replace_recorded_touchpoints(self, rows: pd.DataFrame) -> None:
        """Put `rows` (`features.source.recorded_rows`) in the `recorded_touchpoints` view."""
        from features.engines.spark_sources import recorded_touchpoints_frame

        recorded_touchpoints_frame(self.session, rows).createOrReplaceTempView(
            "recorded_touchpoints"
        )

    def close(self) -> None:
        """Drop this session's views (the shared SparkContext stays up for the process)."""
        for view in self.session.catalog.listTables():
            if view.isTemporary:
                self.session.catalog.dropTempView(view.name)


def load_spark_source(uri: str, master: str) -> Any:
    """Open `uri` on Spark with the typed contract views (`features.engines.spark_sources`)."""
    from features.engines.spark_sources import open_spark_source

    return open_spark_source(uri, SparkConnection(new_session(master)))
