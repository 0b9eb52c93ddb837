"""Touchpoints: what the CS team has done with the account, and how recently."""

from __future__ import annotations

from features.contract import ACTION_CODES
from features.definitions.base import Feature, count_if, in_last

FAMILY = "touchpoints"

FEATURES: tuple[Feature, ...] = (
    Feature(
        name="days_since_touchpoint",
        family=FAMILY,
        description="Days since the CS team last touched the account",
        unit="days",
        healthy="neutral",
        sql="MIN(age_days)",
        source="touchpoints",
    ),
    Feature(
        name="touchpoints_90d",
        family=FAMILY,
        description="CS touchpoints in the last 90 days",
        unit="touchpoints",
        healthy="neutral",
        sql=count_if(in_last(90)),
        source="touchpoints",
        empty=0.0,
    ),
    *(
        Feature(
            name=f"touchpoints_{code}_180d",
            family=FAMILY,
            description=f"Times the CS team did '{code.replace('_', ' ')}' in the last 180 days",
            unit="touchpoints",
            healthy="neutral",
            sql=count_if(in_last(180, f"type = '{code}'")),
            source="touchpoints",
            empty=0.0,
        )
        for code in ACTION_CODES
    ),
)
"""Every touchpoints feature: recency, volume, then one count per action code."""
