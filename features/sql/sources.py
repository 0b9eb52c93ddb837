"""Point-in-time source relations that feature definitions aggregate over.

Every source is a SQL `SELECT` with one row per fact *visible at* snapshot time
T (`as_of`), keyed by `account_id` and `as_of`. Facts dated after T are left
out, and states are as they were at T (a user deactivated after T is active, a
ticket closed after T is open, a milestone achieved after T is not achieved,
an outcome row with `period_end` > T does not exist yet). Sources read only
the typed contract views, the `snapshots` / `spine` relations defined in
`features/sql/spine.py` and the per-snapshot event scans of
`features/sql/scans.py` (which keep the event-heavy sources fast).

Columns each source offers to `features.definitions`:

A user's key-user flag counts only once the user exists (created_at <= T).

* usage: events in the 90 days up to T: age_days, event_type, duration_s.

* active_users: one row per user active in those 90 days: user_id, age_days
  (of the latest event), events_7_14d, events_30_60d, events_30d, is_key_user.
* active_days: one row per calendar day with use in those 90 days:
  newest_age, oldest_age (ages of the day's latest and earliest events; at
  the edges of the snapshot range, of those inside (earliest T - 90 days,
  latest T], which changes no "has an event in [a, b)" test).
* modules: per module and function used in the 90 days up to T: module,
  feature_key, age_days (whole days since last used), product_modules,
  product_features (modules / functions anyone used in the 90 days up to T).
* activity: per user, the latest activity up to T: user_id, is_key_user,
  age_days.
* users: logins created by T: is_key_user, is_active (at T), created_age,
  deactivated_age (null unless deactivated by T).
* tickets: tickets opened by T: age_days, is_open, closed_age, days_to_close,
  priority, category, csat (null until closed).
* surveys: NPS answers by T: age_days, score, respondent, recency_rank.
* outcomes: KPI rows with period_end <= T: age_days, period_end, kpi,
  attainment (actual / target, null when target is 0), below_target,
  recency_rank (1 = latest period of that KPI).
* milestones: every milestone: milestone, achieved (by T), days_late (days
  past due: at achievement if achieved by T, else at T; negative = not due).
* touchpoints: touchpoints by T: age_days, type.
* contract: subscription rows started by T: kind, arr, seats, is_term (the
  current term), is_active (start <= T < end), is_first_term, is_return (a `new`
  term starting after an earlier term of the account ended: a win-back), started_age
  (days since the row's start), tenure_days, days_to_renewal, term_length_days, employees.

Dialect notes: `days_between` and `INTERVAL` are the only engine-specific bits.
"""

from __future__ import annotations

from features.sql.scans import USAGE_WINDOW_DAYS, days_between
from features.sql.spine import TERM_KINDS


def _key(column: str) -> str:
    return f"CASE WHEN {column} THEN 1 ELSE 0 END"


def _is_key(row: str) -> str:
    """1 if `row.user_id` is a key user who exists at `row.as_of` (any matching login)."""
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.user_id = {row}.user_id "
        f"AND u.created_at <= {row}.as_of AND u.is_key_user) THEN 1 ELSE 0 END"
    )


# The product's modules and functions at each T: those anyone used in the 90 days up to
# T, the window the coverage features count the account's own use in. Not every one ever
# seen: a module renamed or retired stayed in the count for good, and every account's
# coverage fell for good with it (the twelfth new-user audit: 29% of modules where the
# account used 4 of the 4 still in use).
PRODUCT = """
SELECT as_of, COUNT(DISTINCT module) AS product_modules,
       COUNT(DISTINCT feature_key) AS product_features
FROM module_windows WHERE age_days < 90
GROUP BY as_of
"""


USAGE = """
SELECT w.account_id, w.as_of, w.age AS age_days, w.event_type, w.duration_s
FROM window_events w
"""

# One row per user active in the usage window: distinct users become plain counts.
ACTIVE_USERS = f"""
SELECT w.account_id, w.as_of, w.user_id, {days_between("w.last_ts", "w.as_of")} AS age_days,
       w.events_7_14d, w.events_30_60d, w.events_30d, {_is_key("w")} AS is_key_user
FROM user_windows w
"""

# One row per calendar day with use in the window. A day spans less than a day, so
# it holds an event aged in [a, b) (b - a >= 1 day) exactly when
# newest_age < b AND oldest_age >= a.
ACTIVE_DAYS = f"""
SELECT d.account_id, n.as_of, d.day, {days_between("d.last_ts", "n.as_of")} AS newest_age,
       {days_between("d.first_ts", "n.as_of")} AS oldest_age
FROM account_days d
JOIN snapshots n ON d.first_ts <= n.as_of
    AND d.last_ts > n.as_of - INTERVAL '{USAGE_WINDOW_DAYS}' DAY
"""

MODULES = """
SELECT m.account_id, m.as_of, m.module, m.feature_key, m.age_days,
       p.product_modules, p.product_features
FROM module_windows m JOIN product p ON p.as_of = m.as_of
"""

# Latest activity per user up to T (all time).
ACTIVITY = f"""
SELECT s.account_id, s.as_of, s.user_id, {_is_key("s")} AS is_key_user,
       {days_between("s.last_ts", "s.as_of")} AS age_days
FROM last_seen s
"""

