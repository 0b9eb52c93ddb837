"""`retain validate`'s notes on what a data pipeline's faults leave (the fourteenth audit's).

A warehouse export can follow the contract and still carry a loader's faults that change
the figures with no word:

* a batch of events loaded twice: the contract has no key on events, so the copies count
  as use (one replayed day raised the median account's events of the last 7 days by 13%,
  at 458 of 527 accounts; `duplicate_events_note`);
* a batch of touchpoints loaded again under new ids: every copy counts as an action the
  CS team took (`duplicate_touchpoints_note`; the same id twice is a duplicated key, a
  problem);
* a file of an `events/` directory exported without an optional column: its rows read
  as null there (`missing_columns_note`);
* events dated before their account's `created_at` count as its use
  (`events_before_signup_note`);
* a term at ARR 0 (a free term, or a missing amount written as 0): no ARR at risk, and
  the renewal after it an upsell at any price (`zero_arr_terms_note`);
* a term that ended long ago with no outcome while a later term follows it: the contract
  reads the null as "still open", so its churn label stays unknown and its snapshots are
  never trained on (`unsettled_terms_note`; the account's latest term is
  `features.validate.lapsed_terms_note`'s).

Each is DuckDB SQL on the typed contract views (`features.source.create_typed_views`).
Nothing is dropped: what the rows mean is the data owner's to say. A note is never worth
failing validation over: an error reads as no note.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from features.contract import TABLES
from features.validate import _first_three, note_rows

if TYPE_CHECKING:
    from features.source import Source

__all__ = [
    "duplicate_events_note",
    "events_before_signup_note",
    "duplicate_touchpoints_note",
    "missing_columns_note",
    "unsettled_terms_note",
    "zero_arr_terms_note",
]

EVENT_COLUMNS = ("ts", "account_id", "user_id", "module", "feature", "event_type", "duration_s")
TOUCHPOINT_CONTENT = ("account_id", "ts", "type", "owner", "notes")


def _days(rows: list[tuple]) -> str:
    """Each day's copies, the most first: `10 Jun 2025 (3,412 of 6,824 events)`."""
    return _first_three(
        [f"{day:%d %b %Y} ({copies:,} of {total:,} events)" for day, copies, total in rows]
    )


def duplicate_events_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on events that are exact copies of another event (a batch loaded twice).

    Rows equal in every contract column (time, account, user, module, feature, type and
    duration), counted beyond the first of each, and the days with the most copies: a
    replayed day shows about half its rows as copies. Rows are grouped by day and a 64-bit
    hash of their columns, not by the columns themselves: on the audit's 1.9M events
    validate's peak memory went from 265 MB to 355 MB, against 600 MB grouped by the
    columns (two different events share a hash with a chance of about 1e-5 at 20M events).
    """
    columns = ", ".join(EVENT_COLUMNS)
    rows = note_rows(
        con,
        f"""
        WITH grouped AS (
            SELECT CAST(ts AS DATE) AS day, COUNT(*) AS n FROM events
            GROUP BY CAST(ts AS DATE), hash({columns})
        )
        SELECT day, SUM(n - 1) AS copies, SUM(n) AS total FROM grouped
        GROUP BY day HAVING SUM(n) > COUNT(*) ORDER BY copies DESC, day
        """,
    )
    if not rows:
        return None
    copies = sum(int(n) for _, n, _ in rows)
    one = copies == 1
    return (
        f"Note: {copies:,} event{' is an exact copy' if one else 's are exact copies'} of"
        " another (the same time, account, user, module, feature, type and duration), on"
        f" {len(rows):,} day{'' if len(rows) == 1 else 's'}: {_days(rows)}. The contract has"
        " no key on events, so every copy counts as use (events, usage hours, value steps);"
        " a batch loaded twice looks like this. If they are replays, remove the copies from"
        " the export; nothing is dropped here."
    )


def duplicate_touchpoints_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on touchpoints equal in everything but their id (a batch loaded again).

    Same account, time, type, owner and notes under another `touchpoint_id`: each copy
    counts as an action the CS team took, in the touchpoint features and in what the
    actions are learned to do. The same id twice is a duplicated key, a problem of its own,
    and not counted here.
    """
    group = ", ".join(TOUCHPOINT_CONTENT)
    groups = note_rows(
        con,
        f"""
        SELECT LIST(DISTINCT touchpoint_id ORDER BY touchpoint_id), account_id
        FROM touchpoints WHERE touchpoint_id IS NOT NULL
        GROUP BY {group} HAVING COUNT(DISTINCT touchpoint_id) > 1 ORDER BY MIN(touchpoint_id)
        """,
    )
    rows = [(copy, keys[0], account) for keys, account in groups for copy in keys[1:]]
    if not rows:
        return None
    accounts = len({account for _, _, account in rows})
    shown = _first_three([f"{first!r} and {copy!r}" for copy, first, _ in rows])
    many = len(rows) > 1
    return (
        f"Note: {len(rows):,} touchpoint{'s repeat' if many else ' repeats'} another's account,"
        f" time, type, owner and notes under a new touchpoint_id ({shown}; at {accounts:,}"
        f" account{'s' if accounts > 1 else ''}). Each counts as an action the CS team took,"
        " in the touchpoint features and in what the actions are learned to do; a batch"
        " loaded again under new ids looks like this. If they are copies, remove them from"
        " the export; nothing is dropped here."
    )


