"""Support: the tickets the account opens, how fast they close, and how satisfied it is."""

from __future__ import annotations

from features.definitions.base import Feature, count_if, in_last, mean_if, ratio

FAMILY = "support"

_PRIORITIES = ("low", "normal", "high", "urgent")

_OPEN: tuple[Feature, ...] = (
    Feature(
        name="open_tickets",
        family=FAMILY,
        description="Support tickets open today",
        unit="tickets",
        healthy="lower",
        sql="SUM(is_open)",
        source="tickets",
        empty=0.0,
        material=2.0,  # one open ticket is support at work
    ),
    *(
        Feature(
            name=f"open_tickets_{priority}",
            family=FAMILY,
            description=f"Open support tickets of {priority} priority",
            unit="tickets",
            healthy="lower",
            sql=count_if(f"is_open = 1 AND priority = '{priority}'"),
            source="tickets",
            empty=0.0,
            # one open ticket of low or normal priority is support at work; one of high or
            # urgent priority is a reason
            material=2.0 if priority in ("low", "normal") else 0.0,
        )
        for priority in _PRIORITIES
    ),
)

_HISTORY: tuple[Feature, ...] = (
    Feature(
        name="tickets_opened_30d",
        family=FAMILY,
        description="Support tickets opened in the last 30 days",
        unit="tickets",
        healthy="lower",
        sql=count_if(in_last(30)),
        source="tickets",
        empty=0.0,
    ),
    Feature(
        name="tickets_opened_90d",
        family=FAMILY,
        description="Support tickets opened in the last 90 days",
        unit="tickets",
        healthy="lower",
        sql=count_if(in_last(90)),
        source="tickets",
        empty=0.0,
    ),
    Feature(
        name="bug_share_90d",
        family=FAMILY,
        description="Share of the last 90 days' tickets that report a bug",
        unit="share",
        healthy="lower",
        sql=ratio(count_if(in_last(90, "category = 'bug'")), count_if(in_last(90))),
        source="tickets",
    ),
    Feature(
        name="days_to_close_90d",
        family=FAMILY,
        description="Average days to close tickets closed in the last 90 days",
        unit="days",
        healthy="lower",
        sql=mean_if("days_to_close", "closed_age < 90"),
        source="tickets",
    ),
    Feature(
        name="csat_mean_180d",
        family=FAMILY,
        description="Average support satisfaction (1-5), last 180 days",
        unit="score 1-5",
        healthy="higher",
        sql="AVG(CASE WHEN closed_age < 180 THEN csat END)",
        source="tickets",
    ),
    Feature(
        name="oldest_open_ticket_days",
        family=FAMILY,
        description="Age in days of the oldest open ticket",
        unit="days",
        healthy="lower",
        sql="COALESCE(MAX(CASE WHEN is_open = 1 THEN age_days END), 0)",
        source="tickets",
        empty=0.0,
        material=7.0,  # a ticket open for days is support at work; for a week, a problem
    ),
)

FEATURES: tuple[Feature, ...] = _OPEN + _HISTORY
"""Every support feature: tickets open today, then the recent ticket history."""
