"""Churn and upsell labels as the data contract's Labels section defines them.

Labels look *after* T; features look at or before T. Whether a label is known
depends on the data's horizon (`features.horizon.data_horizon`): the latest
moment the source has seen anything happen.

* churn: the account's next renewal is its current term (the earliest `new` or
  `renewal` term with start_date <= T < end_date): 1.0 when that term's outcome
  is `churned`, 0.0 when `renewed`, NaN while the outcome is null or the
  renewal date lies beyond the horizon.
* upsell: 1.0 when an `expansion` starts in (T, T + 180 days], or a `renewal`
  starting in that window grew: its `arr` (or its `seats`) is higher than both
  the term it replaces plus that term's expansions and what was in force 180
  days before it (term plus expansions then); 0.0 otherwise once T + 180 days
  <= horizon; else NaN. The second comparison makes monthly terms count real
  growth, not a seat that comes back the month after it was dropped; for terms
  of 180 days or more it adds nothing. With `min_rise` (training config
  `upsell_min_rise`), a renewal's ARR must rise by more than that share over both:
  a price indexation of a few percent is then no upsell (seats still count).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from features.compute import as_timestamps
from features.horizon import data_horizon
from features.sql.spine import SPINE, TERM_KINDS, snapshots_sql

if TYPE_CHECKING:
    from features.engines.spark import SparkConnection

UPSELL_WINDOW_DAYS = 180
# A renewal grew when its ARR exceeds the ARR it replaces by more than this relative margin:
# that ARR is a sum of float amounts (a term and its expansions), and 1234.1 + 5678.7 reads
# 6912.799999999999, so a renewal at 6912.8 would count as an upsell by rounding (the
# twentieth audit: 4 of 1,957 flat renewals).
ROUNDING = 1e-9


def labels_sql(as_of: Sequence[datetime], horizon: datetime, min_rise: float = 0.0) -> str:
    """SQL for churn and upsell labels of every account active at each T."""
    if not 0.0 <= min_rise < 1.0:
        raise ValueError(f"min_rise must be in [0, 1), got {min_rise}")
    factor = repr((1.0 + float(min_rise)) * (1.0 + ROUNDING))  # a plain decimal literal
    edge = f"TIMESTAMP '{horizon.isoformat(sep=' ')}'"
    window = f"INTERVAL '{UPSELL_WINDOW_DAYS}' DAY"
    return f"""
WITH snapshots AS ({snapshots_sql(as_of)}),
spine AS ({SPINE}),
terms AS (
    SELECT subscription_id, account_id, kind, start_date, arr, seats,
           LAG(start_date) OVER w AS replaced_start, LAG(end_date) OVER w AS replaced_end,
           LAG(arr) OVER w AS replaced_arr, LAG(seats) OVER w AS replaced_seats
    FROM subscriptions WHERE kind IN {TERM_KINDS}
    WINDOW w AS (PARTITION BY account_id ORDER BY start_date, subscription_id)
),
renewals AS (
    SELECT * FROM terms WHERE kind = 'renewal' AND replaced_arr IS NOT NULL
),
replaced AS (
    SELECT r.subscription_id,
           r.replaced_arr + COALESCE(SUM(x.arr), 0) AS arr,
           r.replaced_seats + COALESCE(SUM(x.seats), 0) AS seats
    FROM renewals r
    LEFT JOIN subscriptions x ON x.account_id = r.account_id AND x.kind = 'expansion'
        AND x.start_date >= r.replaced_start AND x.start_date < r.replaced_end
    GROUP BY r.subscription_id, r.replaced_arr, r.replaced_seats
),
earlier AS (
    SELECT r.subscription_id, SUM(s.arr) AS arr, SUM(s.seats) AS seats
    FROM renewals r
    JOIN subscriptions s ON s.account_id = r.account_id
        AND s.start_date <= r.start_date - {window} AND r.start_date - {window} < s.end_date
    GROUP BY r.subscription_id
),
uplifted_renewals AS (
    SELECT r.account_id, r.start_date
    FROM renewals r
    JOIN replaced b ON b.subscription_id = r.subscription_id
    LEFT JOIN earlier e ON e.subscription_id = r.subscription_id
    WHERE (r.arr > b.arr * {factor} AND r.arr > COALESCE(e.arr, b.arr) * {factor})
       OR (r.seats > b.seats AND r.seats > COALESCE(e.seats, b.seats))
),
upsell_starts AS (
    SELECT account_id, start_date FROM subscriptions WHERE kind = 'expansion'
    UNION ALL SELECT account_id, start_date FROM uplifted_renewals
),
upsold AS (
    SELECT p.account_id, p.as_of, COUNT(*) AS upsells
    FROM spine p JOIN upsell_starts u ON u.account_id = p.account_id
        AND u.start_date > p.as_of AND u.start_date <= p.as_of + {window}
    GROUP BY p.account_id, p.as_of
),
current_arr AS (
    SELECT p.account_id, p.as_of, SUM(s.arr) AS arr
    FROM spine p JOIN subscriptions s ON s.account_id = p.account_id
        AND s.start_date <= p.as_of AND p.as_of < s.end_date
        AND (s.subscription_id = p.term_id OR s.kind = 'expansion')
    GROUP BY p.account_id, p.as_of
)
SELECT p.account_id, p.as_of,
       CASE WHEN t.end_date > {edge} THEN NULL
            WHEN t.outcome = 'churned' THEN 1.0
            WHEN t.outcome = 'renewed' THEN 0.0 END AS churn,
       CASE WHEN u.upsells > 0 THEN 1.0
            WHEN p.as_of + {window} <= {edge} THEN 0.0 END AS upsell,
       a.arr, p.term_end AS renewal_date
FROM spine p
JOIN subscriptions t ON t.subscription_id = p.term_id
LEFT JOIN upsold u ON u.account_id = p.account_id AND u.as_of = p.as_of
LEFT JOIN current_arr a ON a.account_id = p.account_id AND a.as_of = p.as_of
ORDER BY p.as_of, p.account_id
"""


def compute_labels(
    con: duckdb.DuckDBPyConnection | SparkConnection,
    as_of: Sequence[datetime | date | str] | datetime | date | str,
    horizon: datetime | None = None,
    upsell_min_rise: float = 0.0,
) -> pd.DataFrame:
    """Churn and upsell labels for every account active at each snapshot time.

    Args:
        con: Connection holding the typed contract views: DuckDB, or Spark's
            (`features.engines.spark`), which runs the same SQL.
        as_of: One or more snapshot times T.
        horizon: The data's horizon; `data_horizon(con)` when not given.
        upsell_min_rise: The share a renewal's ARR must rise by to be an upsell (0: any
            rise, as the contract says; 0.05: not a price indexation of up to 5%).

    Returns:
        Columns account_id, as_of, churn, upsell (float 1/0, NaN while unknown),
        arr (current term plus its active expansions at T) and renewal_date.
    """
    stamps = as_timestamps(as_of)
    edge = horizon if horizon is not None else data_horizon(con)
    frame = con.execute(labels_sql(stamps, edge, upsell_min_rise)).df()
    frame["account_id"] = frame["account_id"].astype(str)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["renewal_date"] = pd.to_datetime(frame["renewal_date"])
    for column in ("churn", "upsell", "arr"):
        frame[column] = frame[column].astype("float64")
    return frame.reset_index(drop=True)
