"""Validation: a catalogue of broken inputs, each reported as its own specific problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.problems import Problem
from features.source import open_source
from features.validate import validate_source
from retain.cli import app
from tests.support import tiny_world, write_tables

Tables = dict[str, pd.DataFrame]


def set_cell(tables: Tables, table: str, row: int, column: str, value: Any) -> None:
    """Put any value (even one of the wrong type) into one cell of a table."""
    frame = tables[table]
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value


def cell(table: str, row: int, column: str, value: object) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        set_cell(tables, table, row, column, value)

    return mutate


def drop_table(table: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        del tables[table]

    return mutate


def drop_column(table: str, column: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        tables[table] = tables[table].drop(columns=[column])

    return mutate


def empty_table(table: str) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        tables[table] = tables[table].iloc[0:0]

    return mutate


def all_rows(table: str, column: str, value: object) -> Callable[[Tables], None]:
    def mutate(tables: Tables) -> None:
        for row in range(len(tables[table])):
            set_cell(tables, table, row, column, value)

    return mutate


def write_file(name: str, text: str) -> Callable[[Path], None]:
    def mutate(directory: Path) -> None:
        (directory / name).write_text(text, encoding="utf-8")

    return mutate


@dataclass(frozen=True)
class Broken:
    """One broken input and the one problem it must produce."""

    id: str
    table: str
    column: str | None
    rows: int
    examples: tuple[str, ...]
    says: str  # a fragment of the message
    tables: Callable[[Tables], None] | None = None
    files: Callable[[Path], None] | None = None
    fmt: str = "csv"


CATALOGUE = [
    Broken(
        "missing_required_table",
        "users",
        None,
        0,
        (),
        "required table is missing",
        tables=drop_table("users"),
    ),
    Broken(
        "missing_column",
        "subscriptions",
        "arr",
        0,
        (),
        "column is missing",
        tables=drop_column("subscriptions", "arr"),
    ),
    Broken(
        "arr_not_a_number",
        "subscriptions",
        "arr",
        1,
        ("row 3 ('abc')",),
        "not a number",
        tables=cell("subscriptions", 2, "arr", "abc"),
    ),
    Broken(
        "unparseable_timestamp",
        "events",
        "ts",
        1,
        ("row 1 ('yesterday')",),
        "not an ISO-8601 timestamp",
        tables=cell("events", 0, "ts", "yesterday"),
    ),
    Broken(
        "unparseable_date",
        "subscriptions",
        "start_date",
        1,
        ("row 2 ('2024-13-01')",),
        "not an ISO-8601 date",
        tables=cell("subscriptions", 1, "start_date", "2024-13-01"),
    ),
    Broken(
        "bad_bool",
        "users",
        "is_key_user",
        1,
        ("row 2 ('maybe')",),
        "not a boolean",
        tables=cell("users", 1, "is_key_user", "maybe"),
    ),
    Broken(
        "fractional_seats",
        "subscriptions",
        "seats",
        1,
        ("row 1 ('2.5')",),
        "not a whole number",
        tables=cell("subscriptions", 0, "seats", "2.5"),
    ),
    Broken(
        "duplicate_id",
        "subscriptions",
        "subscription_id",
        2,
        ("'s1' (rows 1, 4)",),  # the key and the data rows that share it
        "must be unique",
        tables=cell("subscriptions", 3, "subscription_id", "s1"),
    ),
    Broken(
        "duplicate_composite_key",
        "outcomes",
        "account_id, kpi, period_end",
        2,
        ("'1001, revenue_uplift_pct, 2023-06-30' (rows 1, 2)",),
        "must be unique",
        tables=cell("outcomes", 1, "period_end", "2023-06-30"),
    ),
    Broken(
        "orphan_account",
        "events",
        "account_id",
        1,
        ("'9999'",),
        "unknown account",
        tables=cell("events", 3, "account_id", "9999"),
    ),
    Broken(
        "orphan_user",
        "events",
        "user_id",
        1,
        ("'u99'",),
        "unknown user",
        tables=cell("events", 4, "user_id", "u99"),
    ),
    Broken(
        "orphan_account_in_optional_table",
        "tickets",
        "account_id",
        1,
        ("'2002'",),
        "unknown account",
        tables=cell("tickets", 2, "account_id", "2002"),
    ),
    Broken(
        "negative_arr",
        "subscriptions",
        "arr",
        1,
        ("row 2 ('-5')",),
        "below the minimum 0",
        tables=cell("subscriptions", 1, "arr", "-5"),
    ),
    Broken(
        "negative_seats",
        "subscriptions",
        "seats",
        1,
        ("row 4 ('-1')",),
        "minimum 0",
        tables=cell("subscriptions", 3, "seats", "-1"),
    ),
    Broken(
        "negative_duration",
        "events",
        "duration_s",
        1,
        ("row 2 ('-3')",),
        "minimum 0",
        tables=cell("events", 1, "duration_s", "-3"),
    ),
    Broken(
        "unknown_event_type",
        "events",
        "event_type",
        1,
        ("row 3 ('click')",),
        "allowed ones (view, action, value)",
        tables=cell("events", 2, "event_type", "click"),
    ),
    Broken(
        "unknown_kind",
        "subscriptions",
        "kind",
        1,
        ("row 5 ('upgrade')",),
        "allowed ones (new, renewal, expansion)",
        tables=cell("subscriptions", 4, "kind", "upgrade"),
    ),
    Broken(
        "unknown_value_driver",
        "accounts",
        "value_driver",
        1,
        ("row 1 ('growth')",),
        "(revenue, efficiency, cost)",
        tables=cell("accounts", 0, "value_driver", "growth"),
    ),
    Broken(
        "many_bad_rows_five_examples",
        "events",
        "event_type",
        6,
        tuple(f"row {n} ('click')" for n in range(1, 6)),
        "allowed ones",
        tables=all_rows("events", "event_type", "click"),
    ),
    Broken("empty_file", "tickets", None, 0, (), "empty file", files=write_file("tickets.csv", "")),
    Broken(
        "empty_required_table", "events", None, 0, (), "has no rows", tables=empty_table("events")
    ),
    Broken(
        "bad_csv",
        "touchpoints",
        None,
        0,
        (),
        "could not be read",
        files=write_file(
            "touchpoints.csv",
            "touchpoint_id,account_id,ts,type,owner,notes\n"
            'p1,1002,2023-12-10,health_check,,\n"p2,1001,2024-01-20,training\n',
        ),
    ),
    Broken(
        "end_before_start",
        "subscriptions",
        "end_date",
        1,
        ("row 5 ('2024-02-01 -> 2023-01-01')",),
        "not after start_date",
        tables=cell("subscriptions", 4, "end_date", "2023-01-01"),
    ),
    Broken(
        "end_equals_start",
        "subscriptions",
        "end_date",
        1,
        ("row 1 ('2023-01-01 -> 2023-01-01')",),
        "not after start_date",
        tables=cell("subscriptions", 0, "end_date", "2023-01-01"),
    ),
    Broken(
        "deactivated_before_created",
        "users",
        "deactivated_at",
        1,
        ("row 2 ('2023-02-01 00:00:00 UTC -> 2022-01-01 00:00:00 UTC')",),
        "before created_at",
        tables=cell("users", 1, "deactivated_at", "2022-01-01"),
    ),
    Broken(
        "closed_before_opened",
        "tickets",
        "closed_at",
        1,
        ("row 1 ('2024-01-03 00:00:00 UTC -> 2024-01-02 00:00:00 UTC')",),
        "before opened_at",
        tables=cell("tickets", 0, "closed_at", "2024-01-02"),
    ),
    Broken(
        "score_11",
        "surveys",
        "score",
        1,
        ("row 1 ('11')",),
        "range 0 to 10",
        tables=cell("surveys", 0, "score", "11"),
    ),
    Broken(
        "csat_0",
        "tickets",
        "csat",
        1,
        ("row 1 ('0')",),
        "range 1 to 5",
        tables=cell("tickets", 0, "csat", "0"),
    ),
    Broken(
        "null_created_at",
        "accounts",
        "created_at",
        1,
        ("row 2",),
        "requires a value",
        tables=cell("accounts", 1, "created_at", None),
    ),
    Broken(
        "null_key",
        "subscriptions",
        "subscription_id",
        1,
        ("row 4",),
        "requires a value",
        tables=cell("subscriptions", 3, "subscription_id", None),
    ),
    Broken(
        "null_event_type",
        "events",
        "event_type",
        1,
        ("row 6",),
        "requires a value",
        tables=cell("events", 5, "event_type", None),
    ),
    Broken(
        "outcome_on_expansion",
        "subscriptions",
        "outcome",
        1,
        ("row 3 ('renewed')",),
        "expansion row",
        tables=cell("subscriptions", 2, "outcome", "renewed"),
    ),
    Broken(
        "unknown_priority",
        "tickets",
        "priority",
        1,
        ("row 2 ('p1')",),
        "(low, normal, high, urgent)",
        tables=cell("tickets", 1, "priority", "p1"),
    ),
    Broken(
        "parquet_wrong_stored_type",
        "users",
        "created_at",
        5,
        (),
        "stored as BOOLEAN",
        tables=all_rows("users", "created_at", True),
        fmt="parquet",
    ),
    Broken(
        "two_files_for_one_table",
        "surveys",
        None,
        0,
        (),
        "more than one file",
        files=write_file("surveys.parquet", "not parquet"),
    ),
]


def broken_source(case: Broken, directory: Path) -> Path:
    tables = tiny_world()
    if case.tables:
        case.tables(tables)
    if case.fmt == "parquet":
        for name, frame in tables.items():
            if case.tables and name == case.table:
                tables[name] = frame.infer_objects()
    write_tables(tables, directory, case.fmt)
    if case.files:
        case.files(directory)
    return directory


def matches(problem: Problem, case: Broken) -> bool:
    return (
        problem.table == case.table
        and problem.column == case.column
        and problem.rows == case.rows
        and problem.examples == case.examples
        and case.says in problem.message
    )


def test_the_tiny_world_follows_the_contract(tiny_csv_dir: Path, tiny_parquet_dir: Path) -> None:
    for directory in (tiny_csv_dir, tiny_parquet_dir):
        with open_source(directory) as source:
            assert validate_source(source) == []
            assert len(source.present) == 9


def test_catalogue_ids_are_unique_and_large_enough() -> None:
    assert len({case.id for case in CATALOGUE}) == len(CATALOGUE) >= 20


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.id for case in CATALOGUE])
def test_each_broken_input_is_reported_as_its_own_problem(case: Broken, tmp_path: Path) -> None:
    directory = broken_source(case, tmp_path / "source")
    with open_source(directory) as source:
        problems = validate_source(source)
    assert len(problems) == 1, [str(p) for p in problems]
    assert matches(problems[0], case), str(problems[0])

    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 1
    assert str(problems[0]) in result.output
    assert "Traceback" not in result.output


def test_problem_text_names_table_column_rows_and_examples() -> None:
    problem = Problem(
        "events",
        "ts",
        "holds values that are not a timestamp",
        7,
        ("row 1", "row 2", "row 3", "row 4", "row 5", "row 6"),
    )
    text = str(problem)
    assert text.startswith("events.ts: holds values")
    assert "[7 rows; e.g. row 1, row 2, row 3, row 4, row 5]" in text
    assert "row 6" not in text


def test_problems_in_several_tables_are_all_listed(tmp_path: Path) -> None:
    tables = tiny_world()
    set_cell(tables, "surveys", 1, "score", "-1")
    set_cell(tables, "events", 0, "account_id", "7")
    set_cell(tables, "accounts", 2, "employees", "many")
    with open_source(write_tables(tables, tmp_path / "source")) as source:
        problems = validate_source(source)
    assert [(p.table, p.column) for p in problems] == [
        ("accounts", "employees"),
        ("events", "account_id"),
        ("surveys", "score"),
    ]


def test_a_source_that_does_not_exist_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "(source): " in result.output
    assert "required table is missing" not in result.output  # the source says it


def test_valid_source_exits_zero(tiny_parquet_dir: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--data", str(tiny_parquet_dir)])
    assert result.exit_code == 0, result.output
    assert "follows the data contract" in result.output


def test_extra_columns_are_allowed(tmp_path: Path) -> None:
    tables = tiny_world()
    tables["events"]["browser"] = "firefox"
    with open_source(write_tables(tables, tmp_path / "source")) as source:
        assert validate_source(source) == []


def test_optional_tables_may_be_absent(tmp_path: Path) -> None:
    tables = {
        name: frame
        for name, frame in tiny_world().items()
        if name in ("accounts", "subscriptions", "users", "events")
    }
    with open_source(write_tables(tables, tmp_path / "source")) as source:
        assert validate_source(source) == []
        assert source.present == ("accounts", "subscriptions", "users", "events")


def test_an_optional_table_with_only_a_header_is_fine(tmp_path: Path) -> None:
    tables = tiny_world()
    tables["surveys"] = tables["surveys"].iloc[0:0]
    with open_source(write_tables(tables, tmp_path / "source")) as source:
        assert validate_source(source) == []
        assert "surveys" in source.present


def _problems(directory: Path) -> list[str]:
    with open_source(directory) as source:
        return [str(problem) for problem in validate_source(source)]


def test_a_semicolon_separated_csv_names_the_file_and_the_delimiter(tmp_path: Path) -> None:
    directory = write_tables(tiny_world(), tmp_path, "csv")
    tiny_world()["accounts"].to_csv(directory / "accounts.csv", sep=";", index=False)
    problems = _problems(directory)
    assert len(problems) == 1
    assert "accounts.csv is separated by semicolons, not commas" in problems[0]
    assert "account_id, name" in problems[0]  # the columns it found


def test_a_latin1_csv_names_the_file_the_line_and_the_encoding(tmp_path: Path) -> None:
    directory = write_tables(tiny_world(), tmp_path, "csv")
    accounts = tiny_world()["accounts"]
    accounts.loc[1, "name"] = "Société Générale"
    accounts.to_csv(directory / "accounts.csv", index=False, encoding="latin-1")
    problems = _problems(directory)
    assert len(problems) == 1
    assert "accounts.csv is not UTF-8" in problems[0] and "line 3" in problems[0]
    assert "Latin-1" in problems[0]


def test_a_wrongly_headed_csv_lists_the_missing_columns_and_those_found(tmp_path: Path) -> None:
    directory = write_tables(tiny_world(), tmp_path, "csv")
    renamed = tiny_world()["accounts"].rename(columns={"account_id": "AccountID"})
    renamed.to_csv(directory / "accounts.csv", index=False)
    problems = _problems(directory)
    assert "accounts.account_id: column is missing (found 'AccountID'" in problems[0]
    assert not any("Parser Error" in p for p in problems)


def test_a_database_source_names_broken_rows_by_their_key(tmp_path: Path) -> None:
    # Second audit: a DuckDB source's problems said "row 200, row 352": a table in a
    # database has no row order a user could find them by; its key does.
    from tests.support.tables import write_duckdb_file

    tables = tiny_world()
    set_cell(tables, "subscriptions", 1, "kind", "Renewal")
    set_cell(tables, "subscriptions", 2, "kind", "Expansion")
    set_cell(tables, "subscriptions", 3, "account_id", None)
    path = write_duckdb_file(tmp_path / "crm.duckdb", tables)
    with open_source(f"duckdb://{path}") as source:
        problems = {(p.table, p.column): p for p in validate_source(source)}
    kind = problems[("subscriptions", "kind")]
    assert kind.examples == ("subscription_id 's2' ('Renewal')", "'s3' ('Expansion')")
    assert problems[("subscriptions", "account_id")].examples == ("subscription_id 's4'",)
    with open_source(write_tables(tables, tmp_path / "files", "csv")) as source:
        by_row = {(p.table, p.column): p for p in validate_source(source)}
    assert by_row[("subscriptions", "kind")].examples == (
        "row 2 ('Renewal')",
        "row 3 ('Expansion')",
    )
    # a broken row whose key is empty too keeps its row number and its own value; the next
    # row keeps its key (the review found them shifted onto each other)
    set_cell(tables, "subscriptions", 1, "subscription_id", None)
    path = write_duckdb_file(tmp_path / "crm2.duckdb", tables)
    with open_source(f"duckdb://{path}") as source:
        problems = {(p.table, p.column): p for p in validate_source(source)}
    assert problems[("subscriptions", "kind")].examples == (
        "row 2 ('Renewal')",
        "subscription_id 's3' ('Expansion')",
    )


def test_an_expansion_with_no_term_in_force_is_a_problem_naming_its_row(tmp_path: Path) -> None:
    # The eleventh audit: an expansion in the gap after a churn labelled the churned term's
    # snapshots churned and expanded at once, and validate said nothing.
    tables = tiny_world()
    set_cell(tables, "subscriptions", 2, "account_id", "1002")  # 1002 churned on 1 Mar 2024
    directory = write_tables(tables, tmp_path / "files", "csv")
    with open_source(directory) as source:
        problems = validate_source(source)
    assert [(p.table, p.column, p.rows) for p in problems] == [("subscriptions", "kind", 1)]
    assert problems[0].examples == ("row 3 (account '1002', 2024-06-01)",)
    assert "no new/renewal term in force" in problems[0].message
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 1 and "a `new` row" in " ".join(result.output.split())
    from tests.support.tables import write_duckdb_file

    path = write_duckdb_file(tmp_path / "crm.duckdb", tables)
    with open_source(f"duckdb://{path}") as source:
        by_key = validate_source(source)
    assert by_key[0].examples == ("subscription_id 's3' (account '1002', 2024-06-01)",)
    set_cell(tables, "subscriptions", 2, "start_date", date(2023, 6, 1))  # inside 1002's term
    with open_source(write_tables(tables, tmp_path / "fixed", "csv")) as source:
        assert validate_source(source) == []


def test_a_bad_row_in_a_directory_of_event_files_names_its_file(tmp_path: Path) -> None:
    # The eleventh audit: a bad row of one daily file was "row 1158054", counted over all
    # 2,130 files; the file and its own row number say where to look.
    tables = tiny_world()
    events = tables.pop("events")
    directory = write_tables(tables, tmp_path / "source", "parquet")
    (directory / "events").mkdir()
    events = events.astype({"account_id": object})
    events.loc[4, "account_id"] = "9999"  # unknown: named by value, not by row
    events.loc[5, "event_type"] = "clicked"  # outside the allowed values: named by row
    for name, part in (("2024-02", events.iloc[3:]), ("2024-01", events.iloc[:3])):
        part.to_parquet(directory / "events" / f"{name}.parquet", index=False)
    with open_source(directory) as source:
        problems = {(p.table, p.column): p for p in validate_source(source)}
    assert problems[("events", "event_type")].examples == ("row 3 of 2024-02.parquet ('clicked')",)
    assert problems[("events", "account_id")].examples == ("'9999'",)


def test_notes_on_terms_are_said_beside_the_problems(tmp_path: Path) -> None:
    """The seventh audit: a lapsed term's note was dropped whenever validate also found an error."""
    tables = tiny_world()
    set_cell(tables, "surveys", 1, "score", "-1")  # a problem that leaves the types readable
    set_cell(tables, "subscriptions", 4, "end_date", date(2024, 2, 3))  # 1003's term lapsed
    result = CliRunner().invoke(app, ["validate", "--data", str(write_tables(tables, tmp_path))])
    assert result.exit_code == 1
    assert "surveys.score" in result.output
    assert "1003" in result.output and "no outcome" in result.output


def test_notes_beside_problems_say_the_problems_may_change_them(tmp_path: Path) -> None:
    tables = tiny_world()
    set_cell(tables, "subscriptions", 0, "start_date", "soon")  # read as empty by the notes
    set_cell(tables, "subscriptions", 4, "end_date", date(2024, 2, 3))
    directory = write_tables(tables, tmp_path, "csv")
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "subscriptions.start_date" in said and "1003" in said
    assert (
        said.index("subscriptions.start_date")
        < said.index("fixing the problems may change")
        < said.index("1003")
    )
    assert "Traceback" not in result.output


def test_a_missing_column_says_the_other_checks_wait_for_the_fix(tmp_path: Path) -> None:
    tables = tiny_world()
    tables["subscriptions"] = tables["subscriptions"].drop(columns="arr")
    result = CliRunner().invoke(app, ["validate", "--data", str(write_tables(tables, tmp_path))])
    assert result.exit_code == 1
    assert "subscriptions.arr" in result.output
    assert "run once the problems above are fixed" in " ".join(result.output.split())
    assert "Traceback" not in result.output
