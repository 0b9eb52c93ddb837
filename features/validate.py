"""Check an opened source against the data contract and list every problem.

Nothing is fixed or dropped: each broken promise (a missing table or column, a
value that is not of its type, a null where none is allowed, a value outside
its allowed set or range, a duplicated key, a reference to an unknown account
or user, dates out of order, an unreadable file) becomes one `Problem` naming
the table, column, number of rows and up to five examples. All checks are
DuckDB SQL, so they stay fast on millions of events. `source_notes` adds what
follows the contract but may not be what was meant (touchpoint types that are
not action codes), as notes rather than problems.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from features.casting import describe, quote, typed_expression
from features.checks import (
    duplicate_keys,
    expansions_without_a_term,
    run_row_checks,
    unknown_references,
)
from features.contract import REQUIRED_TABLES, TABLES, Table
from features.problems import ContractError, Problem, file_problem, first_line
from features.times import utc_iso
from features.touchpoint_types import type_counts, validate_note

if TYPE_CHECKING:
    from features.source import Source

__all__ = [
    "ContractError",
    "Problem",
    "booked_ahead_note",
    "concurrent_terms_note",
    "expansions_past_term_note",
    "lapsed_terms_note",
    "price_rise_note",
    "renewal_after_gap_note",
    "stale_tickets_note",
    "source_notes",
    "validate_source",
]

WHOLE_SOURCE = "(source)"


def _loose(name: str) -> str:
    """A column name without case, spaces or punctuation (`AccountID` ~ `account_id`)."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _column_problems(source: Source, table: Table, stored: dict[str, str]) -> list[Problem]:
    """Missing contract columns and columns stored as a type that cannot hold their values."""
    problems = []
    spelled = {_loose(name): name for name in stored}
    for column in table.columns:
        if column.name not in stored:
            near = spelled.get(_loose(column.name))
            hint = f"found {near!r}: names must match exactly" if near else (
                "every contract column must be present; nullable ones may be empty"
            )  # fmt: skip
            problems.append(Problem(table.name, column.name, f"column is missing ({hint})"))
        elif typed_expression(column, stored[column.name]) is None:
            row = source.con.execute(
                f"SELECT count({quote(column.name)}) FROM {quote('raw_' + table.name)}"
            ).fetchone()
            problems.append(
                Problem(
                    table.name,
                    column.name,
                    f"is stored as {stored[column.name]}, which cannot hold "
                    f"{describe(column.type)}",
                    int(row[0]) if row else 0,
                )
            )
    return problems


def _table_problems(source: Source, table: Table) -> tuple[dict[str, str] | None, list[Problem]]:
    """Column and row problems of one table; stored types are None when it cannot be read."""
    try:
        stored = source.stored_types(table.name)
        problems = _column_problems(source, table, stored)
        total, row_problems = run_row_checks(source.con, table, stored, source.is_database)
        problems += row_problems
        if total == 0 and table.required:
            problems.append(Problem(table.name, None, "has no rows, but the table is required"))
        problems += duplicate_keys(source.con, table, stored)
        problems = _rows_in_files(source, table.name, problems)
    except duckdb.Error as error:
        where = source.locations.get(table.name, table.name)
        return None, [Problem(table.name, None, file_problem(where, error))]
    return stored, problems


ROW_EXAMPLE = re.compile(r"row (\d+)")


def _rows_in_files(source: Source, name: str, problems: list[Problem]) -> list[Problem]:
    """In a table read from a directory of Parquet files, name each example row's file.

    "row N", counted over all the files (`events/*.parquet`) in name order as DuckDB reads
    them, becomes "row n of <file>" (the eleventh audit read "row 1158054" of 2,130 daily
    files).
    """
    where = Path(source.locations.get(name, ""))
    if not where.is_dir() or not any(p.examples for p in problems):
        return problems
    glob = str(where / "*.parquet").replace("'", "''")
    try:
        files = source.con.execute(
            f"SELECT file_name, num_rows FROM parquet_file_metadata('{glob}') ORDER BY file_name"
        ).fetchall()
    except duckdb.Error:  # the problems stand as counted over all the files
        return problems
    ends = list(itertools.accumulate(int(rows) for _, rows in files))

    def located(match: re.Match[str]) -> str:
        number = int(match.group(1))
        i = bisect.bisect_left(ends, number)
        if i == len(files):
            return match.group(0)
        first = ends[i - 1] if i else 0
        return f"row {number - first} of {Path(files[i][0]).name}"

    return [
        replace(p, examples=tuple(ROW_EXAMPLE.sub(located, e, count=1) for e in p.examples))
        for p in problems
    ]


