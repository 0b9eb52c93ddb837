"""Milestones: onboarding and value milestones agreed with the customer, reached or late."""

from __future__ import annotations

from features.definitions.base import Feature, count_if

FAMILY = "milestones"

_FIRST = "milestone = 'first_value'"
_LATE = "CASE WHEN days_late > 0 THEN days_late ELSE 0 END"

FEATURES: tuple[Feature, ...] = (
    Feature(
        name="first_value_reached",
        family=FAMILY,
        description="Has reached the first business result agreed at kickoff",
        unit="yes/no",
        healthy="higher",
        sql=count_if(f"{_FIRST} AND achieved = 1"),
        source="milestones",
        empty=0.0,
    ),
    Feature(
        name="first_value_days_late",
        family=FAMILY,
        description="Days the first value milestone is (or was) late",
        unit="days",
        healthy="lower",
        sql=f"COALESCE(MAX(CASE WHEN {_FIRST} THEN {_LATE} END), 0)",
        source="milestones",
        empty=0.0,
    ),
    Feature(
        name="first_value_overdue",
        family=FAMILY,
        description="First value milestone is past due and not reached",
        unit="yes/no",
        healthy="lower",
        sql=count_if(f"{_FIRST} AND achieved = 0 AND days_late > 0"),
        source="milestones",
        empty=0.0,
    ),
    Feature(
        name="milestones_reached",
        family=FAMILY,
        description="Onboarding and value milestones reached so far",
        unit="milestones",
        healthy="higher",
        sql=count_if("achieved = 1"),
        source="milestones",
        empty=0.0,
    ),
    Feature(
        name="milestones_overdue",
        family=FAMILY,
        description="Milestones past due and not reached",
        unit="milestones",
        healthy="lower",
        sql=count_if("achieved = 0 AND days_late > 0"),
        source="milestones",
        empty=0.0,
    ),
)
"""Every milestones feature."""
