"""`retain validate`'s notes on columns a CRM keeps only today's value of (the seventeenth audit).

The contract dates events, tickets, terms and a user's deactivation, but the `accounts`
columns (`employees`, `industry`, `region`, `csm_owner`, `value_driver`) and a user's
`is_key_user` and `role` carry no history: every snapshot reads the value of the export.
Which of them a model reads is written down in docs/data-contract.md ("Columns without
history"): `employees` (a churn and upsell feature) and `is_key_user` (the key-user
features and the "a key user left" driver); `role` only names the departed user in words;
the plan routes by today's `csm_owner`; no model reads the rest.

A CRM rewrites them after the fact, and two rewrites tell the future to a past snapshot:

* an account that churned gets its `employees` cleared or refreshed, its `csm_owner`
  cleared or handed to a house owner, so "unknown size" means "will churn" in training
  and in no account in force (`churned_accounts_note`);
* when a key user leaves and a successor is named, the CRM moves the key-user flag: the
  departure then reads as an ordinary user's, and its signal is kept only at accounts
  that never named a successor (`moved_key_flags_note`).

Each is DuckDB SQL on the typed contract views (`features.source.create_typed_views`);
nothing is changed or dropped, and a note never fails validation (an error reads as none).
"""

from __future__ import annotations

import duckdb

from features.validate import note_rows

__all__ = [
    "TODAY_VALUE_FEATURES",
    "churned_accounts_note",
    "moved_key_flags_note",
    "rewritten_employees",
]

# Features read from a column the contract keeps no history of (today's value at every T).
# Training reads none of them that is unknown at every snapshot (`rewritten_employees` makes
# `employees` so when churned accounts' sizes were cleared).
TODAY_VALUE_FEATURES = ("employees",)

# The optional accounts columns a CRM may rewrite once an account has left.
ACCOUNT_COLUMNS = ("employees", "csm_owner", "industry", "region", "value_driver")
LABELS = ("industry", "region", "csm_owner", "value_driver")
MIN_ACCOUNTS = 10  # churned accounts showing the pattern, at least
MIN_SHARE = 0.2  # of the churned accounts
RATIO = 3.0  # times the share among the others

# An account is churned when its latest-starting new/renewal term ended churned (a return
# starts a later term, so an account that came back is not).
_STATUS = """
WITH latest AS (
    SELECT account_id, outcome,
           row_number() OVER (PARTITION BY account_id
                              ORDER BY start_date DESC, subscription_id DESC) AS rank
    FROM subscriptions WHERE kind IN ('new', 'renewal')
)
SELECT a.*, coalesce(l.outcome = 'churned', false) AS churned
FROM accounts a LEFT JOIN latest l ON l.account_id = a.account_id AND l.rank = 1
"""


def _missing_parts(
    con: duckdb.DuckDBPyConnection, columns: tuple[str, ...] = ACCOUNT_COLUMNS
) -> list[str]:
    """`employees` is missing at 123 of the 249 churned accounts (49%) against 0 of 451 others."""
    counts = ", ".join(
        f"COUNT(*) FILTER (WHERE churned AND {c} IS NULL),"
        f" COUNT(*) FILTER (WHERE NOT churned AND {c} IS NULL)"
        for c in columns
    )
    rows = note_rows(
        con,
        f"WITH s AS ({_STATUS}) SELECT COUNT(*) FILTER (WHERE churned),"
        f" COUNT(*) FILTER (WHERE NOT churned), {counts} FROM s",
    )
    if not rows:
        return []
    churned, others, *pairs = rows[0]
    parts = []
    for i, column in enumerate(columns):
        gone, kept = pairs[2 * i], pairs[2 * i + 1]
        if gone < MIN_ACCOUNTS or gone < MIN_SHARE * churned:
            continue
        if gone / churned < RATIO * (kept / max(others, 1)):
            continue
        parts.append(
            f"`{column}` is missing at {gone:,} of the {churned:,} churned accounts"
            f" ({gone / churned:.0%}) against {kept:,} of {others:,} others"
            f" ({kept / max(others, 1):.0%})"
        )
    return parts


