"""The end of the data: the latest moment the source has seen anything happen.

Training's default `as_of`, serving's latest snapshot and which labels are known all
read it (`data_horizon`). Activity (events, tickets opened or closed, surveys,
touchpoints, milestones achieved, reported outcomes) sets it; contract dates count only
up to the midnight after the latest activity.

Product usage (`events`) is the anchor. Real exports come from several systems taken at
different moments, and a help desk exported a week after the product analytics, or an
exporter's clock, leaves one table's dates days past every event: taken for "now", that
date would show every account days without use. So an activity column whose latest date
runs more than `LATE_AFTER_DAYS` past the latest event is *late*: it does not set the
end, `late_activity_warning` says so, and its rows are kept (as of a date before them,
they have not happened yet). Only events anchor, not any table: a sparse table (a few
surveys a quarter, a small help desk) naturally ends days or weeks before the usage does,
and must not pull the end back. A source without events takes its end from the rest.

The events themselves can run past their own end: a device or collector with a wrong
clock stamps a handful of events hours or days after the export was taken (the
fourteenth audit: 25 events up to four days past the last day, which moved the end four
days, read every account's last days as unused and dropped ten accounts whose terms ended
in those days). So the anchor is the end of the *steady* stream of events: the latest
event on a day holding at least `STRAY_SHARE` of a usual day's events (the mean of the
latest `USUAL_DAYS` days with events), prorated to the part of the day up to its last
event, so that an export taken at 00:30 keeps its half hour. Later events are *stray*:
`late_activity_warning` names them, and they are kept like late rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import duckdb
import pandas as pd

from features.times import utc_iso

if TYPE_CHECKING:
    from features.engines.spark import SparkConnection

    Connection: TypeAlias = duckdb.DuckDBPyConnection | SparkConnection

# Two days: exports of one source taken the same day or the next morning, or stamped in a
# local time read as UTC, stay within it; a table exported a week later does not.
LATE_AFTER_DAYS = 2
ANCHOR = ("events", "ts")
# A day with fewer events than this share of a usual day's (prorated to the hours up to its
# last event) that comes after every fuller day is stray. At 1%, a week-end day of a company
# with little week-end use is still steady, and so is any day of a company with fewer than
# 100 events a day (one event at noon is stray only above 200 a day).
STRAY_SHARE = 0.01
USUAL_DAYS = 28

_STEADY_END = f"""
SELECT MAX(d.last) FROM (
    SELECT CAST(ts AS DATE) AS day, COUNT(*) AS n, MAX(ts) AS last
    FROM events GROUP BY CAST(ts AS DATE)
) d CROSS JOIN (
    SELECT AVG(n) AS n FROM (
        SELECT COUNT(*) AS n FROM events GROUP BY CAST(ts AS DATE)
        ORDER BY CAST(ts AS DATE) DESC LIMIT {USUAL_DAYS}
    ) recent
) usual
WHERE d.n >= {STRAY_SHARE} * usual.n
             * (HOUR(d.last) * 3600 + MINUTE(d.last) * 60 + SECOND(d.last)) / 86400
"""

# Everything that records something *happening*: (table, column, its moment, which rows).
# A reported outcome happened at its period end; a row without an `actual` (next quarter's
# target planned ahead) reports nothing.
ACTIVITY = (
    ("events", "ts", "ts", f"ts <= ({_STEADY_END})"),
    ("tickets", "opened_at", "opened_at", None),
    ("tickets", "closed_at", "closed_at", None),
    ("surveys", "ts", "ts", None),
    ("touchpoints", "ts", "ts", None),
    ("milestones", "achieved_at", "achieved_at", None),
    ("outcomes", "period_end", "CAST(period_end AS TIMESTAMP)", "actual IS NOT NULL"),
)


def _latest_sql(steady: bool) -> str:
    """The latest moment of each activity column; `steady`: events' stray tail left out."""
    return "\nUNION ALL ".join(
        f"SELECT '{table}' AS activity_table, '{column}' AS activity_column,"
        f" MAX({moment}) AS seen FROM {table}"
        f"{f' WHERE {rows}' if rows and (steady or table != ANCHOR[0]) else ''}"
        for table, column, moment, rows in ACTIVITY
    )


