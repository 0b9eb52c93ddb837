"""Does the drift look like a change in how events are logged? The diagnosis, in words.

A tracking release, a de-duplication or a renamed event changes every account's event
counts on the same day while the people using the product stay the same; customers who
change their habits do so one account at a time, and customers who leave take their users
with them. So, per account between an earlier snapshot and today: events per active user,
against active users (`TrackingThresholds` says when, and why those numbers).

It needs two columns of two snapshots the monitor computes anyway (today's and the one a
month earlier, plus the champion's training date): no account data kept in the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

import numpy as np
import pandas as pd

from training.monitor.alarms import Alarm
from training.monitor.thresholds import TrackingThresholds

EVENTS = "events_30d"
USERS = "active_users_30d"
PER_USER_UNITS = ("events/user", "minutes/user")


@dataclass(frozen=True)
class TrackingChange:
    """Events per active user moved for most accounts at once, while active users held.

    Attributes:
        since: the earlier snapshot's date.
        as_of: today's snapshot's date.
        since_label: what the earlier date is, in words ("when v3 was trained").
        accounts: accounts with active users at both dates.
        ratio: the median account's events per active user, today over then.
        limit: the per-account ratio past which an account counts as moved (0.7, 1.4).
        share: share of the accounts past `limit`.
        users_then: the median account's active users in 30 days then.
        users_now: the same today.
        users_ratio: the median account's active users, today over then.
        event_alarms: alarms on event counts and the rates and shares built from them.
        alarms: every feature alarm of the run.
    """

    since: datetime
    as_of: datetime
    since_label: str
    accounts: int
    ratio: float
    limit: float
    share: float
    users_then: float
    users_now: float
    users_ratio: float
    event_alarms: int = 0
    alarms: int = 0

    @property
    def fell(self) -> bool:
        return self.ratio < 1

    def sentence(self) -> str:
        """The diagnosis, with its numbers and what to do, for a CS-ops reader."""
        moved = "fell" if self.fell else "rose"
        on_alarms = (
            f"; {self.event_alarms} of the {self.alarms} feature alarms are on event counts"
            " and the rates and shares built from them"
            if self.event_alarms
            else ""
        )
        reads = (
            "the usage-based risk drivers and reasons such as 'use halved' read low for every"
            " account"
            if self.fell
            else "the usage-based risk drivers read high for every account and hide a real"
            " fall in use"
        )
        return (
            f"Events per active user {moved} {abs(1 - self.ratio):.0%} at the median account"
            f" ({moved} by more than {abs(1 - self.limit):.0%} at {self.share:.0%} of the"
            f" {self.accounts} accounts active both times) between {self.since:%Y-%m-%d}"
            f" ({self.since_label}) and {self.as_of:%Y-%m-%d}, while active users held"
            f" (the median account's moved {self.users_ratio - 1:+.0%}; median"
            f" {self.users_then:.0f} against {self.users_now:.0f} per account): a"
            " change in how events are logged (tracking, de-duplication, a renamed event)"
            f" looks more likely than a change in customers' use{on_alarms}. If so, ask who"
            " owns the product's tracking what changed and when; until the models are"
            f" retrained on enough months after it with known renewals, {reads}, and a"
            " retrain sooner learns from the months before the change."
        )


def tracking_change(
    then: pd.DataFrame, now: pd.DataFrame, thresholds: TrackingThresholds, since_label: str
) -> TrackingChange | None:
    """The change between two feature snapshots, if it reads as one in how events are logged.

    Args:
        then: the earlier snapshot (`account_id`, `as_of`, `events_30d`, `active_users_30d`).
        now: today's snapshot, the same columns.
        thresholds: when the accounts moved together and the people held.
        since_label: what the earlier date is, in words, for the sentence.

    Returns:
        The change, or None: too few accounts, active users moved, or events per active
        user did not move past the limit for enough of the accounts in one direction.
    """
    columns = ["account_id", EVENTS, USERS]
    if then.empty or now.empty or any(c not in f for c in columns for f in (then, now)):
        return None
    both = then[columns].merge(now[columns], on="account_id", suffixes=("_then", "_now"))
    both = both.loc[
        (both[f"{USERS}_then"] > 0) & (both[f"{USERS}_now"] > 0) & (both[f"{EVENTS}_then"] > 0)
    ]
    if len(both) < thresholds.min_accounts:
        return None
    users = both[f"{USERS}_now"] / both[f"{USERS}_then"]
    if abs(float(np.median(users)) - 1) >= thresholds.users_held:
        return None  # the people changed too: churn, a new segment, growth
    if _people_just_moved(now, thresholds):
        return None  # back from a season: the 30 days count the weeks they were away
    per_user = (both[f"{EVENTS}_now"] / both[f"{EVENTS}_then"]) / users
    fell = float(np.mean(per_user < thresholds.fell_below))
    rose = float(np.mean(per_user > thresholds.rose_above))
    if fell >= thresholds.share_of_accounts:
        limit, share = thresholds.fell_below, fell
    elif rose >= thresholds.share_of_accounts:
        limit, share = thresholds.rose_above, rose
    else:
        return None
    return TrackingChange(
        since=pd.Timestamp(then["as_of"].iloc[0]).to_pydatetime(),
        as_of=pd.Timestamp(now["as_of"].iloc[0]).to_pydatetime(),
        since_label=since_label,
        accounts=len(both),
        ratio=float(np.median(per_user)),
        limit=limit,
        share=share,
        users_then=float(np.median(both[f"{USERS}_then"])),
        users_now=float(np.median(both[f"{USERS}_now"])),
        users_ratio=float(np.median(users)),
    )


EVENTS_CHANGE = "events_change_30d"
USERS_CHANGE = "active_users_change_30d"


def _people_just_moved(now: pd.DataFrame, thresholds: TrackingThresholds) -> bool:
    """Whether the median account's active users moved in the last 30 days against the 30 before.

    A tracking change keeps the people in every window. A season's end does not: users back
    in September after a summer away are as many as in June, but their 30 days still hold
    the August weeks they were away, so events per active user read 37% lower at the
    median account than in June (the sixteenth audit: "a change in how events are logged",
    on 15 September, while the median account's active users had risen 5-fold over the 30
    days before). The trend (-1 to +1) gives the ratio (1 + t) / (1 - t).
    """
    if USERS_CHANGE not in now.columns:
        return False
    trend = now[USERS_CHANGE].astype(float).dropna()
    if len(trend) < thresholds.min_accounts:
        return False
    t = float(np.median(trend))
    ratio = (1 + t) / (1 - t) if t < 1 else float("inf")
    return abs(ratio - 1) >= thresholds.users_held


def window_before(snapshot: pd.DataFrame) -> pd.DataFrame:
    """The 30 days before the snapshot's last 30, rebuilt from its own 30-day trends.

    A trend is (last 30 - the 30 before) / (their sum) (`features.definitions.base.change`),
    so the 30 days before hold `count x (1 - trend) / (1 + trend)`: one snapshot is enough to
    ask `tracking_change` about the month before it, with no second snapshot to build.
    Accounts without the four columns, or quiet in either window, come back as NaN.
    """
    columns = (EVENTS, USERS, EVENTS_CHANGE, USERS_CHANGE)
    if any(c not in snapshot.columns for c in (*columns, "account_id", "as_of")):
        return pd.DataFrame(columns=["account_id", "as_of", EVENTS, USERS])

    def before(count: str, trend: str) -> pd.Series:
        t = snapshot[trend].astype(float)
        earlier = snapshot[count].astype(float) * (1 - t) / (1 + t)
        return earlier.where(t.abs() < 1)  # -1 or +1: quiet in one of the two windows

    return pd.DataFrame(
        {
            "account_id": snapshot["account_id"],
            "as_of": pd.to_datetime(snapshot["as_of"]) - pd.Timedelta(days=30),
            EVENTS: before(EVENTS, EVENTS_CHANGE),
            USERS: before(USERS, USERS_CHANGE),
        }
    )


def recent_tracking_change(
    snapshot: pd.DataFrame, thresholds: TrackingThresholds
) -> TrackingChange | None:
    """`tracking_change` between a snapshot's last 30 days and the 30 before."""
    then = window_before(snapshot).dropna(subset=[EVENTS, USERS])
    return tracking_change(then, snapshot, thresholds, "the 30 days before")