USERS = f"""
SELECT u.account_id, n.as_of, {_key("u.is_key_user")} AS is_key_user,
       CASE WHEN u.deactivated_at IS NULL OR u.deactivated_at > n.as_of THEN 1 ELSE 0 END
           AS is_active,
       {days_between("u.created_at", "n.as_of")} AS created_age,
       CASE WHEN u.deactivated_at <= n.as_of
            THEN {days_between("u.deactivated_at", "n.as_of")} END AS deactivated_age
FROM users u JOIN snapshots n ON u.created_at <= n.as_of
"""

TICKETS = f"""
SELECT t.account_id, n.as_of, {days_between("t.opened_at", "n.as_of")} AS age_days,
       CASE WHEN t.closed_at IS NULL OR t.closed_at > n.as_of THEN 1 ELSE 0 END AS is_open,
       CASE WHEN t.closed_at <= n.as_of
            THEN {days_between("t.closed_at", "n.as_of")} END AS closed_age,
       CASE WHEN t.closed_at <= n.as_of
            THEN {days_between("t.opened_at", "t.closed_at")} END AS days_to_close,
       t.priority, t.category,
       CASE WHEN t.closed_at <= n.as_of THEN t.csat END AS csat
FROM tickets t JOIN snapshots n ON t.opened_at <= n.as_of
"""

SURVEYS = f"""
SELECT s.account_id, n.as_of, {days_between("s.ts", "n.as_of")} AS age_days, s.score,
       COALESCE(s.user_id, s.response_id) AS respondent,
       ROW_NUMBER() OVER (PARTITION BY s.account_id, n.as_of
                          ORDER BY s.ts DESC, s.response_id DESC) AS recency_rank
FROM surveys s JOIN snapshots n ON s.ts <= n.as_of
"""

OUTCOMES = f"""
SELECT o.account_id, n.as_of, {days_between("o.period_end", "n.as_of")} AS age_days,
       o.period_end, o.kpi, CAST(o.actual AS DOUBLE) / NULLIF(o.target, 0) AS attainment,
       CASE WHEN o.actual IS NULL THEN NULL WHEN o.actual < o.target THEN 1 ELSE 0 END
           AS below_target,
       DENSE_RANK() OVER (PARTITION BY o.account_id, o.kpi, n.as_of
                          ORDER BY o.period_end DESC) AS recency_rank
FROM outcomes o JOIN snapshots n ON o.period_end <= n.as_of
"""

MILESTONES = f"""
SELECT m.account_id, n.as_of, m.milestone,
       CASE WHEN m.achieved_at <= n.as_of THEN 1 ELSE 0 END AS achieved,
       CASE WHEN m.due_date IS NULL THEN NULL
            WHEN m.achieved_at <= n.as_of THEN {days_between("m.due_date", "m.achieved_at")}
            ELSE {days_between("m.due_date", "n.as_of")} END AS days_late
FROM milestones m CROSS JOIN snapshots n
"""

TOUCHPOINTS = f"""
SELECT t.account_id, n.as_of, {days_between("t.ts", "n.as_of")} AS age_days, t.type
FROM touchpoints t JOIN snapshots n ON t.ts <= n.as_of
"""

CONTRACT = f"""
SELECT p.account_id, p.as_of, s.kind, s.arr, s.seats,
       CASE WHEN s.subscription_id = p.term_id THEN 1 ELSE 0 END AS is_term,
       CASE WHEN s.end_date > p.as_of THEN 1 ELSE 0 END AS is_active,
       CASE WHEN s.kind <> 'expansion' AND ROW_NUMBER() OVER (
                PARTITION BY p.account_id, p.as_of, s.kind = 'expansion'
                ORDER BY s.start_date, s.subscription_id) = 1 THEN 1 ELSE 0 END AS is_first_term,
       CASE WHEN s.kind = 'new' AND EXISTS (
                SELECT 1 FROM subscriptions e WHERE e.account_id = s.account_id
                AND e.kind IN {TERM_KINDS} AND e.end_date < s.start_date)
            THEN 1 ELSE 0 END AS is_return,
       {days_between("s.start_date", "p.as_of")} AS started_age,
       {days_between("a.created_at", "p.as_of")} AS tenure_days,
       {days_between("p.as_of", "p.term_end")} AS days_to_renewal,
       {days_between("p.term_start", "p.term_end")} AS term_length_days,
       a.employees
FROM spine p
JOIN subscriptions s ON s.account_id = p.account_id AND s.start_date <= p.as_of
LEFT JOIN accounts a ON a.account_id = p.account_id
"""

# Source name -> SQL, in the order they are defined as CTEs.
SOURCES: dict[str, str] = {
    "usage": USAGE,
    "active_users": ACTIVE_USERS,
    "active_days": ACTIVE_DAYS,
    "modules": MODULES,
    "activity": ACTIVITY,
    "users": USERS,
    "tickets": TICKETS,
    "surveys": SURVEYS,
    "outcomes": OUTCOMES,
    "milestones": MILESTONES,
    "touchpoints": TOUCHPOINTS,
    "contract": CONTRACT,
}

# Helper relations the sources need, defined before them.
HELPERS: dict[str, str] = {"product": PRODUCT}
