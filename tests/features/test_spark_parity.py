"""The same feature definitions on Spark give DuckDB's numbers: every feature, every snapshot.

One local Spark session for the module (start-up ~10 s). The worlds are small but
irregular: events, surveys and touchpoints at sub-second moments, monthly, half-year
and yearly terms, nulls in optional columns, and a source without its optional tables.
A feature added to `features.definitions` is computed here too, so one that Spark
cannot run fails this module.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.compute import compute_features
from features.contract import BOOL, FLOAT, INT, OPTIONAL_TABLES, TABLES
from features.definitions import FEATURE_NAMES, Feature, feature
from features.engines.spark import FeatureEngineError, SparkConnection, new_session
from features.engines.spark_sources import SparkSource, SparkSourceError, open_spark_source
from features.horizon import data_horizon, late_activity_warning
from features.labels import compute_labels
from features.source import load_source
from simulator.world import simulate
from tests.support import write_tables
from tests.support.tables import random_world

pytestmark = pytest.mark.spark

MASTER = "local[2]"
# Month starts, a mid-month afternoon with a fraction of a second, and a late snapshot.
SNAPSHOTS = [
    datetime(2023, 9, 1),
    datetime(2024, 3, 17, 13, 45, 30, 250_000),
    datetime(2024, 12, 1),
]


def _complete(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Add every contract column a table lacks, empty (the contract wants them all).

    Times are stored in microseconds, as Spark and most lakes write them (Spark cannot
    read Parquet timestamps in nanoseconds).
    """
    dtypes = {INT: "Int64", FLOAT: "float64", BOOL: "boolean"}
    filled = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in frame.columns[frame.dtypes.map(pd.api.types.is_datetime64_dtype)]:
            frame[column] = frame[column].astype("datetime64[us]")
        for wanted in TABLES[name].columns:
            if wanted.name not in frame:
                frame[wanted.name] = pd.Series(
                    pd.NA, index=frame.index, dtype=dtypes.get(wanted.type, "string")
                )
        filled[name] = frame
    return filled