def unsettled_terms_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on terms with no outcome that ended before a later term of the account began.

    The contract reads a null `outcome` as a term still open, so the churn label of every
    snapshot in the term stays unknown and training leaves those snapshots out. A later
    `new` or `renewal` row says the account went on (renewed, or came back), which the
    export did not record.
    """
    rows = note_rows(
        con,
        """
        SELECT t.subscription_id, t.account_id, t.end_date
        FROM subscriptions t
        WHERE t.kind IN ('new', 'renewal') AND t.outcome IS NULL
          AND EXISTS (
              SELECT 1 FROM subscriptions n
              WHERE n.account_id = t.account_id AND n.kind IN ('new', 'renewal')
                AND n.subscription_id <> t.subscription_id AND n.start_date >= t.end_date)
        ORDER BY t.end_date, t.subscription_id
        """,
    )
    if not rows:
        return None
    shown = _first_three(
        [f"{key!r} of {account!r} ended {end:%d %b %Y}" for key, account, end in rows]
    )
    many = len(rows) > 1
    return (
        f"Note: {len(rows):,} new/renewal term{'s have' if many else ' has'} no outcome though"
        f" {'they' if many else 'it'} ended before a later term of the account began ({shown})."
        " The contract reads a null outcome as a term still open, so the churn label of the"
        f" snapshots in {'them' if many else 'it'} is unknown and training leaves them out;"
        " record `renewed` (or `churned`, if the account left and came back)."
    )


def missing_columns_note(source: Source) -> str | None:
    """A note on files of an `events/` directory without a contract column the others have.

    The files are read together, by column name, so a file exported without an optional
    column reads as null there (a column the contract requires is refused by the null
    check, row by row). The fourteenth audit's month without `feature` read every
    account's functions used in its last 30 days as 0 (before nulls stopped counting as a
    function, as 4 more per account).
    """
    where = Path(source.locations.get("events", ""))
    if not where.is_dir():
        return None
    glob = str(where / "*.parquet").replace("'", "''")
    names = ", ".join(f"'{column}'" for column in TABLES["events"].column_names)
    rows = note_rows(
        source.con,
        f"""
        WITH files AS (
            SELECT file_name, num_rows FROM parquet_file_metadata('{glob}')
        ), present AS (
            SELECT DISTINCT file_name, name FROM parquet_schema('{glob}') WHERE name IN ({names})
        ), wanted AS (SELECT DISTINCT name FROM present)
        SELECT w.name, f.file_name, f.num_rows, (SELECT COUNT(*) FROM files) AS total
        FROM wanted w CROSS JOIN files f
        WHERE NOT EXISTS (
            SELECT 1 FROM present p WHERE p.file_name = f.file_name AND p.name = w.name)
        ORDER BY w.name, f.file_name
        """,
    )
    if not rows:
        return None
    parts = []
    total = rows[0][3]
    for column in dict.fromkeys(name for name, *_ in rows):
        files = [(Path(file).name, n) for name, file, n, _ in rows if name == column]
        shown = _first_three([f"{name}, {n:,} rows" for name, n in files])
        parts.append(f"`{column}` is missing from {len(files):,} of its {total:,} files ({shown})")
    return (
        f"Note: in {where.name}/, {'; '.join(parts)}. The files are read together by column"
        " name, so their rows read as null there: counts over that column (functions used,"
        " usage hours, a user's events) fall for the dates those files hold. Export the"
        " column in every file."
    )


def events_before_signup_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on events dated before their account's `created_at`.

    The contract's `created_at` is when the account became a paying customer; events
    before it (trial use, a sign-up date set late, another account's events) count as the
    account's use from their own dates, in its usage windows once it is scored.
    """
    rows = note_rows(
        con,
        """
        SELECT e.account_id, COUNT(*) AS n, MIN(e.ts) AS first, MIN(a.created_at) AS created
        FROM events e JOIN accounts a ON a.account_id = e.account_id
        WHERE e.ts < a.created_at
        GROUP BY e.account_id ORDER BY n DESC, e.account_id
        """,
    )
    if not rows:
        return None
    events = sum(int(n) for _, n, _, _ in rows)
    shown = "; ".join(
        f"{account!r}: {n:,} from {first:%d %b %Y}, created {created:%d %b %Y}"
        for account, n, first, created in rows[:3]
    ) + (f"; and {len(rows) - 3:,} more" if len(rows) > 3 else "")
    return (
        f"Note: {events:,} event{'s are' if events > 1 else ' is'} dated before their"
        f" account's created_at, at {len(rows):,} account{'s' if len(rows) > 1 else ''}"
        f" ({shown}). They count as the account's use from their own dates (trial use reads"
        " so); if created_at is later than the account's start, or the events are another"
        " account's, fix the export."
    )


def zero_arr_terms_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on `new`/`renewal` terms with ARR 0.

    The contract allows them (`arr >= 0`: a free term), and they read so: no ARR at risk,
    no action pays, and a renewal after one at any price counts as an upsell. A loader
    that writes a missing amount as 0 leaves the same rows.
    """
    rows = note_rows(
        con,
        """
        SELECT subscription_id, account_id, start_date FROM subscriptions
        WHERE kind IN ('new', 'renewal') AND arr = 0
        ORDER BY start_date, subscription_id
        """,
    )
    if not rows:
        return None
    shown = _first_three(
        [f"{key!r} of {account!r} from {start:%d %b %Y}" for key, account, start in rows]
    )
    many = len(rows) > 1
    return (
        f"Note: {len(rows):,} new/renewal term{'s have' if many else ' has'} ARR 0 ({shown})."
        " The contract allows it (a free term), and it reads so: no ARR at risk, no action"
        " pays, and a renewal after it at any price counts as an upsell. If a missing amount"
        " was written as 0, fix the export."
    )
