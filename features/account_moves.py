"""Accounts that look re-keyed or merged: their users went on under another account.

The contract has no "merged into" or "formerly" column. A CRM migration that gives a
customer a new `account_id` from a date, or a customer that acquires another, leaves the
old account's last term ended (`churned`, or no outcome) while its users' events go on
under another account from about that date. Read so, the old account is a churn (a false
label in training) and the new id a brand-new account (tenure 0). The twenty-first audit,
docs/results.md: 20 re-keyed and 15 merged accounts of 600, and validate said nothing.
"""

from __future__ import annotations

import duckdb

MOVE_WINDOW_DAYS = 60  # a user's first event under the other account this near the end
MIN_MOVED_USERS = 2  # one user working for two customers is not a move


def moved_accounts_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on accounts whose last term ended while their users went on elsewhere, or None.

    An account whose latest `new`/`renewal` term ended by the end of the data, `churned` or
    with no outcome, and two or more of whose users (by `user_id` in `events`) used the
    product under it up to about that end and under one other account from within
    `MOVE_WINDOW_DAYS` of it. The other account is called a new id when it was created
    within that window too (a re-key), else another customer (a merger). `con` holds the
    typed contract views.
    """
    from features.horizon import data_horizon

    window = f"INTERVAL {MOVE_WINDOW_DAYS} DAY"
    try:
        horizon = data_horizon(con)
        rows = con.execute(
            f"""
            WITH spans AS (
                SELECT user_id, account_id, MIN(ts) AS first_ts, MAX(ts) AS last_ts
                FROM events WHERE user_id IS NOT NULL GROUP BY user_id, account_id
            ), ranked AS (
                SELECT account_id, end_date, outcome,
                       ROW_NUMBER() OVER (PARTITION BY account_id
                                          ORDER BY end_date DESC, start_date DESC) AS n
                FROM subscriptions WHERE kind IN ('new', 'renewal')
            ), ended AS (
                SELECT account_id, end_date, outcome FROM ranked
                WHERE n = 1 AND (outcome IS NULL OR outcome = 'churned') AND end_date <= ?
            ), moves AS (
                SELECT e.account_id AS old, b.account_id AS new, e.end_date, e.outcome,
                       COUNT(DISTINCT a.user_id) AS users
                FROM ended e
                JOIN spans a ON a.account_id = e.account_id
                JOIN spans b ON b.user_id = a.user_id AND b.account_id <> a.account_id
                WHERE a.last_ts < e.end_date + {window}
                  AND b.first_ts BETWEEN e.end_date - {window} AND e.end_date + {window}
                GROUP BY e.account_id, b.account_id, e.end_date, e.outcome
            ), best AS (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY old ORDER BY users DESC, new) AS n
                FROM moves WHERE users >= {MIN_MOVED_USERS}
            )
            SELECT s.old, s.new, s.end_date, s.outcome, s.users,
                   c.created_at BETWEEN s.end_date - {window} AND s.end_date + {window}
            FROM best s LEFT JOIN accounts c ON c.account_id = s.new
            WHERE s.n = 1
            ORDER BY s.users DESC, s.old
            """,
            [horizon],
        ).fetchall()
    except (duckdb.Error, ValueError):  # a note is never worth failing validation over
        return None
    if not rows:
        return None
    rekeyed = sum(1 for *_, fresh in rows if fresh)
    shown = ", ".join(
        f"{old!r} to {new!r} ({users} users, its term ending {end:%d %b %Y}"
        f" {outcome or 'with no outcome'}; {'a new account' if fresh else 'another customer'})"
        for old, new, end, outcome, users, fresh in rows[:3]
    ) + (f" and {len(rows) - 3:,} more" if len(rows) > 3 else "")
    many = len(rows) > 1
    return (
        f"Note: {len(rows):,} account{'s' if many else ''} whose latest term ended churned or"
        f" with no outcome had users who went on under another account from about that end"
        f" ({shown}; {rekeyed:,} to an account created then). If that is one customer under a"
        " new id (a CRM migration) or a customer merged into another, the old account reads"
        " as a churn in training and the new id as a brand-new account (tenure 0, onboarding"
        " due). A re-key: write every row under one account_id, the first term `new` and the"
        " rest `renewal`. A merger: record the absorbed account's last term as `renewed` (its"
        " ARR goes on in the acquirer's `expansion` row); see docs/data-contract.md."
    )