def validate_source(source: Source) -> list[Problem]:
    """Every way the source breaks the data contract; an empty list when it follows it.

    Args:
        source: A source from `open_source`.

    Returns:
        The problems, table by table in contract order.
    """
    problems = [
        Problem(table or WHOLE_SOURCE, None, reason) for table, reason in source.unreadable.items()
    ]
    whole = "" in source.unreadable  # the source itself could not be read: that says it
    for name in REQUIRED_TABLES:
        if name not in source.present and name not in source.unreadable and not whole:
            problems.append(Problem(name, None, "required table is missing"))
    readable: dict[str, dict[str, str]] = {}
    for name in source.present:
        stored, table_problems = _table_problems(source, TABLES[name])
        problems += table_problems
        if stored is not None:
            readable[name] = stored
    for name in readable:
        try:
            problems += unknown_references(source.con, TABLES[name], readable)
            if name == "subscriptions" and not any(p.table == name for p in problems):
                # on rows that read well only: a broken term date would orphan its expansions
                problems += expansions_without_a_term(
                    source.con, readable[name], source.is_database
                )
        except duckdb.Error as error:  # a file that breaks only late in a second read
            problems.append(Problem(name, None, f"could not be read: {first_line(error)}"))
    order = list(TABLES)
    return sorted(problems, key=lambda p: order.index(p.table) if p.table in order else -1)


def source_notes(source: Source) -> list[str]:
    """What follows the contract but may not be what the user meant; not problems.

    Touchpoint types that are not action codes are allowed and ignored: the note counts
    them and names the action code a type looks like ("Health Check": `health_check`).
    A touchpoints table without a readable `type` column is left to `validate_source`.
    """
    if "touchpoints" not in source.present:
        return []
    try:
        if "type" not in source.stored_types("touchpoints"):
            return []
        note = validate_note(type_counts(source.con))
    except duckdb.Error:
        return []
    return [note] if note else []


def booked_ahead_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on rows dated after the data's end (booked ahead), or None.

    Subscriptions starting, users or accounts created and logins set to end after the end
    of the data. `con` holds the typed contract views (`features.source.create_typed_views`):
    the contract allows such rows, and they do not move the end of the data
    (`features.horizon.data_horizon`).
    """
    from features.horizon import data_horizon

    kinds = (  # one row, several rows, where
        ("subscription row starts", "subscription rows start", "subscriptions", "start_date"),
        ("user created", "users created", "users", "created_at"),
        ("login set to end", "logins set to end", "users", "deactivated_at"),
        ("account created", "accounts created", "accounts", "created_at"),
    )
    try:
        horizon = data_horizon(con)
        found = [
            (one, many, *row)
            for one, many, table, column in kinds
            if (
                row := con.execute(
                    f"SELECT COUNT(*), MAX({column}) FROM {table} WHERE {column} > ?", [horizon]
                ).fetchone()
            )
            and row[0]
        ]
    except (duckdb.Error, ValueError):  # a note is never worth failing validation over
        return None
    if not found:
        return None
    parts = [
        f"{count:,} {many if count > 1 else one} after the end of the data"
        f" ({utc_iso(horizon)}), the last on {latest:%d %b %Y}"
        for one, many, count, latest in found
    ]
    return (
        f"Note: {'; '.join(parts)}: read as booked ahead, they do not move that end, and"
        " scores are as of it."
    )


def concurrent_terms_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on accounts with two `new`/`renewal` terms in force at once (two products).

    The contract reads the earliest-starting one as the account's term: its ARR, renewal
    date and churn label. A second product meant to be part of the account's contract is
    an `expansion` row. Two rows with the same kind, dates and ARR are more likely one term
    written twice (the fourteenth audit's re-issued invoices): the note says at how many
    accounts, with an example pair of ids. `con` holds the typed contract views.
    """
    same = (
        "a.kind = b.kind AND a.start_date = b.start_date AND a.end_date = b.end_date"
        " AND a.arr = b.arr"
    )
    try:
        found = con.execute(
            f"""
            SELECT COUNT(DISTINCT a.account_id), MIN(a.account_id),
                   COUNT(DISTINCT a.account_id) FILTER (WHERE {same}),
                   MIN([a.subscription_id, b.subscription_id]) FILTER (WHERE {same})
            FROM subscriptions a JOIN subscriptions b
              ON a.account_id = b.account_id AND a.subscription_id < b.subscription_id
             AND a.kind IN ('new', 'renewal') AND b.kind IN ('new', 'renewal')
             AND a.start_date < b.end_date AND b.start_date < a.end_date
            """
        ).fetchone()
    except duckdb.Error:  # a note is never worth failing validation over
        return None
    count, example, copies, pair = found if found else (0, None, 0, None)
    if not count:
        return None
    twice = (
        f" At {copies:,} of them two rows have the same kind, dates and ARR"
        f" (e.g. {pair[0]!r} and {pair[1]!r}): one term written twice (an invoice issued"
        " again, a row loaded twice) reads so too; if so, remove the copy."
        if copies and pair
        else ""
    )
    return (
        f"Note: {count:,} account{'s have' if count > 1 else ' has'} two or more new/renewal"
        f" terms in force at once (e.g. {example!r}): the contract reads the earliest-starting"
        " as the account's term (its ARR, renewal date and churn label). A second product that"
        " belongs to the same contract is an `expansion` row (see docs/data-contract.md)." + twice
    )