_LATEST = _latest_sql(steady=True)
_ON_TIME = f"""
WITH latest AS ({_LATEST}),
anchor AS (
    SELECT MAX(seen) AS seen FROM latest
    WHERE activity_table = '{ANCHOR[0]}' AND activity_column = '{ANCHOR[1]}'
)
SELECT l.activity_table, l.activity_column, l.seen,
       a.seen IS NULL OR l.seen <= a.seen + INTERVAL '{LATE_AFTER_DAYS}' DAY AS on_time
FROM latest l CROSS JOIN anchor a
"""
_OBSERVED = f"SELECT MAX(seen) AS seen FROM ({_ON_TIME}) activity WHERE on_time"
_OBSERVED_ALL = f"SELECT MAX(seen) AS seen FROM ({_latest_sql(steady=False)}) activity"

# Contract dates (subscription starts, the end of a term whose outcome is recorded) and the
# dates users and accounts are created or users deactivated count only up to the midnight
# that ends the latest activity's day: a renewal booked weeks ahead, a login provisioned for
# next month's starter or scheduled to end, is a promise, and taking it for "now" would
# score every account on empty usage windows (and leave out every account whose term ends
# before it). A term starting at that midnight (an export taken at midnight, a renewal dated
# the next day) still counts.
_CONTRACT = """
SELECT CAST(start_date AS TIMESTAMP) AS seen FROM subscriptions
UNION ALL SELECT CAST(end_date AS TIMESTAMP) FROM subscriptions WHERE outcome IS NOT NULL
UNION ALL SELECT deactivated_at FROM users WHERE deactivated_at IS NOT NULL
UNION ALL SELECT created_at FROM users
UNION ALL SELECT created_at FROM accounts
"""


def _horizon_sql(observed: str) -> str:
    """The horizon given the SQL of the latest activity (one row, column `seen`)."""
    return f"""
WITH observed AS ({observed}), contract AS ({_CONTRACT})
SELECT CASE WHEN o.seen IS NULL THEN (SELECT MAX(seen) FROM contract)
            ELSE GREATEST(o.seen, COALESCE(MAX(c.seen), o.seen)) END
FROM observed o
LEFT JOIN contract c
    ON c.seen <= CAST(CAST(o.seen AS DATE) AS TIMESTAMP) + INTERVAL '1' DAY
GROUP BY o.seen
"""


def _moment(con: Connection, sql: str) -> datetime | None:
    """The one time `sql` finds, rounded up to the microsecond (None: none)."""
    found = con.execute(sql).df()  # a frame keeps nanoseconds; fetchall would cut them
    latest = pd.to_datetime(found.iloc[:, 0]).dropna()
    return None if latest.empty else pd.Timestamp(latest.iloc[0]).ceil("us").to_pydatetime()


def latest_activity(con: Connection) -> datetime | None:
    """The latest activity alone: `data_horizon` without the contract dates (None: none).

    Events, tickets, surveys, touchpoints, milestones and reported outcomes; late ones
    (`late_activity`) left out. A touchpoint recorded elsewhere counts only up to it
    (`features.source`), so counting one never moves the horizon: it raises neither this
    time nor the midnight after it, up to which the contract dates count.
    """
    return _moment(con, _OBSERVED)


def data_horizon(con: Connection) -> datetime:
    """The data's horizon: the latest timestamp the source has seen happen.

    The maximum over event, ticket (opened or closed), survey, touchpoint, milestone
    achievement and reported outcome period end (a row without an `actual`, such as next
    quarter's target planned ahead, reports nothing), leaving out a late column (one
    whose latest date runs more than `LATE_AFTER_DAYS` past the latest event); and over
    subscription start times, the end date of every term whose outcome is recorded, user
    and account creation times and user deactivations, these only up to the midnight that
    ends the day of the latest of the others (a renewal booked ahead, a login provisioned
    ahead or set to end, are promises).
    Contract end dates of still-open terms never count.

    Rounded up to the microsecond: a Parquet source may hold nanoseconds, and the
    latest event must not fall after the horizon it sets.
    """
    horizon = _moment(con, _horizon_sql(_OBSERVED))
    if horizon is None:
        raise ValueError("the source holds no dated rows: no horizon")
    return horizon


def latest_data(con: Connection) -> datetime:
    """The horizon as if no column were late: the latest `as_of` a command accepts.

    The data is read as ending at `data_horizon`; a user who reads a late table as the
    true end may still choose a date up to it (`--as-of`).
    """
    latest = _moment(con, _horizon_sql(_OBSERVED_ALL))
    if latest is None:
        raise ValueError("the source holds no dated rows: no horizon")
    return latest


