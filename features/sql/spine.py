"""The snapshot grid and the account spine: who is an active customer at each T."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

TERM_KINDS = "('new', 'renewal')"


def snapshots_sql(as_of: Sequence[datetime]) -> str:
    """A `SELECT` of one `as_of` TIMESTAMP row per snapshot time."""
    if not as_of:
        raise ValueError("at least one snapshot time is needed")
    rows = ", ".join(f"(TIMESTAMP '{t.isoformat(sep=' ')}')" for t in sorted(set(as_of)))
    return f"SELECT CAST(as_of AS TIMESTAMP) AS as_of FROM (VALUES {rows}) AS grid(as_of)"


# One row per account and T with its current term: the earliest `new` or
# `renewal` term with start_date <= T < end_date (the contract's next renewal).
SPINE = f"""
SELECT account_id, as_of, term_id, term_start, term_end FROM (
    SELECT s.account_id, n.as_of, s.subscription_id AS term_id,
           s.start_date AS term_start, s.end_date AS term_end,
           ROW_NUMBER() OVER (PARTITION BY s.account_id, n.as_of
                              ORDER BY s.start_date, s.subscription_id) AS term_rank
    FROM subscriptions s
    JOIN snapshots n ON s.start_date <= n.as_of AND n.as_of < s.end_date
    WHERE s.kind IN {TERM_KINDS}
) terms
WHERE term_rank = 1
"""