@cache
def event_count_features() -> frozenset[str]:
    """Usage features that count events: volumes, hours, shares, trends, per-user rates.

    Those a change in logging moves; not active users, active days or modules used. Read
    once: scoring asks for them on every batch while a snapshot shows a tracking change.
    """
    from features.definitions import FEATURES

    return frozenset(
        f.name
        for f in FEATURES
        if f.family == "usage" and (f.source == "usage" or f.unit in PER_USER_UNITS)
    )


def diagnose(
    now: pd.DataFrame,
    earlier: Sequence[tuple[str, pd.DataFrame]],
    thresholds: TrackingThresholds,
    alarms: Sequence[Alarm] = (),
) -> TrackingChange | None:
    """The tracking change against the first `earlier` snapshot that shows one, if any.

    Args:
        now: today's feature snapshot.
        earlier: (what the date is in words, that snapshot), in the order to try: the
            champion's training date first (the diagnosis stands while that model serves),
            then a month earlier (an old champion: a year of growth moves users too).
        thresholds: `TrackingThresholds`.
        alarms: the run's alarms, to say how many are on event counts.
    """
    counted = event_count_features()
    features = [a for a in alarms if a.kind == "feature"]
    for label, then in earlier:
        change = tracking_change(then, now, thresholds, label)
        if change is not None:
            on_events = sum(a.subject in counted for a in features)
            return replace(change, event_alarms=on_events, alarms=len(features))
    return None
