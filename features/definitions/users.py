"""Users: the logins the account has, how they change, and how well seats are used."""

from __future__ import annotations

from features.definitions.base import Feature, count_if, ratio

FAMILY = "users"

LOGINS: tuple[Feature, ...] = (
    Feature(
        name="licensed_users",
        family=FAMILY,
        description="People with an active login today",
        unit="users",
        healthy="higher",
        sql="SUM(is_active)",
        source="users",
        empty=0.0,
    ),
    Feature(
        name="new_users_30d",
        family=FAMILY,
        description="Logins added in the last 30 days",
        unit="users",
        healthy="higher",
        sql=count_if("created_age < 30"),
        source="users",
        empty=0.0,
    ),
    Feature(
        name="new_users_90d",
        family=FAMILY,
        description="Logins added in the last 90 days",
        unit="users",
        healthy="higher",
        sql=count_if("created_age < 90"),
        source="users",
        empty=0.0,
    ),
    Feature(
        name="lost_users_30d",
        family=FAMILY,
        description="Logins deactivated in the last 30 days",
        unit="users",
        healthy="lower",
        sql=count_if("deactivated_age < 30"),
        source="users",
        empty=0.0,
    ),
    Feature(
        name="lost_users_90d",
        family=FAMILY,
        description="Logins deactivated in the last 90 days",
        unit="users",
        healthy="lower",
        sql=count_if("deactivated_age < 90"),
        source="users",
        empty=0.0,
    ),
)
"""Logins held, added and deactivated."""

RATIOS: tuple[Feature, ...] = (
    Feature(
        name="seat_utilization_30d",
        family=FAMILY,
        description="Active users in the last 30 days per licensed seat",
        unit="share",
        healthy="higher",
        sql=ratio("active_users_30d", "contract_seats"),
        source="features",
    ),
    Feature(
        name="seat_fill",
        family=FAMILY,
        description="Logins handed out per licensed seat",
        unit="share",
        healthy="higher",
        sql=ratio("licensed_users", "contract_seats"),
        source="features",
    ),
    Feature(
        name="active_user_share_30d",
        family=FAMILY,
        # people who left in the window count above the line, not below: over 100% says
        # someone who used the product this month no longer holds a login (the eighth
        # audit read "Share of people with a login who used the product: 106%"); the models
        # and the shipped cause reader read it as it is, so the words say what it counts
        description="People who used the product in the last 30 days per login held today",
        unit="share",
        healthy="higher",
        sql=ratio("active_users_30d", "licensed_users"),
        source="features",
    ),
)
"""Seats and logins put to use, computed from other features."""

FEATURES: tuple[Feature, ...] = LOGINS + RATIOS
"""Every users feature."""