def _first_three(parts: list[str]) -> str:
    """The first three of `parts`, and how many more: "a, b, c and 4 more"."""
    more = f" and {len(parts) - 3:,} more" if len(parts) > 3 else ""
    return ", ".join(parts[:3]) + more


def note_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a note's query, or none where it fails (a note never fails validation)."""
    try:
        return con.execute(sql).fetchall()
    except duckdb.Error:
        return []


def expansions_past_term_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on `expansion` rows that end after the term in force at their start.

    The contract's expansion is co-terminous with the term it extends; one that runs on is
    read as in force past that term's end (its ARR counts in the next term too, and the next
    term counts an expansion it did not have). `con` holds the typed contract views.
    """
    rows = note_rows(
        con,
        """
        SELECT e.subscription_id, e.end_date, t.end_date
        FROM subscriptions e JOIN subscriptions t
          ON t.account_id = e.account_id AND t.kind IN ('new', 'renewal')
         AND t.start_date <= e.start_date AND e.start_date < t.end_date
        WHERE e.kind = 'expansion' AND e.end_date > t.end_date
        ORDER BY e.subscription_id
        """,
    )
    if not rows:
        return None
    shown = _first_three(
        [f"{key!r} ends {end:%d %b %Y}, its term {term:%d %b %Y}" for key, end, term in rows]
    )
    return (
        f"Note: {len(rows):,} expansion row{'s end' if len(rows) > 1 else ' ends'} after the"
        f" term in force at {'their' if len(rows) > 1 else 'its'} start ({shown}): an"
        " expansion is co-terminous with the term it extends, so such a row is read as ARR"
        " of the next term too. End it with its term, and carry the add-on into the renewal's"
        " ARR."
    )


RETURN_GAP_DAYS = 31


def renewal_after_gap_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on `renewal` rows that start over `RETURN_GAP_DAYS` after the previous term.

    A return after a gap is a `new` row in the contract; written as a renewal it counts in
    the account's renewals. `con` holds the typed contract views.
    """
    rows = note_rows(
        con,
        f"""
        WITH terms AS (
            SELECT subscription_id, account_id, kind, start_date,
                   LAG(end_date) OVER (PARTITION BY account_id
                                       ORDER BY start_date, subscription_id) AS previous_end
            FROM subscriptions WHERE kind IN ('new', 'renewal')
        )
        SELECT subscription_id, account_id, previous_end, start_date FROM terms
        WHERE kind = 'renewal' AND start_date > previous_end + INTERVAL {RETURN_GAP_DAYS} DAY
        ORDER BY account_id, start_date
        """,
    )
    if not rows:
        return None
    shown = _first_three(
        [
            f"{key!r} of {account!r} starts {start:%d %b %Y} after a term ending {end:%d %b %Y}"
            for key, account, end, start in rows
        ]
    )
    return (
        f"Note: {len(rows):,} renewal row{'s start' if len(rows) > 1 else ' starts'} more than"
        f" {RETURN_GAP_DAYS} days after the account's previous term ended ({shown}): they"
        " count as renewals. If the account left and came back, write the return as a `new`"
        " row."
    )


SMALL_RISE = 0.06  # up to this share above the term before reads like a price indexation


