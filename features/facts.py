"""Point-in-time facts behind the drivers: who left and when, which tickets, which KPI.

A feature says "1 key user left and was not replaced"; a CSM needs "the admin (user
usr_0042) left on 3 Nov". `compute_facts(con, as_of)` gives, per account and snapshot
time T, the dated facts the driver sentences quote (`serving.explain`), from the same
typed views and with the same rule as the features: only rows dated <= T, states as they
were at T (a user deactivated after T is active, a ticket closed after T is open).

Columns (`FACT_COLUMNS`), null when there is nothing to say:

* key_user_left_id, key_user_left_role, key_user_left_at: the key user whose login was
  deactivated most recently in the 365 days up to T (the features count departures over
  90 days; a loss older than that is still what a CSM needs named when nobody took over:
  the eighth new-user audit's sentences lost who and when after 90 days).
* key_user_last_use: the latest product event by any key user in the 90 days up to T.
* events_first_at: the source's first product event up to T, any account's (when the
  product analytics began: "no key user used the product in 90 days" is no fact 31 days
  after it, the fifteenth audit's case).
* pressing_tickets_open: open tickets of high or urgent priority at T;
  oldest_pressing_opened_at: when the oldest of them was opened.
* first_value_due: the due date of a first-value milestone not reached by T.
* kpi_name, kpi_period_end, kpi_actual, kpi_target: the latest KPI result reported by T
  (of several KPIs in that period, the furthest below target).

The SQL is DuckDB's, with T written as a literal, as in `features.compute`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

FACT_COLUMNS: tuple[str, ...] = (
    "key_user_left_id",
    "key_user_left_role",
    "key_user_left_at",
    "key_user_last_use",
    "events_first_at",
    "pressing_tickets_open",
    "oldest_pressing_opened_at",
    "first_value_due",
    "kpi_name",
    "kpi_period_end",
    "kpi_actual",
    "kpi_target",
)

_FACTS_SQL = """
WITH left_keys AS (
    SELECT account_id, user_id, role, deactivated_at,
           row_number() OVER (
               PARTITION BY account_id ORDER BY deactivated_at DESC, user_id
           ) AS rank
    FROM users
    WHERE is_key_user AND created_at <= $t AND deactivated_at <= $t
      AND deactivated_at > $t - INTERVAL 365 DAY
),
key_use AS (
    SELECT e.account_id, max(e.ts) AS last_use
    FROM events AS e JOIN users AS u ON e.user_id = u.user_id
    WHERE u.is_key_user AND u.created_at <= $t AND e.ts <= $t
      AND e.ts > $t - INTERVAL 90 DAY
    GROUP BY e.account_id
),
pressing AS (
    SELECT account_id, count(*) AS open_count, min(opened_at) AS oldest
    FROM tickets
    WHERE opened_at <= $t AND (closed_at IS NULL OR closed_at > $t)
      AND priority IN ('high', 'urgent')
    GROUP BY account_id
),
first_value AS (
    SELECT account_id, min(due_date) AS due
    FROM milestones
    WHERE milestone = 'first_value' AND (achieved_at IS NULL OR achieved_at > $t)
    GROUP BY account_id
),
kpis AS (
    SELECT account_id, kpi, period_end, actual, target,
           row_number() OVER (
               PARTITION BY account_id
               ORDER BY period_end DESC, actual / nullif(target, 0) ASC NULLS LAST, kpi
           ) AS rank
    FROM outcomes
    WHERE period_end <= $t
)
SELECT a.account_id,
       l.user_id AS key_user_left_id, l.role AS key_user_left_role,
       l.deactivated_at AS key_user_left_at,
       k.last_use AS key_user_last_use,
       (SELECT min(ts) FROM events WHERE ts <= $t) AS events_first_at,
       coalesce(p.open_count, 0) AS pressing_tickets_open,
       p.oldest AS oldest_pressing_opened_at,
       f.due AS first_value_due,
       o.kpi AS kpi_name, o.period_end AS kpi_period_end,
       o.actual AS kpi_actual, o.target AS kpi_target
FROM accounts AS a
LEFT JOIN left_keys AS l ON l.account_id = a.account_id AND l.rank = 1
LEFT JOIN key_use AS k ON k.account_id = a.account_id
LEFT JOIN pressing AS p ON p.account_id = a.account_id
LEFT JOIN first_value AS f ON f.account_id = a.account_id
LEFT JOIN kpis AS o ON o.account_id = a.account_id AND o.rank = 1
WHERE a.created_at <= $t
ORDER BY a.account_id
"""


def reads(table: str) -> bool:
    """Whether the facts read the typed table `table` (a word of their SQL: errs one way)."""
    return re.search(rf"\b{re.escape(table)}\b", _FACTS_SQL) is not None


def compute_facts(con: object, as_of: Sequence[datetime]) -> pd.DataFrame:
    """The dated facts of every account created by each T in `as_of`.

    Args:
        con: A connection with the typed contract views (`features.source.load_source`).
        as_of: Snapshot times (naive UTC).

    Returns:
        `account_id`, `as_of`, then `FACT_COLUMNS`.
    """
    frames = []
    for t in as_of:
        stamp = f"TIMESTAMP '{pd.Timestamp(t):%Y-%m-%d %H:%M:%S.%f}'"
        frame = con.execute(_FACTS_SQL.replace("$t", stamp)).df()  # type: ignore[attr-defined]
        frame.insert(1, "as_of", pd.Timestamp(t))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["account_id", "as_of", *FACT_COLUMNS])
    return pd.concat(frames, ignore_index=True)
