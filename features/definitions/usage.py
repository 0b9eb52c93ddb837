"""Usage: how much, how broadly and how recently the account uses the product."""

from __future__ import annotations

from features.definitions.base import (
    Feature,
    between,
    change,
    count_if,
    distinct_if,
    in_last,
    ratio,
    sum_if,
)

FAMILY = "usage"

VALUE = "event_type = 'value'"
CHANGE = "change, -1 to +1"


def _per_window() -> list[Feature]:
    """Counts, shares and breadth of use over the last 7, 30 and 90 days."""
    f: list[Feature] = []
    for w in (7, 30, 90):
        f += [
            Feature(
                name=f"events_{w}d",
                family=FAMILY,
                description=f"Product events in the last {w} days",
                unit="events",
                healthy="higher",
                sql=count_if(in_last(w)),
                source="usage",
                empty=0.0,
                window_days=w,
            ),
            Feature(
                name=f"active_users_{w}d",
                family=FAMILY,
                description=f"People who used the product in the last {w} days",
                unit="users",
                healthy="higher",
                sql=count_if(in_last(w)),
                source="active_users",
                empty=0.0,
                window_days=w,
            ),
            Feature(
                name=f"active_days_{w}d",
                family=FAMILY,
                description=f"Days with any product use in the last {w} days",
                unit="days",
                healthy="higher",
                sql=count_if(f"newest_age < {w} AND oldest_age >= 0"),
                source="active_days",
                empty=0.0,
                window_days=w,
            ),
        ]
    for w in (30, 90):
        f += [
            Feature(
                name=f"value_events_{w}d",
                family=FAMILY,
                description=f"Value-producing steps completed in the last {w} days",
                unit="events",
                healthy="higher",
                sql=count_if(in_last(w, VALUE)),
                source="usage",
                empty=0.0,
                window_days=w,
            ),
            Feature(
                name=f"value_share_{w}d",
                family=FAMILY,
                description=f"Share of product events that produced value, last {w} days",
                unit="share",
                healthy="higher",
                sql=ratio(count_if(in_last(w, VALUE)), count_if(in_last(w))),
                source="usage",
            ),
            Feature(
                name=f"modules_used_{w}d",
                family=FAMILY,
                description=f"Product modules used in the last {w} days",
                unit="modules",
                healthy="higher",
                sql=distinct_if("module", in_last(w)),
                source="modules",
                empty=0.0,
                window_days=w,
            ),
            Feature(
                name=f"features_used_{w}d",
                family=FAMILY,
                description=f"Product functions used in the last {w} days",
                unit="features",
                healthy="higher",
                sql=distinct_if("feature_key", in_last(w)),
                source="modules",
                empty=0.0,
                window_days=w,
            ),
            Feature(
                name=f"usage_hours_{w}d",
                family=FAMILY,
                description=f"Hours spent in the product in the last {w} days",
                unit="hours",
                healthy="higher",
                sql=sum_if("duration_s", in_last(w)) + " / 3600.0",
                source="usage",
                empty=0.0,
                window_days=w,
            ),
        ]
    return f


def _coverage_and_intensity() -> list[Feature]:
    """Share of the product used, and use per active user."""
    return [
        Feature(
            name="module_coverage_90d",
            family=FAMILY,
            description="Share of the product's modules used in the last 90 days",
            unit="share",
            healthy="higher",
            sql=ratio(distinct_if("module", in_last(90)), "MAX(product_modules)"),
            source="modules",
            empty=0.0,
        ),
        Feature(
            name="feature_coverage_90d",
            family=FAMILY,
            description="Share of the product's functions used in the last 90 days",
            unit="share",
            healthy="higher",
            sql=ratio(distinct_if("feature_key", in_last(90)), "MAX(product_features)"),
            source="modules",
            empty=0.0,
        ),
        Feature(
            name="action_share_30d",
            family=FAMILY,
            description=(
                "Share of events where users did something rather than looked, last 30 days"
            ),
            unit="share",
            healthy="higher",
            sql=ratio(count_if(in_last(30, "event_type = 'action'")), count_if(in_last(30))),
            source="usage",
        ),
        Feature(
            name="events_per_active_user_30d",
            family=FAMILY,
            description="Events per active user in the last 30 days",
            unit="events/user",
            healthy="higher",
            sql=ratio("events_30d", "active_users_30d"),
            source="features",
        ),
        Feature(
            name="value_events_per_active_user_30d",
            family=FAMILY,
            description="Value steps per active user in the last 30 days",
            unit="events/user",
            healthy="higher",
            sql=ratio("value_events_30d", "active_users_30d"),
            source="features",
        ),
        Feature(
            name="usage_minutes_per_active_user_30d",
            family=FAMILY,
            description="Minutes in the product per active user, last 30 days",
            unit="minutes/user",
            healthy="higher",
            sql=ratio("usage_hours_30d * 60.0", "active_users_30d"),
            source="features",
        ),
    ]


def _day_in(start: int, stop: int) -> str:
    """Condition on a calendar day: it holds an event aged in [start, stop) days."""
    return f"newest_age < {stop} AND oldest_age >= {start}"


def _user_in(w: int) -> str:
    """Condition on an active user: active in the last `w` days (7 or 30)."""
    return in_last(w) if w in (7, 30) else ""


def _trends() -> list[Feature]:
    """Recent use against the period before, on a -1 to +1 scale."""
    trends = (
        (
            "events_change_30d",
            "Product events, last 30 days vs the 30 before",
            "usage",
            count_if(in_last(30)),
            count_if(between(30, 60)),
        ),
        (
            "value_events_change_30d",
            "Value steps, last 30 days vs the 30 before",
            "usage",
            count_if(in_last(30, VALUE)),
            count_if(between(30, 60, VALUE)),
        ),
        (
            "events_change_7d",
            "Product events, this week vs last week",
            "usage",
            count_if(in_last(7)),
            count_if(between(7, 14)),
        ),
        (
            "active_users_change_30d",
            "Active users, last 30 days vs the 30 before",
            "active_users",
            count_if(_user_in(30)),
            count_if("events_30_60d > 0"),
        ),
        (
            "active_users_change_7d",
            "Active users, this week vs last week",
            "active_users",
            count_if(_user_in(7)),
            count_if("events_7_14d > 0"),
        ),
        (
            "active_days_change_30d",
            "Active days, last 30 days vs the 30 before",
            "active_days",
            count_if(_day_in(0, 30)),
            count_if(_day_in(30, 60)),
        ),
    )
    return [
        Feature(
            name=name,
            family=FAMILY,
            description=description,
            unit=CHANGE,
            healthy="higher",
            sql=change(recent, before),
            source=source,
            empty=0.0,
        )
        for name, description, source, recent, before in trends
    ]


WINDOWED: tuple[Feature, ...] = tuple(_per_window() + _coverage_and_intensity() + _trends())
"""Use over windows of days: volumes, breadth, per-user intensity and trends."""

RECENCY: tuple[Feature, ...] = (
    Feature(
        name="days_since_last_activity",
        family=FAMILY,
        description="Days since anyone at the account used the product",
        unit="days",
        healthy="lower",
        sql="MIN(age_days)",
        source="activity",
        material=7.0,  # a weekend or a day off is no warning; a week without any use is
    ),
)
"""How long the product has gone unused."""

FEATURES: tuple[Feature, ...] = WINDOWED + RECENCY
"""Every usage feature."""
