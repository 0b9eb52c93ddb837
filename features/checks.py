"""The contract checks as DuckDB SQL over one table: values, keys and references.

Every check is a condition over a table read through the contract types, run as
one aggregate pass per table (fast on millions of events); examples are only
fetched for the checks that fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from features.casting import describe, quote, typed_expression
from features.contract import TABLES, TIMESTAMP, Table
from features.problems import MAX_EXAMPLES, Problem

ROW = "__row"


def raw(column: str) -> str:
    """The alias of a column as stored, beside its typed alias (the plain name)."""
    return quote(f"raw:{column}")


@dataclass(frozen=True)
class RowCheck:
    """A condition that flags broken rows of a table, and how to describe them."""

    column: str
    message: str
    condition: str
    example: str | None = None  # SQL shown beside the row number, e.g. the bad value


def typed_columns(table: Table, stored: dict[str, str]) -> dict[str, str]:
    """Contract column -> SQL reading it as its contract type, for the columns that can be."""
    expressions = {}
    for column in table.columns:
        if column.name in stored:
            expression = typed_expression(column, stored[column.name])
            if expression is not None:
                expressions[column.name] = expression
    return expressions


def typed_select(table: Table, stored: dict[str, str], with_row: bool = False) -> str:
    """SQL for the table with each usable column typed (plain name) and as stored (`raw:`)."""
    parts = [f"{sql} AS {quote(name)}" for name, sql in typed_columns(table, stored).items()]
    parts += [f"{quote(name)} AS {raw(name)}" for name in typed_columns(table, stored)]
    if with_row:
        parts.insert(0, f"row_number() OVER () AS {ROW}")
    return f"SELECT {', '.join(parts)} FROM {quote('raw_' + table.name)}"


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _when(column: str, kind: str) -> str:
    """SQL showing a typed date or timestamp; a timestamp says it is UTC.

    The contract reads every time as UTC, so a file's 02:30+02:00 shows as 00:30 UTC.
    """
    if kind == TIMESTAMP:
        return f"strftime({quote(column)}, '%Y-%m-%d %H:%M:%S') || ' UTC'"
    return f"CAST({quote(column)} AS VARCHAR)"


def row_checks(table: Table, stored: dict[str, str]) -> list[RowCheck]:
    """Every row-level check of the contract that can run on this table as stored."""
    usable = typed_columns(table, stored)
    checks = []
    for column in table.columns:
        name = column.name
        if name not in usable:
            continue
        typed, shown = quote(name), f"CAST({raw(name)} AS VARCHAR)"
        if not column.nullable:
            checks.append(
                RowCheck(
                    name, "is empty, but the contract requires a value", f"{raw(name)} IS NULL"
                )
            )
        if usable[name] != quote(name):
            checks.append(
                RowCheck(
                    name,
                    f"holds values that are not {describe(column.type)}",
                    f"{raw(name)} IS NOT NULL AND {typed} IS NULL",
                    shown,
                )
            )
        if column.enum:
            allowed = ", ".join(_literal(value) for value in column.enum)
            checks.append(
                RowCheck(
                    name,
                    f"holds values outside the allowed ones ({', '.join(column.enum)})",
                    f"{typed} NOT IN ({allowed})",
                    shown,
                )
            )
        if column.min is not None or column.max is not None:
            low = "-inf" if column.min is None else _number(column.min)
            high = "inf" if column.max is None else _number(column.max)
            bounds = [f"{typed} < {_number(column.min)}"] if column.min is not None else []
            bounds += [f"{typed} > {_number(column.max)}"] if column.max is not None else []
            message = (
                f"is below the minimum {low}"
                if column.max is None
                else f"is outside the allowed range {low} to {high}"
            )
            checks.append(RowCheck(name, message, " OR ".join(bounds), shown))
    pairs = [(a, b, True) for a, b in table.ordered]
    pairs += [(a, b, False) for a, b in table.not_before]
    types = {column.name: column.type for column in table.columns}
    for earlier, later, strict in pairs:
        if earlier in usable and later in usable:
            wrong = f"{quote(later)} {'<=' if strict else '<'} {quote(earlier)}"
            checks.append(
                RowCheck(
                    later,
                    f"is {'not after' if strict else 'before'} {earlier}",
                    wrong,
                    f"{_when(earlier, types[earlier])} || ' -> ' || {_when(later, types[later])}",
                )
            )
    if table.name == "subscriptions" and {"kind", "outcome"} <= usable.keys():
        checks.append(
            RowCheck(
                "outcome",
                "is set on an expansion row (expansions have no outcome of their own)",
                "kind = 'expansion' AND outcome IS NOT NULL",
                "CAST(outcome AS VARCHAR)",
            )
        )
    return checks


def _key_text(table: Table, stored: dict[str, str]) -> str | None:
    """SQL naming a row by its key ("'s9'"), or None when the key cannot be read."""
    if not table.key or not set(table.key) <= typed_columns(table, stored).keys():
        return None
    return " || ', ' || ".join(f"CAST({quote(k)} AS VARCHAR)" for k in table.key)


def run_row_checks(
    con: duckdb.DuckDBPyConnection, table: Table, stored: dict[str, str], by_key: bool = False
) -> tuple[int, list[Problem]]:
    """Run every row check of a table in one pass; returns (row count, problems).

    `by_key`: name each example row by its key (`subscription_id 's9'`) where it has one,
    not by its number: a database table's rows have no order a user could find them by.
    """
    checks = row_checks(table, stored)
    counts = ", ".join(f"count(*) FILTER (WHERE {check.condition})" for check in checks)
    query = f"SELECT count(*){', ' + counts if counts else ''} FROM ({typed_select(table, stored)})"
    result = con.execute(query).fetchone()
    assert result is not None
    total, failed = int(result[0]), [int(n) for n in result[1:]]
    broken = [(check, n) for check, n in zip(checks, failed, strict=True) if n]
    if not broken:
        return total, []
    key = _key_text(table, stored) if by_key else None
    lists = []
    for check, _ in broken:
        # one list per example row, never NULL: arg_min skips NULLs, and a NULL value or
        # key would shift the rest onto the wrong rows
        shown = f"CAST({check.example or 'NULL'} AS VARCHAR)"
        named = f"CAST({key or 'NULL'} AS VARCHAR)"
        found = f"[CAST({ROW} AS VARCHAR), {shown}, {named}]"
        lists.append(f"arg_min({found}, {ROW}, {MAX_EXAMPLES}) FILTER (WHERE {check.condition})")
    query = f"SELECT {', '.join(lists)} FROM ({typed_select(table, stored, with_row=True)})"
    row = con.execute(query).fetchone()
    assert row is not None
    problems = []
    for i, (check, n) in enumerate(broken):
        examples: list[str] = []
        key_named = False  # the key's name once, then only its values
        for number, value, named in row[i] or []:
            where = f"row {number}" if named is None else repr(named)
            if named is not None and not key_named:
                where, key_named = f"{', '.join(table.key)} {where}", True
            examples.append(where if check.example is None else f"{where} ({value!r})")
        problems.append(Problem(table.name, check.column, check.message, n, tuple(examples)))
    return total, problems


def duplicate_keys(
    con: duckdb.DuckDBPyConnection, table: Table, stored: dict[str, str]
) -> list[Problem]:
    """Rows sharing a primary key (null keys are reported by the null checks).

    Each example names the key and the rows that share it: `'s1' (rows 1, 4)`.
    """
    text = _key_text(table, stored)
    if text is None:
        return []
    keys = ", ".join(quote(k) for k in table.key)
    not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in table.key)
    row = con.execute(
        f"SELECT count(*), sum(n) FROM (SELECT count(*) AS n FROM ({typed_select(table, stored)})"
        f" WHERE {not_null} GROUP BY {keys} HAVING count(*) > 1)"
    ).fetchone()
    if not row or not row[0]:
        return []
    # only when there are duplicates: which rows share the first keys (a second pass)
    first = con.execute(
        f"SELECT {text} AS key_text, list({ROW} ORDER BY {ROW})[1:{MAX_EXAMPLES}]"
        f" FROM ({typed_select(table, stored, with_row=True)}) WHERE {not_null}"
        f" GROUP BY {keys} HAVING count(*) > 1 ORDER BY key_text LIMIT {MAX_EXAMPLES}"
    ).fetchall()
    message = f"has {row[0]} duplicated key value(s); ({', '.join(table.key)}) must be unique"
    examples = tuple(
        f"{key!r} (rows {', '.join(str(n) for n in numbers)})" for key, numbers in first
    )
    return [Problem(table.name, ", ".join(table.key), message, int(row[1]), examples)]


def unknown_references(
    con: duckdb.DuckDBPyConnection, table: Table, stored: dict[str, dict[str, str]]
) -> list[Problem]:
    """Rows pointing at an account or user the source does not have."""
    problems = []
    usable = typed_columns(table, stored[table.name])
    for column in table.columns:
        if column.references is None or column.name not in usable:
            continue
        parent_name, parent_column = column.references.split(".")
        if parent_name not in stored:
            continue  # the missing or unreadable parent table is reported on its own
        parent = TABLES[parent_name]
        if parent_column not in typed_columns(parent, stored[parent_name]):
            continue
        child_sql = typed_select(table, stored[table.name])
        parent_sql = typed_select(parent, stored[parent_name])
        ref, key = quote(column.name), quote(parent_column)
        orphans = (
            f"SELECT {ref} AS ref FROM ({child_sql}) WHERE {ref} IS NOT NULL AND {ref} NOT IN "
            f"(SELECT {key} FROM ({parent_sql}) WHERE {key} IS NOT NULL)"
        )
        row = con.execute(f"SELECT count(*) FROM ({orphans})").fetchone()
        if not row or not row[0]:
            continue
        first = f"SELECT DISTINCT ref FROM ({orphans}) ORDER BY ref LIMIT {MAX_EXAMPLES}"
        examples = tuple(repr(value) for (value,) in con.execute(first).fetchall())
        kind = parent_name.removesuffix("s")
        message = f"refers to an unknown {kind} (not in {parent_name}.{parent_column})"
        problems.append(Problem(table.name, column.name, message, int(row[0]), examples))
    return problems


def expansions_without_a_term(
    con: duckdb.DuckDBPyConnection, stored: dict[str, str], by_key: bool = False
) -> list[Problem]:
    """`expansion` rows that start when their account has no `new`/`renewal` term in force.

    The contract's expansion is a mid-term add-on to a term; one in the gap after a churn
    would label the churned term's snapshots churned and expanded at once (the eleventh
    audit). An account's return after churning is a `new` row.
    """
    table = TABLES["subscriptions"]
    needed = {"subscription_id", "account_id", "kind", "start_date", "end_date"}
    if not needed <= typed_columns(table, stored).keys():
        return []
    orphans = con.execute(
        f"""
        SELECT CAST(e.{ROW} AS VARCHAR), CAST(e.subscription_id AS VARCHAR),
               CAST(e.account_id AS VARCHAR), e.start_date
        FROM ({typed_select(table, stored, with_row=True)}) e
        WHERE e.kind = 'expansion' AND e.account_id IS NOT NULL AND e.start_date IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM ({typed_select(table, stored)}) t
              WHERE t.account_id = e.account_id AND t.kind IN ('new', 'renewal')
                AND t.start_date <= e.start_date AND e.start_date < t.end_date)
        ORDER BY e.{ROW}
        """
    ).fetchall()
    if not orphans:
        return []
    examples = tuple(
        f"{f'subscription_id {key!r}' if by_key else f'row {row}'}"
        f" (account {account!r}, {start:%Y-%m-%d})"
        for row, key, account, start in orphans[:MAX_EXAMPLES]
    )
    message = (
        "is an expansion that starts when its account has no new/renewal term in force;"
        " an expansion extends a term in force, and an account's return after churning is"
        " a `new` row"
    )
    return [Problem(table.name, "kind", message, len(orphans), examples)]
