"""Which engine runs the feature SQL: DuckDB on this machine, or Apache Spark.

The feature definitions (`features.definitions`) and the SQL built from them
(`features.compute`, `features/sql/`) are written once, in DuckDB SQL. DuckDB runs
them as they are; `features.engines.spark` translates the same statements to Spark
SQL with sqlglot and runs them on a SparkSession over the same typed contract views.

The engine is chosen once per process by the command line (`retain ... --engine
spark`, or `RETAIN_ENGINE`) through `use_engine`; `features.source.load_source`
then opens every source on that engine, so training, scoring and the feature
commands read their account-level rows from it without knowing which it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"


@dataclass(frozen=True)
class EngineChoice:
    """The engine of this process and, for Spark, where its cluster is."""

    name: Engine = "duckdb"
    spark_master: str = DEFAULT_SPARK_MASTER


_active = EngineChoice()


def use_engine(name: str, spark_master: str = DEFAULT_SPARK_MASTER) -> EngineChoice:
    """Run every source opened from now on in this process on `name`.

    Args:
        name: "duckdb" or "spark".
        spark_master: Spark master URL (`local[2]`, `spark://host:7077`, `yarn`, ...).

    Raises:
        ValueError: For an unknown engine name.
    """
    global _active
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    _active = EngineChoice(name, spark_master)  # type: ignore[arg-type]
    return _active


def active_engine() -> EngineChoice:
    """The engine sources are opened on (DuckDB unless `use_engine` said otherwise)."""
    return _active


def load_on_active_engine(uri: str) -> Any:
    """Open `uri` on the active Spark engine (`features.engines.spark.load_spark_source`)."""
    from features.engines.spark import load_spark_source

    return load_spark_source(uri, _active.spark_master)