def price_rise_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note when most renewals are priced a little above the term before, seats unchanged.

    The contract counts any ARR rise at renewal as an upsell; where that is a yearly price
    indexation, the upsell model learns the indexation (the eleventh audit: 59% of
    snapshots positive, 92 of 95 plan lines upsell offers). Said for at least 20 renewals,
    half of them rising by at most `SMALL_RISE`. `con` holds the typed contract views.
    """
    try:
        found = con.execute(
            f"""
            WITH terms AS (
                SELECT kind, arr, seats,
                       LAG(arr) OVER w AS before_arr, LAG(seats) OVER w AS before_seats
                FROM subscriptions WHERE kind IN ('new', 'renewal')
                WINDOW w AS (PARTITION BY account_id ORDER BY start_date, subscription_id)
            )
            SELECT COUNT(*), COUNT(*) FILTER (
                WHERE arr > before_arr AND arr <= before_arr * {1 + SMALL_RISE}
                  AND (seats IS NULL OR before_seats IS NULL OR seats <= before_seats))
            FROM terms WHERE kind = 'renewal' AND before_arr > 0
            """
        ).fetchone()
    except duckdb.Error:  # a note is never worth failing validation over
        return None
    renewals, small = found if found else (0, 0)
    if renewals < 20 or small < renewals / 2:
        return None
    return (
        f"Note: {small:,} of {renewals:,} renewals ({small / renewals:.0%}) are priced up to"
        f" {SMALL_RISE:.0%} above the term before with no more seats, as a yearly price"
        " indexation would be, and each counts as an upsell (the contract's rule). If these"
        f" rises are not sales, set `upsell_min_rise: {SMALL_RISE}` in a training config"
        " (`retain train --config FILE`, after training/defaults.yaml)."
    )


STALE_TICKET_DAYS = 365


def stale_tickets_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on tickets still open more than `STALE_TICKET_DAYS` at the end of the data.

    The contract reads a null `closed_at` as open, and open tickets are support pain now:
    the driver sentences cite them ("3 urgent tickets open, the oldest for 519 days"). A
    helpdesk export that leaves abandoned tickets without a close date (a tenth of the
    simulator's, found by the scale audit) makes that pain look permanent. `con` holds the
    typed contract views; without a tickets table there is nothing to say.
    """
    from features.horizon import data_horizon

    try:
        horizon = data_horizon(con)
        found = con.execute(
            """
            SELECT COUNT(*) FILTER (WHERE closed_at IS NULL AND opened_at < ?),
                   COUNT(*),
                   COUNT(DISTINCT account_id) FILTER (WHERE closed_at IS NULL AND opened_at < ?),
                   MIN(opened_at) FILTER (WHERE closed_at IS NULL)
            FROM tickets WHERE opened_at <= ?
            """,
            [horizon - timedelta(days=STALE_TICKET_DAYS)] * 2 + [horizon],
        ).fetchone()
    except (duckdb.Error, ValueError):  # no tickets table, or a note not worth failing over
        return None
    stale, total, accounts, oldest = found if found else (0, 0, 0, None)
    if not stale:
        return None
    return (
        f"Note: {stale:,} of {total:,} tickets ({stale / total:.0%}, at {accounts:,} accounts)"
        f" have no closed_at and were opened more than {STALE_TICKET_DAYS} days before the end"
        f" of the data (the oldest on {oldest:%d %b %Y}). The contract reads them as open, so"
        " the support signals and the drivers count them as pain today; if the helpdesk"
        " closed or abandoned them, give them their closed_at."
    )


def lapsed_terms_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on accounts whose latest term ended by the end of the data with no outcome.

    The contract reads a null `outcome` as a term still open, but an account is scored and
    planned only while a term is in force, so one whose last term's `end_date` has passed
    with nothing recorded drops out of scores and plans. A CRM that books the decision late
    does that (the seventh audit: 6 of 90 accounts, most likely renewals in negotiation, left
    out with no word). `con` holds the typed contract views.
    """
    from features.horizon import data_horizon

    try:
        horizon = data_horizon(con)
        rows = con.execute(
            """
            WITH terms AS (
                SELECT account_id, end_date, outcome FROM subscriptions
                WHERE kind IN ('new', 'renewal')
            ), latest AS (
                SELECT account_id, MAX(end_date) AS end_date FROM terms GROUP BY account_id
            )
            SELECT DISTINCT t.account_id, t.end_date
            FROM terms t JOIN latest l USING (account_id, end_date)
            WHERE t.outcome IS NULL AND t.end_date <= ?
            ORDER BY t.end_date, t.account_id
            """,
            [horizon],
        ).fetchall()
    except (duckdb.Error, ValueError):  # a note is never worth failing validation over
        return None
    if not rows:
        return None
    shown = _first_three([f"'{account}' ended {end:%d %b %Y}" for account, end in rows])
    accounts = "account's" if len(rows) == 1 else "accounts'"
    return (
        f"Note: {len(rows):,} {accounts} latest term ended by the end of the data"
        f" ({utc_iso(horizon)}) with no outcome recorded ({shown}). With no term in"
        " force they are not scored or planned; record the outcome, or the renewal row if it"
        " is signed or still in negotiation."
    )