def _churned_only_parts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`csm_owner` 'House Account' belongs to 174 accounts, all churned."""
    unions = " UNION ALL ".join(
        f"SELECT '{c}' AS col, CAST({c} AS VARCHAR) AS value, churned FROM s WHERE {c} IS NOT NULL"
        for c in LABELS
    )
    rows = note_rows(
        con,
        f"""
        WITH s AS ({_STATUS}), v AS ({unions}),
        share AS (SELECT AVG(CASE WHEN churned THEN 1.0 ELSE 0.0 END) AS churned FROM s)
        SELECT col, value, COUNT(*) AS n, COUNT(*) FILTER (WHERE churned) AS gone
        FROM v GROUP BY col, value
        HAVING COUNT(*) >= {MIN_ACCOUNTS}
           AND COUNT(*) FILTER (WHERE churned) >= 0.95 * COUNT(*)
           AND (SELECT churned FROM share) < 0.5
        ORDER BY n DESC, col, value
        """,
    )
    return [
        f"`{column}` {value!r} belongs to {n:,} accounts,"
        f" {'all' if gone == n else f'{gone:,}'} churned"
        for column, value, n, gone in rows
    ]


def rewritten_employees(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why training leaves the `employees` feature out, or None to keep it.

    When churned accounts' `employees` is missing as `churned_accounts_note` says (a fifth
    or more of them, three times the others' share), every snapshot of a churned account
    reads the size as unknown, years before the churn too: the models would learn "unknown
    size: will churn" (half their gain on the seventeenth audit's export) and report a
    test ROC-AUC that the renewals after the cut did not bear out (0.935 against 0.780).
    On the same world as the simulator wrote it, leaving `employees` out moved neither
    figure beyond noise.
    """
    parts = _missing_parts(con, ("employees",))
    if not parts:
        return None
    return (
        f"Leaving `employees` out of the models: {parts[0]}, so it reads as a CRM that"
        " cleared the size once an account left, and every snapshot of a churned account"
        " would read it unknown. Export the size each account had while a customer to use it."
    )


def churned_accounts_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note when churned accounts' CRM columns look rewritten after they left.

    A column missing at a fifth or more of the churned accounts (10 at least) and at
    three times the share of the others, or a value (a house owner, say) held by 10
    accounts or more that are all but all churned. A value refreshed by an enrichment
    vendor leaves no trace in one export, so it cannot be noted.
    """
    parts = _missing_parts(con) + _churned_only_parts(con)
    if not parts:
        return None
    return (
        f"Note: the accounts table looks rewritten after accounts left: {'; '.join(parts)}."
        " The contract keeps no history of these columns, so every snapshot, years before"
        " the churn too, reads today's value. `employees` is a feature of the churn and upsell"
        " models: a size cleared (or refreshed) once an account left teaches the churn model"
        " that an unknown size foretells churn, which no account in force will show, and"
        " flatters its test figures (the seventeenth audit's export: test ROC-AUC raised"
        " beyond what the renewals after the cut bore out; docs/results.md). No model reads"
        " the other columns (the plan routes by today's `csm_owner`). Export the values the"
        " account had while it was a customer."
    )


def moved_key_flags_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A note on departed users who are not key users though their role is a key user's.

    A role whose users still active are key users at 90% or more (20 such users at
    least), and 10 or more departed users of that role, a tenth of them or more, who are
    not: a CRM that moves the flag to a successor leaves this. A departed key user deleted
    from `users` leaves no row to read; their events and answers must then lose their
    `user_id` (an unknown user is a problem), and the departure is gone without a trace.
    """
    rows = note_rows(
        con,
        """
        WITH roles AS (
            SELECT role,
                   COUNT(*) FILTER (WHERE deactivated_at IS NULL) AS active,
                   COUNT(*) FILTER (WHERE deactivated_at IS NULL AND is_key_user) AS keys,
                   COUNT(*) FILTER (WHERE deactivated_at IS NOT NULL) AS gone,
                   COUNT(*) FILTER (WHERE deactivated_at IS NOT NULL AND NOT is_key_user)
                       AS unflagged
            FROM users WHERE role IS NOT NULL GROUP BY role
        )
        SELECT role, active, keys, gone, unflagged FROM roles
        WHERE active >= 20 AND keys >= 0.9 * active AND unflagged >= 10
          AND unflagged >= 0.1 * gone
        ORDER BY unflagged DESC, role
        """,
    )
    if not rows:
        return None
    total = sum(int(row[4]) for row in rows)
    shown = "; ".join(
        f"{role!r}: {unflagged:,} of the {gone:,} who left, while {keys / active:.0%} of the"
        f" {active:,} still active are key users"
        for role, active, keys, gone, unflagged in rows
    )
    return (
        f"Note: {total:,} users who left are not key users though their role is one key users"
        f" hold ({shown}). A CRM that moves the key-user flag to a successor when a key user"
        " leaves writes this: the departure then reads as an ordinary user's, so the key-user"
        " features (key users lost in the last 90 days, days since a key user was active) and"
        ' the driver "a key user left" miss it, and only accounts that never named a'
        " successor keep the signal. The contract reads `is_key_user` as who was a key user"
        " while the login was active: set it on the departed key users."
    )