def _sub_second(tables: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """Move event, survey and touchpoint times by a random fraction of a second."""
    rng = np.random.default_rng(seed)
    moved = {name: frame.copy() for name, frame in tables.items()}
    for name in ("events", "surveys", "touchpoints"):
        if name not in moved:  # a world without the optional table
            continue
        shift = pd.to_timedelta(rng.integers(1, 999_999, len(moved[name])), unit="us")
        moved[name]["ts"] = moved[name]["ts"] + shift
    return moved


@pytest.fixture(scope="module")
def irregular_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = _sub_second(_complete(random_world(seed=3, n_accounts=30)), seed=4)
    return write_tables(world, tmp_path_factory.mktemp("irregular"), "parquet")


@pytest.fixture(scope="module")
def bare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated world with its optional tables missing."""
    tables = simulate(40, seed=12, months=14).tables
    required = {name: frame for name, frame in tables.items() if name not in OPTIONAL_TABLES}
    required = _sub_second(_complete(required), seed=5)
    return write_tables(required, tmp_path_factory.mktemp("bare"), "parquet")


@pytest.fixture(scope="module")
def spark() -> SparkConnection:
    return SparkConnection(new_session(MASTER))


def _on_spark(path: Path) -> SparkSource:
    """`path` opened on a Spark session of its own (a context manager)."""
    return open_spark_source(str(path), SparkConnection(new_session(MASTER)))


def _assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Same rows and columns; counts exact, every float within 1e-9."""
    assert list(spark.columns) == list(duck.columns)
    pd.testing.assert_frame_equal(
        spark[["account_id", "as_of"]], duck[["account_id", "as_of"]], check_exact=True
    )
    values = [c for c in duck.columns if c not in ("account_id", "as_of")]
    for name in values:
        left, right = duck[name].to_numpy(float), spark[name].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(left), np.isnan(right), err_msg=name)
        np.testing.assert_allclose(right, left, rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("world", ["irregular_dir", "bare_dir"])
def test_every_feature_and_label_equals_duckdb(world: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(world)
    with load_source(path) as source:
        duck = compute_features(source.con, SNAPSHOTS)
        duck_labels = compute_labels(source.con, SNAPSHOTS)
        duck_horizon = data_horizon(source.con)
        duck_late = late_activity_warning(source.con)
    with _on_spark(path) as source_on_spark:
        spark = compute_features(source_on_spark.con, SNAPSHOTS)
        spark_labels = compute_labels(source_on_spark.con, SNAPSHOTS)
        spark_horizon = data_horizon(source_on_spark.con)
        spark_late = late_activity_warning(source_on_spark.con)
    assert list(duck.columns[2:]) == list(FEATURE_NAMES)
    assert duck["as_of"].nunique() == len(SNAPSHOTS)
    _assert_same(duck, spark)
    _assert_same(
        duck_labels.drop(columns="renewal_date"), spark_labels.drop(columns="renewal_date")
    )
    assert (duck_labels["renewal_date"] == spark_labels["renewal_date"]).all()
    assert spark_horizon == duck_horizon
    assert spark_late == duck_late  # the random world's tickets close after its last event
    assert (duck_late is not None) == (world == "irregular_dir")
    # both worlds exercise the sub-second path: ages are not whole seconds
    ages = duck["days_since_last_activity"].dropna() * 86400
    assert (ages != ages.round()).any()


def test_a_feature_spark_cannot_run_is_named(irregular_dir: Path) -> None:
    unknown = Feature(
        name="events_by_epoch",
        family="usage",
        description="uses a DuckDB-only function",
        unit="events",
        healthy="higher",
        sql="SUM(list_sum([age_days, 1]))",
        source="usage",
    )
    known = feature("events_30d")
    with _on_spark(irregular_dir) as source, pytest.raises(FeatureEngineError) as raised:
        source.con.run_features(SNAPSHOTS[:1], [known, unknown])
    assert list(raised.value.failures) == ["events_by_epoch"]
    assert "events_by_epoch" in str(raised.value)


def test_tables_in_a_spark_catalog_give_the_same_features(
    irregular_dir: Path, spark: SparkConnection, tmp_path: Path
) -> None:
    chosen = [feature(n) for n in ("events_30d", "active_users_30d", "open_tickets", "nps_latest")]
    database = "crm_parity"
    spark.session.sql(f"CREATE DATABASE IF NOT EXISTS {database} LOCATION '{tmp_path / 'crm'}'")
    for path in sorted(irregular_dir.iterdir()):
        table = path.name.removesuffix(".parquet")
        frame = spark.session.read.parquet(str(path))
        frame.write.mode("overwrite").saveAsTable(f"{database}.{table}")
    with _on_spark(irregular_dir) as from_files:
        expected = from_files.con.run_features(SNAPSHOTS, chosen)
    catalog = open_spark_source(f"catalog:{database}", spark)
    got = catalog.con.run_features(SNAPSHOTS, chosen)
    assert catalog.locations["events"] == f"{database}.events"
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, expected)


def test_a_missing_required_table_is_named(tmp_path: Path, spark: SparkConnection) -> None:
    tables = _complete(random_world(seed=5, n_accounts=3))
    del tables["users"]
    path = write_tables(tables, tmp_path / "no_users", "parquet")
    with pytest.raises(SparkSourceError, match="required table users"):
        open_spark_source(str(path), spark)


def test_the_cli_builds_the_same_training_set_on_spark(bare_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from features.engines import use_engine
    from retain.cli import app

    runner = CliRunner()
    args = ["dataset", "--data", str(bare_dir), "--from", "2024-06-01", "--to", "2024-08-01"]
    try:
        on_duckdb = runner.invoke(app, [*args, "--output", str(tmp_path / "duck.parquet")])
        on_spark = runner.invoke(
            app,
            [*args, "--output", str(tmp_path / "spark.parquet"), "--engine", "spark"]
            + ["--spark-master", MASTER],
        )
    finally:
        use_engine("duckdb")  # the CLI chose Spark for this process
    assert on_duckdb.exit_code == 0, on_duckdb.output
    assert on_spark.exit_code == 0, on_spark.output
    duck = pd.read_parquet(tmp_path / "duck.parquet")
    spark = pd.read_parquet(tmp_path / "spark.parquet")
    assert duck["as_of"].nunique() == 3
    _assert_same(duck.drop(columns="renewal_date"), spark.drop(columns="renewal_date"))


def test_recorded_touchpoints_give_the_same_features_on_spark(irregular_dir: Path) -> None:
    """Touchpoints recorded through the service count the same way on both engines."""
    from features.source import include_touchpoints

    own = pd.read_parquet(irregular_dir / "touchpoints.parquet")
    again = own.head(3)  # exported by the CRM and recorded through the service: once
    moved = own.iloc[3:5].assign(account_id=lambda f: f["account_id"].iloc[::-1].to_numpy())
    new = own.iloc[5:9].assign(
        touchpoint_id=lambda f: "svc-" + f["touchpoint_id"].astype(str),
        ts=lambda f: pd.to_datetime(f["ts"]) + pd.Timedelta(days=20),
    )
    recorded = pd.concat([again, moved, new], ignore_index=True)
    names = [f.name for f in feature_family("touchpoints")]
    with load_source(irregular_dir, recorded) as source:
        duck = compute_features(source.con, SNAPSHOTS)
        include_touchpoints(source, None)
        alone = compute_features(source.con, SNAPSHOTS)
    with _on_spark(irregular_dir) as source_on_spark:
        include_touchpoints(source_on_spark, recorded)
        spark = compute_features(source_on_spark.con, SNAPSHOTS)
    _assert_same(duck, spark)
    assert not duck[names].equals(alone[names])  # the recorded ones moved something


def feature_family(family: str) -> list[Feature]:
    from features.definitions import FEATURES

    return [f for f in FEATURES if f.family == family]
