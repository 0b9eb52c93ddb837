"""Point-in-time source relations that feature definitions aggregate over.

Every source is a SQL `SELECT` with one row per fact *visible at* snapshot time
T (`as_of`), keyed by `account_id` and `as_of`. Facts dated after T are left
out, and states are as they were at T (a user deactivated after T is active, a
ticket closed after T is open, a milestone achieved after T is not achieved,
an outcome row with `period_end` > T does not exist yet). Sources read only
the typed contract views and the `snapshots` / `spine` relations defined in
`features/sql/spine.py`.

Columns each source offers to `features.definitions`:

A user's key-user flag counts only once the user exists (created_at <= T).

* usage: events in the 90 days up to T: age_days, event_type, duration_s,

* active_users: one row per user active in those 90 days: user_id, age_days
  (of the latest event), events_7_14d, events_30_60d, events_30d, is_key_user.
* active_days: one row per calendar day with use in those 90 days:
  newest_age, oldest_age (ages of the day's latest and earliest events).
* modules: per module and function used in the 90 days up to T: module,
  feature_key, age_days (whole days since last used), product_modules,
  product_features (modules / functions seen in anyone's events up to T).
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
  current term), is_active (start <= T < end), is_first_term, tenure_days,
  days_to_renewal, term_length_days, employees.

Dialect notes: `days_between` and `INTERVAL` are the only engine-specific bits.
"""

from __future__ import annotations

USAGE_WINDOW_DAYS = 90  # longest window any usage feature looks back


def days_between(earlier: str, later: str) -> str:
    """SQL for the days (fractional) from `earlier` to `later`."""
    return f"((epoch(CAST({later} AS TIMESTAMP)) - epoch(CAST({earlier} AS TIMESTAMP))) / 86400.0)"


def _key(column: str) -> str:
    return f"CASE WHEN {column} THEN 1 ELSE 0 END"


PRODUCT = """
SELECT n.as_of, COUNT(DISTINCT m.module) AS product_modules,
       COUNT(DISTINCT m.feature_key) AS product_features
FROM snapshots n LEFT JOIN (
    SELECT module, module || '/' || COALESCE(feature, '') AS feature_key, MIN(ts) AS first_seen
    FROM events GROUP BY module, module || '/' || COALESCE(feature, '')
) m ON m.first_seen <= n.as_of
GROUP BY n.as_of
"""

# Events in the usage window, each with its age before T.
_WINDOW_EVENTS = f"""
SELECT e.account_id, n.as_of, e.user_id, e.module, e.feature, e.event_type, e.duration_s,
       {days_between("e.ts", "n.as_of")} AS age
FROM events e
JOIN snapshots n ON e.ts <= n.as_of AND e.ts > n.as_of - INTERVAL '{USAGE_WINDOW_DAYS}' DAY
"""

USAGE = f"""
SELECT w.account_id, w.as_of, w.age AS age_days, w.event_type, w.duration_s
FROM ({_WINDOW_EVENTS}) w
"""

# One row per user active in the usage window: distinct users become plain counts.
ACTIVE_USERS = f"""
SELECT w.account_id, w.as_of, w.user_id, MIN(w.age) AS age_days,
       SUM(CASE WHEN w.age >= 7 AND w.age < 14 THEN 1 ELSE 0 END) AS events_7_14d,
       SUM(CASE WHEN w.age >= 30 AND w.age < 60 THEN 1 ELSE 0 END) AS events_30_60d,
       SUM(CASE WHEN w.age < 30 THEN 1 ELSE 0 END) AS events_30d,
       MAX(CASE WHEN u.is_key_user THEN 1 ELSE 0 END) AS is_key_user
FROM ({_WINDOW_EVENTS}) w
LEFT JOIN users u ON u.user_id = w.user_id AND u.created_at <= w.as_of
WHERE w.user_id IS NOT NULL
GROUP BY w.account_id, w.as_of, w.user_id
"""

ACCOUNT_DAYS = """
SELECT account_id, CAST(ts AS DATE) AS day, MIN(ts) AS first_ts, MAX(ts) AS last_ts
FROM events GROUP BY account_id, CAST(ts AS DATE)
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

MODULES = f"""
SELECT w.account_id, w.as_of, w.module, w.module || '/' || COALESCE(w.feature, '') AS feature_key,
       FLOOR(MIN(w.age)) AS age_days, MAX(p.product_modules) AS product_modules,
       MAX(p.product_features) AS product_features
FROM ({_WINDOW_EVENTS}) w JOIN product p ON p.as_of = w.as_of
GROUP BY w.account_id, w.as_of, w.module, w.feature
"""

# Latest activity per user: exact within the usage window from `src_usage`, and
# from whole days that ended before the window for older activity.
# Per user and calendar month: a month spans less than the usage window, so a month
# whose last event is older than the window holds no event inside it.
USER_DAYS = """
SELECT account_id, user_id, MAX(ts) AS last_ts FROM events
WHERE user_id IS NOT NULL
GROUP BY account_id, user_id, EXTRACT(YEAR FROM ts), EXTRACT(MONTH FROM ts)
"""

ACTIVITY = f"""
SELECT account_id, as_of, user_id, MAX(is_key_user) AS is_key_user, MIN(age_days) AS age_days
FROM (
    SELECT account_id, as_of, user_id, is_key_user, age_days FROM src_active_users
    UNION ALL
    SELECT d.account_id, n.as_of, d.user_id, {_key("u.is_key_user")},
           {days_between("d.last_ts", "n.as_of")}
    FROM user_days d
    JOIN snapshots n ON d.last_ts <= n.as_of - INTERVAL '{USAGE_WINDOW_DAYS}' DAY
    LEFT JOIN users u ON u.user_id = d.user_id AND u.created_at <= n.as_of
) a
GROUP BY account_id, as_of, user_id
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
HELPERS: dict[str, str] = {"product": PRODUCT, "user_days": USER_DAYS, "account_days": ACCOUNT_DAYS}
