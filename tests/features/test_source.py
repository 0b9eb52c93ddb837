"""Loading a source: every format gives the same typed contract views."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from features.contract import OPTIONAL_TABLES, TABLES
from features.postgres import split_url
from features.source import ContractError, Source, load_source, open_source
from features.validate import validate_source
from tests.support import tiny_world, write_tables
from tests.support.tables import write_duckdb_file

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def typed_frames(source: Source) -> dict[str, pd.DataFrame]:
    """Every typed view, rows in a stable order."""
    return {
        name: source.con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').df() for name in TABLES
    }


def assert_same_tables(left: Source, right: Source) -> None:
    expected = typed_frames(left)
    for name, frame in typed_frames(right).items():
        pd.testing.assert_frame_equal(frame, expected[name], obj=name)


@pytest.fixture
def from_parquet(tiny_parquet_dir: Path) -> Iterator[Source]:
    with load_source(tiny_parquet_dir) as source:
        yield source


def test_typed_views_have_the_contract_types(from_parquet: Source) -> None:
    for name, table in TABLES.items():
        described = from_parquet.con.execute(f'DESCRIBE "{name}"').fetchall()
        assert [(row[0], row[1]) for row in described] == [(c.name, c.type) for c in table.columns]


def test_typed_views_hold_the_stored_values(from_parquet: Source) -> None:
    con = from_parquet.con
    assert con.execute("SELECT sum(arr), count(seats) FROM subscriptions").fetchall() == [
        (55500.5, 4)
    ]
    assert con.execute(
        "SELECT user_id FROM users WHERE is_key_user AND deactivated_at IS NULL ORDER BY 1"
    ).fetchall() == [("u1",), ("u4",)]
    assert con.execute("SELECT max(ts) FROM events").fetchall() == [(datetime(2024, 2, 6, 12),)]


def test_csv_and_parquet_load_identically(tiny_csv_dir: Path, from_parquet: Source) -> None:
    with load_source(tiny_csv_dir) as from_csv:
        assert_same_tables(from_parquet, from_csv)


def test_csv_tables_are_typed_and_stored_once_parquet_stays_a_view(
    tiny_csv_dir: Path, from_parquet: Source
) -> None:
    kinds = "SELECT table_name, table_type FROM information_schema.tables WHERE table_name = ?"
    with load_source(tiny_csv_dir) as from_csv:
        # every query over a view would parse the CSV file again
        assert from_csv.con.execute(kinds, ["events"]).fetchall() == [("events", "BASE TABLE")]
    assert from_parquet.con.execute(kinds, ["events"]).fetchall() == [("events", "VIEW")]


def test_events_may_be_a_directory_of_parquet_files(tmp_path: Path, from_parquet: Source) -> None:
    tables = tiny_world()
    events = tables.pop("events")
    directory = write_tables(tables, tmp_path / "source", "parquet")
    (directory / "events").mkdir()
    events.iloc[:3].to_parquet(directory / "events" / "2024-01.parquet", index=False)
    events.iloc[3:].to_parquet(directory / "events" / "2024-02.parquet", index=False)
    with load_source(directory) as source:
        assert_same_tables(from_parquet, source)


def test_timestamps_with_a_zone_become_naive_utc(tmp_path: Path) -> None:
    tables = tiny_world()
    events = tables["events"]
    events["ts"] = events["ts"].astype(object)
    events.loc[0, "ts"] = "2024-01-10T09:00:00+02:00"
    events.loc[1, "ts"] = "2024-01-10T09:05:30Z"
    with load_source(write_tables(tables, tmp_path / "variant")) as source:
        rows = source.con.execute("SELECT ts FROM events ORDER BY ts LIMIT 2").fetchall()
    assert rows == [(datetime(2024, 1, 10, 7, 0),), (datetime(2024, 1, 10, 9, 5, 30),)]


def test_zoned_parquet_timestamps_become_naive_utc(tmp_path: Path, from_parquet: Source) -> None:
    tables = tiny_world()
    berlin = tables["events"]["ts"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    tables["events"]["ts"] = berlin
    with load_source(write_tables(tables, tmp_path / "variant", "parquet")) as source:
        assert source.stored_types("events")["ts"] == "TIMESTAMP WITH TIME ZONE"
        assert_same_tables(from_parquet, source)


def test_integer_ids_in_parquet_match_string_ids(tmp_path: Path, from_parquet: Source) -> None:
    tables = tiny_world()
    tables["accounts"]["account_id"] = tables["accounts"]["account_id"].astype("int64")
    tables["events"]["account_id"] = tables["events"]["account_id"].astype("float64")
    with load_source(write_tables(tables, tmp_path / "variant", "parquet")) as source:
        assert source.stored_types("accounts")["account_id"] == "BIGINT"
        assert source.stored_types("events")["account_id"] == "DOUBLE"
        assert_same_tables(from_parquet, source)


@pytest.mark.parametrize("as_url", [True, False], ids=["duckdb-url", "db-path"])
def test_a_duckdb_file_loads_like_the_files(
    tmp_path: Path, from_parquet: Source, as_url: bool
) -> None:
    path = write_duckdb_file(tmp_path / "crm.duckdb", tiny_world())
    uri = f"duckdb://{path}" if as_url else str(path)
    with load_source(uri) as source:
        assert source.present == tuple(TABLES)
        assert_same_tables(from_parquet, source)
    with duckdb.connect(str(path)) as con:  # the customer's file was opened read-only
        assert con.execute("SELECT count(*) FROM accounts").fetchall() == [(3,)]


def test_a_source_with_problems_raises_a_contract_error_listing_them(tmp_path: Path) -> None:
    tables = tiny_world()
    tables["subscriptions"]["arr"] = tables["subscriptions"]["arr"].astype(object)
    tables["subscriptions"].loc[0, "arr"] = "lots"
    del tables["users"]
    with pytest.raises(ContractError) as raised:
        load_source(write_tables(tables, tmp_path / "variant"))
    message = str(raised.value)
    assert "2 problem(s)" in message
    assert "users: required table is missing" in message
    assert "subscriptions.arr: holds values that are not a number [1 row; e.g. row 1 ('lots')]" in (
        message
    )
    assert {(p.table, p.column) for p in raised.value.problems} == {
        ("users", None),
        ("subscriptions", "arr"),
    }


def test_missing_optional_tables_are_empty_typed_views(tmp_path: Path) -> None:
    tables = {n: f for n, f in tiny_world().items() if n not in OPTIONAL_TABLES}
    with load_source(write_tables(tables, tmp_path / "variant")) as source:
        assert source.present == ("accounts", "subscriptions", "users", "events")
        for name in OPTIONAL_TABLES:
            described = source.con.execute(f'DESCRIBE "{name}"').fetchall()
            assert [(r[0], r[1]) for r in described] == [
                (c.name, c.type) for c in TABLES[name].columns
            ]
            assert source.con.execute(f'SELECT count(*) FROM "{name}"').fetchall() == [(0,)]


def test_raw_views_are_exactly_as_stored(tiny_csv_dir: Path) -> None:
    with open_source(tiny_csv_dir) as source:
        assert set(source.stored_types("subscriptions").values()) == {"VARCHAR"}
        assert source.con.execute(
            "SELECT arr FROM raw_subscriptions WHERE subscription_id = 's3'"
        ).fetchall() == [("2500.5",)]


def test_the_connection_never_downloads_extensions(tiny_csv_dir: Path) -> None:
    with open_source(tiny_csv_dir) as source:
        settings = source.con.execute(
            "SELECT current_setting('autoinstall_known_extensions'), "
            "current_setting('TimeZone'), current_setting('enable_progress_bar')"
        ).fetchall()
    assert settings == [(False, "UTC", False)]


def test_the_connection_gives_back_the_memory_a_query_freed(tiny_csv_dir: Path) -> None:
    """Thirteenth audit: memory grew with the pages. DuckDB's allocator kept what the
    12-month history's query freed (0.4 GB of a 2,567-account service's RSS) until its
    background threads were on."""
    with open_source(tiny_csv_dir) as source:
        setting = source.con.execute(
            "SELECT current_setting('allocator_background_threads')"
        ).fetchall()
    assert setting == [(True,)]


# --- PostgreSQL -------------------------------------------------------------------------


def postgres_connection() -> object:
    """A connection to the local PostgreSQL server; in CI (`CI` set) a missing server fails."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs PostgreSQL at {POSTGRES}, but it does not answer: {error}")
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES}: {error}")


_PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}


def _python(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema holding the tiny world (events.ts as timestamptz); dropped afterwards."""
    connection = postgres_connection()
    schema = f"retain_test_{uuid.uuid4().hex[:10]}"
    with connection:  # type: ignore[attr-defined]
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        try:
            for name, frame in tiny_world().items():
                columns = ", ".join(
                    f'"{c.name}" '
                    + ("timestamptz" if (name, c.name) == ("events", "ts") else _PG_TYPES[c.type])
                    for c in TABLES[name].columns
                )
                cursor.execute(f'CREATE TABLE "{schema}"."{name}" ({columns})')
                if name == "events":
                    frame["ts"] = frame["ts"].dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo")
                rows = [
                    tuple(_python(v) for v in row)
                    for row in frame.astype(object).itertuples(index=False)
                ]
                marks = ", ".join(["%s"] * len(frame.columns))
                cursor.executemany(f'INSERT INTO "{schema}"."{name}" VALUES ({marks})', rows)
            yield schema
        finally:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["schema", "search_path"])
def test_a_postgres_source_loads_like_the_files(
    postgres_schema: str, from_parquet: Source, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("features.postgres.BATCH_ROWS", 2)  # several batches per table
    if how == "schema":
        url = f"{POSTGRES}?schema={postgres_schema}"
    else:
        url = f"{POSTGRES}?options=-csearch_path%3D{postgres_schema}"
    with load_source(url) as source:
        assert source.present == tuple(TABLES)
        assert_same_tables(from_parquet, source)


def test_postgres_url_schema_parameter_is_kept_from_libpq() -> None:
    conninfo, schema = split_url(f"{POSTGRES}?schema=crm&sslmode=disable")
    assert (conninfo, schema) == (f"{POSTGRES}?sslmode=disable", "crm")
    assert split_url(POSTGRES) == (POSTGRES, None)


def test_an_unreachable_postgres_server_is_a_problem(tmp_path: Path) -> None:
    with open_source("postgresql://postgres@127.0.0.1:1/none") as source:
        assert source.present == ()
        assert source.unreadable[""].startswith("cannot connect to PostgreSQL")


@pytest.mark.postgres
def test_a_misspelt_postgres_schema_is_one_problem_naming_it() -> None:
    # Second audit: a typo in ?schema= gave "required table is missing" four times and
    # never said the schema was not there.
    with open_source(f"{POSTGRES}?schema=no_such_schema_retain") as source:
        problems = [str(problem) for problem in validate_source(source)]
    assert len(problems) == 1, problems
    assert "schema 'no_such_schema_retain' does not exist" in problems[0]
    assert "public" in problems[0]  # the schemas that are there


def test_an_unreachable_source_is_one_problem_not_every_table_missing() -> None:
    with open_source("postgresql://postgres@127.0.0.1:1/none") as source:
        problems = [str(problem) for problem in validate_source(source)]
    assert len(problems) == 1 and "cannot connect to PostgreSQL" in problems[0]


# --- the simulator ----------------------------------------------------------------------


def test_a_simulated_world_follows_the_contract(tmp_path: Path) -> None:
    from simulator.world import simulate

    tables = simulate(n_accounts=30, seed=3).tables
    for fmt in ("parquet", "csv"):
        with open_source(write_tables(tables, tmp_path / fmt, fmt)) as source:
            assert [str(problem) for problem in validate_source(source)] == []


def _with_null_typed_column(directory: Path, table: str, column: str) -> None:
    """Rewrite one table with `column` empty, stored as Parquet's null type (as pandas does)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = tiny_world()[table]
    frame[column] = None
    stored = pa.Table.from_pandas(frame, preserve_index=False)
    assert stored.schema.field(column).type == pa.null()
    pq.write_table(stored, directory / f"{table}.parquet")


def test_an_empty_optional_column_of_parquet_null_type_loads_typed(tmp_path: Path) -> None:
    directory = write_tables(tiny_world(), tmp_path, "parquet")
    _with_null_typed_column(directory, "accounts", "industry")
    with load_source(directory) as source:
        types = dict(source.con.execute("SELECT column_name, data_type FROM "
                                        "information_schema.columns WHERE table_name = 'accounts'"
                                        ).fetchall())  # fmt: skip
        values = source.con.execute("SELECT count(industry) FROM accounts").fetchone()
    assert types["industry"] == "VARCHAR" and values == (0,)


def test_an_empty_required_column_of_parquet_null_type_is_reported_as_nulls(tmp_path: Path) -> None:
    directory = write_tables(tiny_world(), tmp_path, "parquet")
    _with_null_typed_column(directory, "accounts", "created_at")
    with open_source(directory) as source:
        problems = [str(p) for p in validate_source(source)]
    assert any(p.startswith("accounts.created_at") for p in problems)
    assert not any("cannot hold" in p for p in problems)
