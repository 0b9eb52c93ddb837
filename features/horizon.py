"""The end of the data: the latest moment the source has seen anything happen.

Training's default `as_of`, serving's latest snapshot and which labels are known all
read it (`data_horizon`). Activity (events, tickets opened or closed, surveys,
touchpoints, milestones achieved, reported outcomes) sets it; contract dates count only
up to the midnight after the latest activity.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

if TYPE_CHECKING:
    from features.engines.spark import SparkConnection

# Everything that records something *happening*. Contract dates (subscription starts, the
# end of a term whose outcome is recorded) and the dates users and accounts are created or
# users deactivated count only up to the midnight that ends the latest other observation's
# day: a renewal booked weeks ahead, a login provisioned for next month's starter or
# scheduled to end, is a promise, and taking it for "now" would score every account on empty
# usage windows (and leave out every account whose term ends before it). A term starting at
# that midnight (an export taken at midnight, a renewal dated the next day) still counts.
_OBSERVED = """
SELECT MAX(seen) AS seen FROM (
    SELECT MAX(ts) AS seen FROM events
    UNION ALL SELECT MAX(opened_at) FROM tickets
    UNION ALL SELECT MAX(closed_at) FROM tickets
    UNION ALL SELECT MAX(ts) FROM surveys
    UNION ALL SELECT MAX(ts) FROM touchpoints
    UNION ALL SELECT MAX(achieved_at) FROM milestones
    UNION ALL SELECT MAX(CAST(period_end AS TIMESTAMP)) FROM outcomes WHERE actual IS NOT NULL
) observed_at
"""
_CONTRACT = """
SELECT CAST(start_date AS TIMESTAMP) AS seen FROM subscriptions
UNION ALL SELECT CAST(end_date AS TIMESTAMP) FROM subscriptions WHERE outcome IS NOT NULL
UNION ALL SELECT deactivated_at FROM users WHERE deactivated_at IS NOT NULL
UNION ALL SELECT created_at FROM users
UNION ALL SELECT created_at FROM accounts
"""
_HORIZON = f"""
WITH observed AS ({_OBSERVED}), contract AS ({_CONTRACT})
SELECT CASE WHEN o.seen IS NULL THEN (SELECT MAX(seen) FROM contract)
            ELSE GREATEST(o.seen, COALESCE(MAX(c.seen), o.seen)) END
FROM observed o
LEFT JOIN contract c
    ON c.seen <= CAST(CAST(o.seen AS DATE) AS TIMESTAMP) + INTERVAL '1' DAY
GROUP BY o.seen
"""


def latest_activity(con: duckdb.DuckDBPyConnection | SparkConnection) -> datetime | None:
    """The latest activity alone: `data_horizon` without the contract dates (None: none).

    Events, tickets, surveys, touchpoints, milestones and reported outcomes. A touchpoint
    recorded elsewhere counts only up to it (`features.source`), so counting one never
    moves the horizon: it raises neither this time nor the midnight after it, up to which
    the contract dates count.
    """
    found = con.execute(_OBSERVED).df()
    latest = pd.to_datetime(found.iloc[:, 0]).dropna()
    return None if latest.empty else pd.Timestamp(latest.iloc[0]).ceil("us").to_pydatetime()


def data_horizon(con: duckdb.DuckDBPyConnection | SparkConnection) -> datetime:
    """The data's horizon: the latest timestamp the source has seen happen.

    The maximum over event, ticket (opened or closed), survey, touchpoint, milestone
    achievement and reported outcome period end (a row without an `actual`, such as next
    quarter's target planned ahead, reports nothing); and over subscription start times,
    the end date of every term whose outcome is recorded, user and account creation times
    and user deactivations, these only up to the midnight that ends the day of the latest
    of the others (a renewal booked ahead, a login provisioned ahead or set to end, are
    promises).
    Contract end dates of still-open terms never count.

    Rounded up to the microsecond: a Parquet source may hold nanoseconds, and the
    latest event must not fall after the horizon it sets.
    """
    found = con.execute(_HORIZON).df()  # a frame keeps nanoseconds; fetchall would cut them
    latest = pd.to_datetime(found.iloc[:, 0]).dropna()
    if latest.empty:
        raise ValueError("the source holds no dated rows: no horizon")
    return pd.Timestamp(latest.iloc[0]).ceil("us").to_pydatetime()
