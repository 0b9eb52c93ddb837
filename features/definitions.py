"""The one place account features are defined.

Each `Feature` carries its name, its signal family, a sentence a CSM
understands, its unit, which direction is healthy and its SQL. The SQL is a
plain aggregate expression evaluated over one *source*: a relation with one
row per fact visible at the snapshot time T (see `features/sql/sources.py`
for the columns each source offers), grouped by account and T. Features of
the source ``"features"`` are computed afterwards from other features' values.

Time columns in sources are ages in days before T (``age_days``), so a window
of 30 days is ``age_days < 30``: the interval (T - 30 days, T].

`empty` is the value an account gets when its source has no rows at all
(e.g. 0 events, but an unknown NPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from features.contract import ACTION_CODES

Healthy = Literal["higher", "lower", "neutral"]


@dataclass(frozen=True)
class Feature:
    """One account feature: what it means and how it is computed."""

    name: str
    family: str
    description: str
    unit: str
    healthy: Healthy
    sql: str
    source: str
    empty: float | None = None


def _in(days: int, where: str | None = None) -> str:
    """Condition: within the last `days` days (and `where`, if given)."""
    return f"age_days < {days}" + (f" AND ({where})" if where else "")


def _between(start: int, stop: int, where: str | None = None) -> str:
    """Condition: between `start` and `stop` days before T."""
    return f"age_days >= {start} AND age_days < {stop}" + (f" AND ({where})" if where else "")


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# Sums and means of floating-point columns go through DECIMAL: DuckDB aggregates in
# parallel, and float addition in a varying order changes the last bits from run to
# run, which made training not reproducible. Exact decimal sums do not depend on order.
EXACT = "DECIMAL(38, 9)"


def _sum(column: str, condition: str) -> str:
    return f"CAST(SUM(CASE WHEN {condition} THEN CAST({column} AS {EXACT}) ELSE 0 END) AS DOUBLE)"


def _mean(column: str, condition: str) -> str:
    return f"CAST(AVG(CASE WHEN {condition} THEN CAST({column} AS {EXACT}) END) AS DOUBLE)"


def _distinct(column: str, condition: str) -> str:
    return f"COUNT(DISTINCT CASE WHEN {condition} THEN {column} END)"


def _ratio(numerator: str, denominator: str) -> str:
    return f"CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)"


def _change(recent: str, before: str) -> str:
    """Symmetric change from -1 (stopped) through 0 (flat) to +1 (started)."""
    return (
        f"CASE WHEN ({recent}) + ({before}) = 0 THEN 0.0 "
        f"ELSE CAST(({recent}) - ({before}) AS DOUBLE) / (({recent}) + ({before})) END"
    )


KEY = "is_key_user = 1"
VALUE = "event_type = 'value'"
CHANGE = "change, -1 to +1"


def _usage() -> list[Feature]:
    f: list[Feature] = []
    for w in (7, 30, 90):
        f += [
            Feature(
                f"events_{w}d",
                "usage",
                f"Product events in the last {w} days",
                "events",
                "higher",
                _count(_in(w)),
                "usage",
                0.0,
            ),
            Feature(
                f"active_users_{w}d",
                "usage",
                f"People who used the product in the last {w} days",
                "users",
                "higher",
                _count(_in(w)),
                "active_users",
                0.0,
            ),
            Feature(
                f"active_days_{w}d",
                "usage",
                f"Days with any product use in the last {w} days",
                "days",
                "higher",
                _count(f"newest_age < {w} AND oldest_age >= 0"),
                "active_days",
                0.0,
            ),
        ]
    for w in (30, 90):
        f += [
            Feature(
                f"value_events_{w}d",
                "usage",
                f"Value-producing steps completed in the last {w} days",
                "events",
                "higher",
                _count(_in(w, VALUE)),
                "usage",
                0.0,
            ),
            Feature(
                f"value_share_{w}d",
                "usage",
                f"Share of product events that produced value, last {w} days",
                "share",
                "higher",
                _ratio(_count(_in(w, VALUE)), _count(_in(w))),
                "usage",
            ),
            Feature(
                f"modules_used_{w}d",
                "usage",
                f"Product modules used in the last {w} days",
                "modules",
                "higher",
                _distinct("module", _in(w)),
                "modules",
                0.0,
            ),
            Feature(
                f"features_used_{w}d",
                "usage",
                f"Product functions used in the last {w} days",
                "features",
                "higher",
                _distinct("feature_key", _in(w)),
                "modules",
                0.0,
            ),
            Feature(
                f"usage_hours_{w}d",
                "usage",
                f"Hours spent in the product in the last {w} days",
                "hours",
                "higher",
                _sum("duration_s", _in(w)) + " / 3600.0",
                "usage",
                0.0,
            ),
        ]
    f += [
        Feature(
            "module_coverage_90d",
            "usage",
            "Share of the product's modules used in the last 90 days",
            "share",
            "higher",
            _ratio(_distinct("module", _in(90)), "MAX(product_modules)"),
            "modules",
            0.0,
        ),
        Feature(
            "feature_coverage_90d",
            "usage",
            "Share of the product's functions used in the last 90 days",
            "share",
            "higher",
            _ratio(_distinct("feature_key", _in(90)), "MAX(product_features)"),
            "modules",
            0.0,
        ),
        Feature(
            "action_share_30d",
            "usage",
            "Share of events where users did something rather than looked, last 30 days",
            "share",
            "higher",
            _ratio(_count(_in(30, "event_type = 'action'")), _count(_in(30))),
            "usage",
        ),
        Feature(
            "events_per_active_user_30d",
            "usage",
            "Events per active user in the last 30 days",
            "events/user",
            "higher",
            _ratio("events_30d", "active_users_30d"),
            "features",
        ),
        Feature(
            "value_events_per_active_user_30d",
            "usage",
            "Value steps per active user in the last 30 days",
            "events/user",
            "higher",
            _ratio("value_events_30d", "active_users_30d"),
            "features",
        ),
        Feature(
            "usage_minutes_per_active_user_30d",
            "usage",
            "Minutes in the product per active user, last 30 days",
            "minutes/user",
            "higher",
            _ratio("usage_hours_30d * 60.0", "active_users_30d"),
            "features",
        ),
    ]

    def day_in(start: int, stop: int) -> str:  # a calendar day holding an event aged [start, stop)
        return f"newest_age < {stop} AND oldest_age >= {start}"

    def user_in(w: int) -> str:
        return _in(w) if w in (7, 30) else ""

    trends = (
        (
            "events_change_30d",
            "Product events, last 30 days vs the 30 before",
            "usage",
            _count(_in(30)),
            _count(_between(30, 60)),
        ),
        (
            "value_events_change_30d",
            "Value steps, last 30 days vs the 30 before",
            "usage",
            _count(_in(30, VALUE)),
            _count(_between(30, 60, VALUE)),
        ),
        (
            "events_change_7d",
            "Product events, this week vs last week",
            "usage",
            _count(_in(7)),
            _count(_between(7, 14)),
        ),
        (
            "active_users_change_30d",
            "Active users, last 30 days vs the 30 before",
            "active_users",
            _count(user_in(30)),
            _count("events_30_60d > 0"),
        ),
        (
            "active_users_change_7d",
            "Active users, this week vs last week",
            "active_users",
            _count(user_in(7)),
            _count("events_7_14d > 0"),
        ),
        (
            "active_days_change_30d",
            "Active days, last 30 days vs the 30 before",
            "active_days",
            _count(day_in(0, 30)),
            _count(day_in(30, 60)),
        ),
    )
    for name, description, source, recent, before in trends:
        f.append(
            Feature(
                name, "usage", description, CHANGE, "higher", _change(recent, before), source, 0.0
            )
        )
    return f


def _users() -> list[Feature]:
    lost_key = _count(_in(90, KEY).replace("age_days", "deactivated_age"))
    new_key = _count(_in(90, KEY).replace("age_days", "created_age"))
    return [
        Feature(
            "licensed_users",
            "users",
            "People with an active login today",
            "users",
            "higher",
            "SUM(is_active)",
            "users",
            0.0,
        ),
        Feature(
            "new_users_30d",
            "users",
            "Logins added in the last 30 days",
            "users",
            "higher",
            _count("created_age < 30"),
            "users",
            0.0,
        ),
        Feature(
            "new_users_90d",
            "users",
            "Logins added in the last 90 days",
            "users",
            "higher",
            _count("created_age < 90"),
            "users",
            0.0,
        ),
        Feature(
            "lost_users_30d",
            "users",
            "Logins deactivated in the last 30 days",
            "users",
            "lower",
            _count("deactivated_age < 30"),
            "users",
            0.0,
        ),
        Feature(
            "lost_users_90d",
            "users",
            "Logins deactivated in the last 90 days",
            "users",
            "lower",
            _count("deactivated_age < 90"),
            "users",
            0.0,
        ),
        Feature(
            "key_users",
            "key_users",
            "Key users (contact, admin, sponsor) with an active login",
            "users",
            "higher",
            _count("is_active = 1 AND " + KEY),
            "users",
            0.0,
        ),
        Feature(
            "key_users_lost_90d",
            "key_users",
            "Key users deactivated in the last 90 days",
            "users",
            "lower",
            lost_key,
            "users",
            0.0,
        ),
        Feature(
            "key_users_lost_unreplaced_90d",
            "key_users",
            "Key users who left in the last 90 days and were not replaced",
            "users",
            "lower",
            f"CASE WHEN {lost_key} > {new_key} THEN {lost_key} - {new_key} ELSE 0 END",
            "users",
            0.0,
        ),
        Feature(
            "days_since_last_activity",
            "usage",
            "Days since anyone at the account used the product",
            "days",
            "lower",
            "MIN(age_days)",
            "activity",
        ),
        Feature(
            "days_since_key_user_active",
            "key_users",
            "Days since a key user was last active",
            "days",
            "lower",
            f"MIN(CASE WHEN {KEY} THEN age_days END)",
            "activity",
        ),
        Feature(
            "key_users_active_30d",
            "key_users",
            "Key users active in the last 30 days",
            "users",
            "higher",
            _count(_in(30, KEY)),
            "active_users",
            0.0,
        ),
        Feature(
            "key_user_event_share_30d",
            "key_users",
            "Share of the last 30 days' activity done by key users",
            "share",
            "higher",
            _ratio(_sum("events_30d", KEY), _sum("events_30d", "1 = 1")),
            "active_users",
        ),
    ]


def _derived() -> list[Feature]:
    return [
        Feature(
            "seat_utilization_30d",
            "users",
            "Active users in the last 30 days per licensed seat",
            "share",
            "higher",
            _ratio("active_users_30d", "contract_seats"),
            "features",
        ),
        Feature(
            "seat_fill",
            "users",
            "Logins handed out per licensed seat",
            "share",
            "higher",
            _ratio("licensed_users", "contract_seats"),
            "features",
        ),
        Feature(
            "active_user_share_30d",
            "users",
            "Share of people with a login who used the product, last 30 days",
            "share",
            "higher",
            _ratio("active_users_30d", "licensed_users"),
            "features",
        ),
        Feature(
            "key_user_active_share_30d",
            "key_users",
            "Share of key users active in the last 30 days",
            "share",
            "higher",
            _ratio("key_users_active_30d", "key_users"),
            "features",
        ),
        Feature(
            "nps_response_rate_180d",
            "nps",
            "Share of users who answered the NPS survey, last 180 days",
            "share",
            "higher",
            _ratio("nps_respondents_180d", "licensed_users"),
            "features",
        ),
        Feature(
            "arr_per_seat",
            "contract",
            "Annual recurring revenue per licensed seat",
            "currency/seat",
            "neutral",
            _ratio("contract_arr", "contract_seats"),
            "features",
        ),
    ]


def _milestones() -> list[Feature]:
    first = "milestone = 'first_value'"
    late = "CASE WHEN days_late > 0 THEN days_late ELSE 0 END"
    return [
        Feature(
            "first_value_reached",
            "milestones",
            "Has reached the first business result agreed at kickoff",
            "yes/no",
            "higher",
            _count(f"{first} AND achieved = 1"),
            "milestones",
            0.0,
        ),
        Feature(
            "first_value_days_late",
            "milestones",
            "Days the first value milestone is (or was) late",
            "days",
            "lower",
            f"COALESCE(MAX(CASE WHEN {first} THEN {late} END), 0)",
            "milestones",
            0.0,
        ),
        Feature(
            "first_value_overdue",
            "milestones",
            "First value milestone is past due and not reached",
            "yes/no",
            "lower",
            _count(f"{first} AND achieved = 0 AND days_late > 0"),
            "milestones",
            0.0,
        ),
        Feature(
            "milestones_reached",
            "milestones",
            "Onboarding and value milestones reached so far",
            "milestones",
            "higher",
            _count("achieved = 1"),
            "milestones",
            0.0,
        ),
        Feature(
            "milestones_overdue",
            "milestones",
            "Milestones past due and not reached",
            "milestones",
            "lower",
            _count("achieved = 0 AND days_late > 0"),
            "milestones",
            0.0,
        ),
    ]


def _outcomes() -> list[Feature]:
    latest = _mean("attainment", "recency_rank = 1")
    previous = _mean("attainment", "recency_rank = 2")
    return [
        Feature(
            "kpi_attainment_latest",
            "outcomes",
            "Latest business KPI result as a share of its target",
            "share of target",
            "higher",
            latest,
            "outcomes",
        ),
        Feature(
            "kpi_attainment_change",
            "outcomes",
            "Change in KPI attainment since the period before",
            "share of target",
            "higher",
            f"{latest} - {previous}",
            "outcomes",
        ),
        Feature(
            "kpi_attainment_mean_180d",
            "outcomes",
            "Average KPI attainment over the last 180 days",
            "share of target",
            "higher",
            _mean("attainment", _in(180)),
            "outcomes",
        ),
        Feature(
            "kpi_periods_below_target_180d",
            "outcomes",
            "Reporting periods with a KPI below target, last 180 days",
            "periods",
            "lower",
            _distinct("period_end", _in(180, "below_target = 1")),
            "outcomes",
        ),
        Feature(
            "kpi_share_below_target_latest",
            "outcomes",
            "Share of KPIs below target in their latest period",
            "share",
            "lower",
            _mean("below_target", "recency_rank = 1"),
            "outcomes",
        ),
        Feature(
            "days_since_kpi_report",
            "outcomes",
            "Days since the last business KPI result",
            "days",
            "lower",
            "MIN(age_days)",
            "outcomes",
        ),
    ]


def _support() -> list[Feature]:
    f = [
        Feature(
            "open_tickets",
            "support",
            "Support tickets open today",
            "tickets",
            "lower",
            "SUM(is_open)",
            "tickets",
            0.0,
        ),
    ]
    for priority in ("low", "normal", "high", "urgent"):
        f.append(
            Feature(
                f"open_tickets_{priority}",
                "support",
                f"Open support tickets of {priority} priority",
                "tickets",
                "lower",
                _count(f"is_open = 1 AND priority = '{priority}'"),
                "tickets",
                0.0,
            )
        )
    closed_90 = "closed_age < 90"
    f += [
        Feature(
            "tickets_opened_30d",
            "support",
            "Support tickets opened in the last 30 days",
            "tickets",
            "lower",
            _count(_in(30)),
            "tickets",
            0.0,
        ),
        Feature(
            "tickets_opened_90d",
            "support",
            "Support tickets opened in the last 90 days",
            "tickets",
            "lower",
            _count(_in(90)),
            "tickets",
            0.0,
        ),
        Feature(
            "bug_share_90d",
            "support",
            "Share of the last 90 days' tickets that report a bug",
            "share",
            "lower",
            _ratio(_count(_in(90, "category = 'bug'")), _count(_in(90))),
            "tickets",
        ),
        Feature(
            "days_to_close_90d",
            "support",
            "Average days to close tickets closed in the last 90 days",
            "days",
            "lower",
            _mean("days_to_close", closed_90),
            "tickets",
        ),
        Feature(
            "csat_mean_180d",
            "support",
            "Average support satisfaction (1-5), last 180 days",
            "score 1-5",
            "higher",
            "AVG(CASE WHEN closed_age < 180 THEN csat END)",
            "tickets",
        ),
        Feature(
            "oldest_open_ticket_days",
            "support",
            "Age in days of the oldest open ticket",
            "days",
            "lower",
            "COALESCE(MAX(CASE WHEN is_open = 1 THEN age_days END), 0)",
            "tickets",
            0.0,
        ),
    ]
    return f


def _nps() -> list[Feature]:
    recent = _in(180)
    promoters = _count(_in(180, "score >= 9"))
    detractors = _count(_in(180, "score <= 6"))
    responses = _count(recent)
    return [
        Feature(
            "nps_latest",
            "nps",
            "Latest NPS answer (0-10)",
            "score 0-10",
            "higher",
            "MAX(CASE WHEN recency_rank = 1 THEN score END)",
            "surveys",
        ),
        Feature(
            "nps_mean_180d",
            "nps",
            "Average NPS answer over the last 180 days",
            "score 0-10",
            "higher",
            f"AVG(CASE WHEN {recent} THEN score END)",
            "surveys",
        ),
        Feature(
            "nps_180d",
            "nps",
            "Net promoter score over the last 180 days (-100 to 100)",
            "score",
            "higher",
            f"100.0 * ({promoters} - {detractors}) / NULLIF({responses}, 0)",
            "surveys",
        ),
        Feature(
            "nps_detractor_share_180d",
            "nps",
            "Share of NPS answers of 6 or less, last 180 days",
            "share",
            "lower",
            _ratio(detractors, responses),
            "surveys",
        ),
        Feature(
            "nps_promoter_share_180d",
            "nps",
            "Share of NPS answers of 9 or 10, last 180 days",
            "share",
            "higher",
            _ratio(promoters, responses),
            "surveys",
        ),
        Feature(
            "nps_respondents_180d",
            "nps",
            "People who answered the NPS survey in the last 180 days",
            "users",
            "higher",
            _distinct("respondent", recent),
            "surveys",
            0.0,
        ),
        Feature(
            "days_since_nps",
            "nps",
            "Days since the last NPS answer",
            "days",
            "neutral",
            "MIN(age_days)",
            "surveys",
        ),
    ]


def _touchpoints() -> list[Feature]:
    f = [
        Feature(
            "days_since_touchpoint",
            "touchpoints",
            "Days since the CS team last touched the account",
            "days",
            "neutral",
            "MIN(age_days)",
            "touchpoints",
        ),
        Feature(
            "touchpoints_90d",
            "touchpoints",
            "CS touchpoints in the last 90 days",
            "touchpoints",
            "neutral",
            _count(_in(90)),
            "touchpoints",
            0.0,
        ),
    ]
    for code in ACTION_CODES:
        f.append(
            Feature(
                f"touchpoints_{code}_180d",
                "touchpoints",
                f"Times the CS team did '{code.replace('_', ' ')}' in the last 180 days",
                "touchpoints",
                "neutral",
                _count(_in(180, f"type = '{code}'")),
                "touchpoints",
                0.0,
            )
        )
    return f


def _contract() -> list[Feature]:
    current = "is_active = 1 AND (is_term = 1 OR kind = 'expansion')"
    first_arr = "MAX(CASE WHEN is_first_term = 1 THEN arr END)"
    return [
        Feature(
            "contract_arr",
            "contract",
            "Annual recurring revenue of the current term with its add-ons",
            "currency",
            "neutral",
            _sum("arr", current),
            "contract",
        ),
        Feature(
            "contract_seats",
            "contract",
            "Licensed seats in the current term with its add-ons",
            "seats",
            "neutral",
            f"SUM(CASE WHEN {current} THEN seats END)",
            "contract",
        ),
        Feature(
            "arr_growth_since_first_term",
            "contract",
            "Current ARR relative to the first contract",
            "ratio",
            "higher",
            _ratio(_sum("arr", current), first_arr),
            "contract",
        ),
        Feature(
            "tenure_days",
            "contract",
            "Days since the account became a customer",
            "days",
            "neutral",
            "MAX(tenure_days)",
            "contract",
        ),
        Feature(
            "days_to_renewal",
            "contract",
            "Days until the renewal decision",
            "days",
            "neutral",
            "MAX(days_to_renewal)",
            "contract",
        ),
        Feature(
            "term_length_days",
            "contract",
            "Length of the current contract term",
            "days",
            "neutral",
            "MAX(term_length_days)",
            "contract",
        ),
        Feature(
            "renewals_so_far",
            "contract",
            "Times the account has renewed",
            "renewals",
            "higher",
            _count("kind = 'renewal'"),
            "contract",
            0.0,
        ),
        Feature(
            "expansions_so_far",
            "contract",
            "Add-ons bought since becoming a customer",
            "expansions",
            "higher",
            _count("kind = 'expansion'"),
            "contract",
            0.0,
        ),
        Feature(
            "expansions_this_term",
            "contract",
            "Add-ons bought in the current term",
            "expansions",
            "higher",
            _count("is_active = 1 AND kind = 'expansion'"),
            "contract",
            0.0,
        ),
        Feature(
            "employees",
            "contract",
            "Company size in employees",
            "employees",
            "neutral",
            "MAX(employees)",
            "contract",
        ),
    ]


FEATURES: tuple[Feature, ...] = tuple(
    _usage()
    + _users()
    + _milestones()
    + _outcomes()
    + _support()
    + _nps()
    + _touchpoints()
    + _contract()
    + _derived()
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(f.family for f in FEATURES))
_BY_NAME = {f.name: f for f in FEATURES}


def feature(name: str) -> Feature:
    """The definition of the feature called `name` (KeyError if unknown)."""
    return _BY_NAME[name]
