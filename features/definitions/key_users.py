"""Key users: whether the account's contacts, admins and sponsors stay and stay active."""

from __future__ import annotations

from features.definitions.base import Feature, count_if, in_last, ratio, sum_if

FAMILY = "key_users"

KEY = "is_key_user = 1"

_LOST = count_if(in_last(90, KEY).replace("age_days", "deactivated_age"))
_NEW = count_if(in_last(90, KEY).replace("age_days", "created_age"))

LOGINS: tuple[Feature, ...] = (
    Feature(
        name="key_users",
        family=FAMILY,
        description="Key users (contact, admin, sponsor) with an active login",
        unit="users",
        healthy="higher",
        sql=count_if("is_active = 1 AND " + KEY),
        source="users",
        empty=0.0,
    ),
    Feature(
        name="key_users_lost_90d",
        family=FAMILY,
        description="Key users deactivated in the last 90 days",
        unit="users",
        healthy="lower",
        sql=_LOST,
        source="users",
        empty=0.0,
    ),
    Feature(
        name="key_users_lost_unreplaced_90d",
        family=FAMILY,
        description="Key users who left in the last 90 days and were not replaced",
        unit="users",
        healthy="lower",
        sql=f"CASE WHEN {_LOST} > {_NEW} THEN {_LOST} - {_NEW} ELSE 0 END",
        source="users",
        empty=0.0,
    ),
)
"""Key users with a login, and those who left."""

ACTIVITY: tuple[Feature, ...] = (
    Feature(
        name="days_since_key_user_active",
        family=FAMILY,
        description="Days since a key user was last active",
        unit="days",
        healthy="lower",
        sql=f"MIN(CASE WHEN {KEY} THEN age_days END)",
        source="activity",
        material=7.0,  # a key user away for a day or two is no warning; for a week, it is
    ),
    Feature(
        name="key_users_active_30d",
        family=FAMILY,
        description="Key users active in the last 30 days",
        unit="users",
        healthy="higher",
        sql=count_if(in_last(30, KEY)),
        source="active_users",
        empty=0.0,
    ),
    Feature(
        name="key_user_event_share_30d",
        family=FAMILY,
        description="Share of the last 30 days' activity done by key users",
        unit="share",
        healthy="higher",
        sql=ratio(sum_if("events_30d", KEY), sum_if("events_30d", "1 = 1")),
        source="active_users",
    ),
)
"""How recently and how much key users use the product."""

RATIOS: tuple[Feature, ...] = (
    Feature(
        name="key_user_active_share_30d",
        family=FAMILY,
        description="Key users active in the last 30 days per key user holding a login today",
        unit="share",
        healthy="higher",
        sql=ratio("key_users_active_30d", "key_users"),
        source="features",
    ),
)
"""Key users put to use, computed from other features."""

FEATURES: tuple[Feature, ...] = LOGINS + ACTIVITY + RATIOS
"""Every key-users feature."""
