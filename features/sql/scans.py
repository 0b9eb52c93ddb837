"""Per-snapshot scans of the events: the relations sources build on.

Each relation is a `UNION ALL` with one filtered aggregate per snapshot time T
(or one pass with one aggregate per T): DuckDB pushes each T's time range into
the scan of the events and groups into small per-T hash tables, which is much
faster than a range join of all events with the snapshot grid followed by one
large `GROUP BY ... as_of`. Every relation sees only events with ts <= T.

Relations (all keyed by `account_id`, `as_of`):

* window_events: every event in the usage window (T - 90 days, T], with its
  fractional `age` in days.
* user_windows: per user active in that window: `last_ts` (latest event),
  `events_7_14d`, `events_30_60d`, `events_30d`.
* module_windows: per module and function used in that window: `feature_key`
  (null for events without a `feature`: an unnamed function is no function used, and a
  file exported without the column must not add one per module), `age_days` (whole days
  since last used).
* last_seen: per user with any event up to T (all time), and per account its events
  without a user: `last_ts`.
* account_days: per account and calendar day (not keyed by T): `day`,
  `first_ts`, `last_ts`, for the days that can touch a usage window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

USAGE_WINDOW_DAYS = 90  # longest window any usage feature looks back


def days_between(earlier: str, later: str) -> str:
    """SQL for the days (fractional) from `earlier` to `later`."""
    return (
        f"(date_diff('microsecond', CAST({earlier} AS TIMESTAMP), CAST({later} AS TIMESTAMP))"
        " / 86400e6)"
    )


def _literals(as_of: Sequence[datetime]) -> list[str]:
    return [f"TIMESTAMP '{t.isoformat(sep=' ')}'" for t in sorted(set(as_of))]


def _in_window(t: str) -> str:
    return f"ts <= {t} AND ts > {t} - INTERVAL '{USAGE_WINDOW_DAYS}' DAY"


def _before(days: int) -> str:
    """SQL for the time `days` days before T (`{t}`)."""
    return f"{{t}} - INTERVAL '{days}' DAY"


def _aged(start: int, stop: int) -> str:
    """Condition: an event's age before T is in [start, stop) days.

    Compares times, not computed ages (the same test: an age is a whole number of
    microseconds over a day's, so `age >= 7` holds exactly when `ts <= T - 7 days`),
    which spares a division per event.
    """
    return f"ts <= {_before(start)} AND ts > {_before(stop)}"


def _per_snapshot(template: str, as_of: Sequence[datetime]) -> str:
    """`template` (with `{t}` for the T literal) once per T, as one `UNION ALL`."""
    return "\nUNION ALL\n".join(template.format(t=t) for t in _literals(as_of))


def window_events_sql(as_of: Sequence[datetime]) -> str:
    """Events in the usage window of each T, each with its age (days) before T."""
    return _per_snapshot(
        "SELECT account_id, {t} AS as_of, user_id, module, feature, event_type, duration_s, "
        + days_between("ts", "{t}")
        + " AS age FROM events WHERE "
        + _in_window("{t}"),
        as_of,
    )


def user_windows_sql(as_of: Sequence[datetime]) -> str:
    """Per user active in the usage window of each T: latest event and window counts."""
    return _per_snapshot(
        "SELECT account_id, {t} AS as_of, user_id, MAX(ts) AS last_ts, "
        f"SUM(CASE WHEN {_aged(7, 14)} THEN 1 ELSE 0 END) AS events_7_14d, "
        f"SUM(CASE WHEN {_aged(30, 60)} THEN 1 ELSE 0 END) AS events_30_60d, "
        f"SUM(CASE WHEN ts > {_before(30)} THEN 1 ELSE 0 END) AS events_30d "
        f"FROM events WHERE user_id IS NOT NULL AND {_in_window('{t}')} "
        "GROUP BY account_id, user_id",
        as_of,
    )


def module_windows_sql(as_of: Sequence[datetime]) -> str:
    """Per module and function used in the usage window of each T: days since last use."""
    return _per_snapshot(
        "SELECT account_id, {t} AS as_of, module, module || '/' || feature "
        f"AS feature_key, FLOOR({days_between('MAX(ts)', '{t}')}) AS age_days "
        f"FROM events WHERE {_in_window('{t}')} GROUP BY account_id, module, feature",
        as_of,
    )


def last_seen_sql(as_of: Sequence[datetime]) -> str:
    """Per user and T, the latest event up to T (all time), in one pass over the events.

    Events without a user (the contract allows them) form one more row per account, with
    `user_id` null: they count as the account's use, never as a key user's.

    One column of latest times per T, then one row per T picked from them (portable
    SQL: no list or `UNNEST`, which Spark allows only once per SELECT).
    """
    stamps = _literals(as_of)
    latest = ", ".join(
        f"MAX(CASE WHEN ts <= {t} THEN ts END) AS last_{i}" for i, t in enumerate(stamps)
    )
    pick = " ".join(f"WHEN n.as_of = {t} THEN u.last_{i}" for i, t in enumerate(stamps))
    return (
        "SELECT account_id, user_id, as_of, last_ts FROM ("
        f"SELECT u.account_id, u.user_id, n.as_of, CASE {pick} END AS last_ts FROM ("
        f"SELECT account_id, user_id, {latest} FROM events "
        f"WHERE ts <= {stamps[-1]} "
        "GROUP BY account_id, user_id) u CROSS JOIN snapshots n) seen "
        "WHERE last_ts IS NOT NULL"
    )


def account_days_sql(as_of: Sequence[datetime]) -> str:
    """Per account and calendar day: first and last event, for days that can touch a window.

    Only events in (earliest T - 90 days, latest T] are read; a day is whole within
    that range except at its edges, where sources only ask whether it holds an
    event inside a window (see `ACTIVE_DAYS`).
    """
    stamps = _literals(as_of)
    return (
        "SELECT account_id, CAST(ts AS DATE) AS day, MIN(ts) AS first_ts, MAX(ts) AS last_ts "
        f"FROM events WHERE ts <= {stamps[-1]} "
        f"AND ts > {stamps[0]} - INTERVAL '{USAGE_WINDOW_DAYS}' DAY "
        "GROUP BY account_id, CAST(ts AS DATE)"
    )


def scans_sql(as_of: Sequence[datetime]) -> dict[str, str]:
    """Relation name -> SQL of every per-snapshot scan, for the `WITH` clause."""
    return {
        "window_events": window_events_sql(as_of),
        "user_windows": user_windows_sql(as_of),
        "module_windows": module_windows_sql(as_of),
        "last_seen": last_seen_sql(as_of),
        "account_days": account_days_sql(as_of),
    }
