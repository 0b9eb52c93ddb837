"""Driver sentences that say what happened, when, and against what.

A family's lead feature says "1 key user left in the last 90 days"; the dated facts of
the snapshot (`features.facts`, point in time) let the sentence say who and when: "The
account's admin (user usr_0042) left on 3 Nov 2025 and nobody has taken their place; no
key user has used the product since 28 Oct 2025 (healthy accounts: within 3 days)." A
family without such facts, or an account whose facts do not bear on the lead feature,
keeps the feature's own sentence (`serving.explain.describe`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

Facts = Mapping[str, Any]
Bands = Mapping[str, tuple[float, float]]  # feature -> healthy accounts' middle half


def _in_band(bands: Bands, name: str, value: Any) -> bool:
    """Whether `value` lies in the middle half of healthy accounts (then no reason)."""
    band = bands.get(name)
    return band is not None and _known(value) and band[0] <= float(value) <= band[1]


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    return mapping.get(key)


def _day(value: Any) -> str:
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp:%b %Y}"


def _known(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not pd.isna(value)
    except (TypeError, ValueError):
        return True


def _healthy_days(healthy: Mapping[str, Any], name: str) -> str:
    value = _get(healthy, name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    days = f"{float(value):.0f}"
    return f" (healthy accounts: within {days} {'day' if days == '1' else 'days'})"


def _quiet_like_healthy(
    values: Mapping[str, Any], healthy: Mapping[str, Any], bands: Bands
) -> bool:
    """Whether key users were last active no longer ago than at healthy accounts."""
    quiet = _get(values, "days_since_key_user_active")
    usual = _get(healthy, "days_since_key_user_active")
    if _in_band(bands, "days_since_key_user_active", quiet):
        return True
    if not (_known(quiet) and _known(usual)):
        return False
    # no later than healthy, or the same in the whole days the sentence would print
    return float(quiet) <= float(usual) or f"{float(quiet):.0f}" == f"{float(usual):.0f}"


def key_users(
    facts: Facts,
    values: Mapping[str, Any],
    healthy: Mapping[str, Any],
    as_of: datetime,
    bands: Bands,
) -> str | None:
    """Who left and when; since when no key user has used the product."""
    last = _get(facts, "key_user_last_use")
    tracked = _get(facts, "events_first_at")  # use is known from then on
    if _known(last):
        since = f"no key user has used the product since {_day(last)}" + _healthy_days(
            healthy, "days_since_key_user_active"
        )
    elif _known(tracked) and (pd.Timestamp(as_of) - pd.Timestamp(tracked)).days < 90:
        since = (
            f"no key user has used the product since its use was first recorded ({_day(tracked)})"
        )
    else:
        since = "no key user has used the product in 90 days"
    left_at = _get(facts, "key_user_left_at")
    recent = _known(left_at) and (pd.Timestamp(as_of) - pd.Timestamp(left_at)).days < 90
    # a departure older than the features' 90 days is named only while no key user holds a
    # login: then nobody has taken their place, whenever they left
    nobody = _get(values, "key_users")
    alone = _known(nobody) and float(nobody) == 0
    if _known(_get(facts, "key_user_left_id")) and (recent or alone):
        role = _get(facts, "key_user_left_role") or "key user"
        unreplaced = (_get(values, "key_users_lost_unreplaced_90d") or 0) >= 1 or alone
        # Other key users as active as at healthy accounts: no reason to say since when.
        quiet = "" if _known(last) and _quiet_like_healthy(values, healthy, bands) else f"; {since}"
        return (
            f"The account's {role} (user {facts['key_user_left_id']}) left on"
            f" {_day(facts['key_user_left_at'])}"
            + (" and nobody has taken their place" if unreplaced else "")
            + f"{quiet}."
        )
    quiet = _get(values, "days_since_key_user_active")
    typical = _in_band(bands, "days_since_key_user_active", quiet)
    if _known(last) and quiet is not None and quiet > 30 and not typical:
        return f"{since[0].upper()}{since[1:]}."
    return None


def support(
    facts: Facts,
    values: Mapping[str, Any],
    healthy: Mapping[str, Any],
    as_of: datetime,
    bands: Bands,
) -> str | None:
    """How many pressing tickets are open and for how long."""
    count = int(_get(facts, "pressing_tickets_open") or 0)
    oldest = _get(facts, "oldest_pressing_opened_at")
    if count < 1 or not _known(oldest):
        return None
    days = max(0, (pd.Timestamp(as_of) - pd.Timestamp(oldest)).days)
    tickets = "ticket" if count == 1 else "tickets"
    usual = _get(healthy, "open_tickets")
    against = "" if not _known(usual) else f" (healthy accounts: {float(usual):.0f} open tickets)"
    return (
        f"{count} urgent or high-priority {tickets} open, the oldest for {days} days"
        f" (opened {_day(oldest)}){against}."
    )


def milestones(
    facts: Facts,
    values: Mapping[str, Any],
    healthy: Mapping[str, Any],
    as_of: datetime,
    bands: Bands,
) -> str | None:
    """When first value was due and how late it is."""
    due = _get(facts, "first_value_due")
    if not _known(due) or pd.Timestamp(due) > pd.Timestamp(as_of):
        return None
    late = (pd.Timestamp(as_of) - pd.Timestamp(due)).days
    return (
        f"The first business result agreed at kickoff was due on {_day(due)} and is not"
        f" reached yet ({late} days late; healthy accounts reached it)."
    )


def outcomes(
    facts: Facts,
    values: Mapping[str, Any],
    healthy: Mapping[str, Any],
    as_of: datetime,
    bands: Bands,
) -> str | None:
    """The latest KPI result against its target and healthy accounts."""
    actual, target = _get(facts, "kpi_actual"), _get(facts, "kpi_target")
    if not (_known(actual) and _known(target)) or not target:
        return None
    kpi = str(_get(facts, "kpi_name") or "the KPI").replace("_", " ").replace(" pct", "")
    usual = _get(healthy, "kpi_attainment_latest")
    share = float(actual) / float(target)
    if _known(usual) and share >= 0.95 * float(usual):  # in line with healthy: no reason
        return None
    if _in_band(bands, "kpi_attainment_latest", share):  # as healthy accounts do: no reason
        return None
    against = "" if not _known(usual) else f" (healthy accounts: {float(usual):.0%})"
    return (
        f"Latest KPI result: {kpi} at {share:.0%} of target in the"
        f" period ending {_day(_get(facts, 'kpi_period_end'))}{against}."
    )


Words = Callable[[Facts, Mapping[str, Any], Mapping[str, Any], datetime, Bands], str | None]
WORDS: dict[str, Words] = {
    "key_users": key_users,
    "support": support,
    "milestones": milestones,
    "outcomes": outcomes,
}
"""Family -> the sentence its dated facts make (None: keep the lead feature's sentence)."""


def fact_sentence(
    family: str,
    facts: Facts | None,
    values: Mapping[str, Any],
    healthy: Mapping[str, Any],
    as_of: datetime | None,
    bands: Bands | None = None,
) -> str | None:
    """The dated sentence for a family raising the risk, or None to keep the feature's.

    A value inside the middle half of healthy accounts (`bands`) is not said as a reason.
    """
    words = WORDS.get(family)
    if words is None or not facts or as_of is None:
        return None
    return words(facts, values, healthy, as_of, bands or {})