@dataclass(frozen=True)
class LateActivity:
    """An activity column running past the latest event; its rows are kept."""

    table: str
    column: str
    rows: int  # rows after the latest activity of the rest
    last: datetime


def late_activity(con: Connection) -> tuple[list[LateActivity], datetime | None, str]:
    """The late activity columns, the latest activity of the rest, and where that is.

    Returns:
        ([] when none is late), `latest_activity`, and its `table.column`.
    """
    found = con.execute(_ON_TIME).df()
    found = found[found["seen"].notna()]
    on_time = found["on_time"].astype(bool)
    if on_time.all():
        return [], None, ""
    rest = found[on_time].sort_values("seen", ascending=False).iloc[0]
    rest_end = pd.Timestamp(rest["seen"]).ceil("us").to_pydatetime()
    edge = f"TIMESTAMP '{rest_end.isoformat(sep=' ')}'"
    moments = {(table, column): (moment, rows) for table, column, moment, rows in ACTIVITY}
    late = []
    for table, column in found.loc[~on_time, ["activity_table", "activity_column"]].to_numpy():
        moment, rows = moments[(table, column)]
        where = f"{moment} > {edge}" + (f" AND {rows}" if rows else "")
        sql = f"SELECT COUNT(*), MAX({moment}) FROM {table} WHERE {where}"
        count, last = con.execute(sql).fetchall()[0]
        late.append(LateActivity(table, column, int(count), pd.Timestamp(last).to_pydatetime()))
    return late, rest_end, f"{rest['activity_table']}.{rest['activity_column']}"


def stray_events(con: Connection) -> tuple[LateActivity | None, datetime | None]:
    """Events after the end of their steady stream (a wrong clock's), and that end.

    Returns:
        (None when there are none, with that end or None without events).
    """
    steady = _moment(con, _STEADY_END)
    if steady is None:
        return None, None
    edge = f"TIMESTAMP '{steady.isoformat(sep=' ')}'"
    count, last = con.execute(f"SELECT COUNT(*), MAX(ts) FROM events WHERE ts > {edge}").fetchall()[
        0
    ]
    if not count:
        return None, steady
    return LateActivity("events", "ts", int(count), pd.Timestamp(last).to_pydatetime()), steady


def late_activity_warning(
    con: Connection, remedy: str | None = "pass --as-of to choose another date"
) -> str | None:
    """One warning naming stray events, each late column and the end the data is read as.

    None when there is nothing to say. `remedy` ends it (None: nothing to pass, as for the
    service, whose requests cannot ask for a time past the end it reads).
    """
    late, rest_end, where = late_activity(con)
    stray, steady = stray_events(con)
    if stray is None and (not late or rest_end is None):
        return None
    parts = []
    if stray is not None and steady is not None:
        parts.append(
            f"events.ts has {_rows(stray.rows)} after {utc_iso(steady)}, the end of the steady"
            f" stream of events, up to {stray.last:%d %b %Y}, on days holding under"
            f" {STRAY_SHARE:.0%} of a usual day's events"
        )
    if late and rest_end is not None:
        first, *others = late
        parts += [
            f"{first.table}.{first.column} has {_rows(first.rows)} after {utc_iso(rest_end)},"
            f" the latest activity elsewhere ({where}), up to {first.last:%d %b %Y}",
            *(
                f"{found.table}.{found.column} {_rows(found.rows)} after it, up to"
                f" {found.last:%d %b %Y}"
                for found in others
            ),
        ]
    why = (
        f"More than {LATE_AFTER_DAYS} days past the latest event, these dates read as an"
        " artefact of the export (an exporter's clock, a table exported later)"
        if stray is None
        else "These dates read as an artefact of the export (a device's or exporter's wrong"
        " clock, a table exported later)"
    )
    booked = any(found.table == "touchpoints" for found in late)
    return (
        f"Warning: {'; '.join(parts)}. {why} and do not set the end of the data: it is read as"
        f" {utc_iso(data_horizon(con))}. The rows are kept, each counting from its own"
        f" date on{f'; {remedy}' if remedy else ''}.{BOOKED if booked else ''}"
    )


# Touchpoints dated ahead are most often meetings booked in the CRM (the eighteenth audit).
BOOKED = (
    " Touchpoints dated ahead are most often meetings booked in the CRM: each is read as"
    " held on its date, by the features, the plan's contact gap and what the actions are"
    " learned to do; one that is cancelled or never held still counts then. Export the"
    " meetings held (or remove a cancelled one) rather than those booked."
)


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"
