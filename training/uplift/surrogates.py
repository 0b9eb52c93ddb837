"""Which action fixes which cause, read from what the account's data shows the next snapshot.

History confounds churn: CSMs act on accounts riskier than the features show, so the churn
seen after an action says little about the action (docs/results.md, "What holds it back").
Some actions work by changing what the data shows, though: a new key user appears, modules
get adopted, urgent tickets close, the first value milestone is reached. Whether that
happened by the next snapshot after an action is not confounded by the hidden churn risk
CSMs choose on, so it says which action fixes which cause in this company's world (a
surrogate outcome, as in Athey, Chetty, Imbens and Kang 2019, "The surrogate index").

`find_fixes` reads, over the history's consecutive snapshots where a cause shows, the share
resolved by the next snapshot after exactly one action of a kind in between against no
action; `fixes_worth` turns the sure ones into a churn reduction per account: the share the
action resolves x the cause reader's chance that the cause is the account's dominant one x
the account's churn risk above the usual (`UpliftModel.effects` takes it off the learned
effect). A cause whose columns a company's data lacks (no milestones table: no first value)
shows nowhere and is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from features.contract import ACTION_CODES

MAX_GAP_DAYS = 45  # a snapshot and the next one further apart are no transition
MIN_UNTREATED = 20  # snapshots showing the cause with no action in between
MIN_TREATED = 8  # snapshots showing the cause with this action alone in between


def _urgent(frame: pd.DataFrame, prefix: str = "") -> pd.Series:
    return frame[prefix + "open_tickets_high"] + frame[prefix + "open_tickets_urgent"]


@dataclass(frozen=True)
class Surrogate:
    """A cause (the cause reader's name), when it shows and when it is resolved next time."""

    cause: str
    showing: str  # the accounts where it shows, in words
    resolved_words: str  # what resolving it reads as in a reason
    shows: Callable[[pd.DataFrame], pd.Series]
    resolved: Callable[[pd.DataFrame], pd.Series]  # reads `next_<column>` too
    columns: tuple[str, ...]


SURROGATES: tuple[Surrogate, ...] = (
    Surrogate(
        "key_user_gone",
        "accounts whose key user had left",
        "a new key user came in",
        lambda d: d["key_users_lost_unreplaced_90d"] > 0,
        lambda d: d["next_key_users"] > d["key_users"],
        ("key_users_lost_unreplaced_90d", "key_users"),
    ),
    Surrogate(
        "low_adoption",
        "accounts using 3 modules or fewer",
        "another module came into use",
        lambda d: d["modules_used_30d"] <= 3,
        lambda d: d["next_modules_used_30d"] > d["modules_used_30d"],
        ("modules_used_30d",),
    ),
    Surrogate(
        "support_storm",
        "accounts with 2 or more urgent or high-priority tickets open",
        "those tickets were closed",
        lambda d: _urgent(d) >= 2,
        lambda d: _urgent(d, "next_") == 0,
        ("open_tickets_high", "open_tickets_urgent"),
    ),
    Surrogate(
        "no_first_value",
        "accounts yet to reach their first value",
        "the first value milestone was reached",
        lambda d: d["first_value_reached"] == 0,
        lambda d: d["next_first_value_reached"] > 0,
        ("first_value_reached",),
    ),
)
"""The causes whose remedy shows in the data, with the contract features that show it."""


@dataclass(frozen=True)
class Fix:
    """An action seen to resolve a cause by the next snapshot more often than no action.

    `rate`: the share of the cause it resolves beyond no action, (treated - untreated) /
    (1 - untreated), in [0, 1].
    """

    action: str
    cause: str
    rate: float
    treated: int
    resolved_treated: float
    resolved_untreated: float
    z: float
    days: int = 30  # the median days from a treated snapshot to the next one

    def within(self) -> str:
        """How long after the action it was seen, in words."""
        return "within a month" if 25 <= self.days <= 35 else f"within {self.days} days"

    def words(self) -> str:
        """The evidence, for a CSM: what followed the action, against no action."""
        surrogate = next(s for s in SURROGATES if s.cause == self.cause)
        return (
            f"after it {surrogate.resolved_words} {self.within()} for"
            f" {100 * self.resolved_treated:.0f}% of {self.treated} {surrogate.showing},"
            f" against {100 * self.resolved_untreated:.0f}% without any action"
        )


def _instants(values: pd.Series) -> pd.Series:
    """Naive UTC times at one resolution, so snapshots and touchpoints can be joined.

    A company's tables may hold seconds in one and microseconds or time zones in another.
    """
    times = pd.to_datetime(values, utc=True).dt.tz_convert(None)
    return times.astype("datetime64[ns]")


def transitions(history: pd.DataFrame, touchpoints: pd.DataFrame) -> pd.DataFrame:
    """Snapshots with the next snapshot's values (`next_<column>`) and the action in between.

    One row per snapshot followed by another of the same account within `MAX_GAP_DAYS`;
    `action` is the one action code done between them (NaN: none). Snapshots with more than
    one action in between are left out: which one did it could not be told.
    """
    columns = sorted({c for s in SURROGATES for c in s.columns if c in history.columns})
    frame = history[["account_id", "as_of", *columns]].copy()
    frame["account_id"] = frame["account_id"].astype(str)
    frame["as_of"] = _instants(frame["as_of"])
    frame = frame.sort_values(["account_id", "as_of"]).reset_index(drop=True)
    following = frame.groupby("account_id")[["as_of", *columns]].shift(-1)
    following.columns = ["next_as_of", *("next_" + c for c in columns)]
    frame = pd.concat([frame, following], axis=1)
    gap = frame["next_as_of"] - frame["as_of"]
    frame = frame[gap.notna() & (gap <= pd.Timedelta(days=MAX_GAP_DAYS))]
    done = touchpoints[touchpoints["type"].isin(ACTION_CODES)]
    done = done.assign(account_id=done["account_id"].astype(str), ts=_instants(done["ts"]))
    # each action to the latest snapshot at or before it: no snapshots x touchpoints product
    pairs = pd.merge_asof(
        done[["account_id", "ts", "type"]].dropna(subset=["ts"]).sort_values("ts"),
        frame[["account_id", "as_of", "next_as_of"]].sort_values("as_of"),
        left_on="ts",
        right_on="as_of",
        by="account_id",
        direction="backward",
    )
    pairs = pairs[pairs["as_of"].notna() & (pairs["ts"] < pairs["next_as_of"])]
    between = pairs.groupby(["account_id", "as_of"])["type"].agg(["first", "size"])
    between.columns = ["action", "actions"]
    frame = frame.merge(between.reset_index(), on=["account_id", "as_of"], how="left")
    return frame[frame["actions"].fillna(0) <= 1].drop(columns="actions")


def find_fixes(
    history: pd.DataFrame,
    touchpoints: pd.DataFrame,
    min_z: float,
    until: datetime | pd.Timestamp | None = None,
) -> tuple[Fix, ...]:
    """The (action, cause) pairs history shows resolving the cause, `min_z` standard errors sure.

    Args:
        history: snapshots (`account_id`, `as_of`, the surrogates' columns), labelled or not.
        touchpoints: account_id, ts, type.
        min_z: how many standard errors the resolved share after the action must lie above
            the share without any action.
        until: the training date; no snapshot or touchpoint after it is read (None: all).
    """
    if until is not None:
        cut = _instants(pd.Series([until])).iloc[0]
        history = history[_instants(history["as_of"]) <= cut]
        touchpoints = touchpoints[_instants(touchpoints["ts"]) <= cut]
    moves = transitions(history, touchpoints)
    found: list[Fix] = []
    for surrogate in SURROGATES:
        if any(c not in moves.columns for c in surrogate.columns):
            continue
        rows = moves[surrogate.shows(moves).fillna(False).astype(bool)]
        resolved = surrogate.resolved(rows).fillna(False).astype(float)
        untreated = resolved[rows["action"].isna()]
        if len(untreated) < MIN_UNTREATED:
            continue
        p0 = float(untreated.mean())
        for action in ACTION_CODES:
            treated = resolved[rows["action"] == action]
            if len(treated) < MIN_TREATED or p0 >= 1:
                continue
            p1 = float(treated.mean())
            se = float(np.sqrt(treated.var() / len(treated) + untreated.var() / len(untreated)))
            z = (p1 - p0) / se if se > 0 else 0.0
            if z >= min_z:
                rate = float(np.clip((p1 - p0) / (1 - p0), 0.0, 1.0))
                gaps = rows.loc[rows["action"] == action, "next_as_of"] - rows["as_of"]
                days = int(round(gaps.dt.days.median()))
                found.append(Fix(action, surrogate.cause, rate, len(treated), p1, p0, z, days))
    return tuple(found)


def fixes_worth(
    fixes: Sequence[Fix],
    action: str,
    causes: np.ndarray,
    cause_names: Sequence[str],
    excess: np.ndarray,
) -> np.ndarray:
    """Per account, the churn reduction `action`'s fixes are worth (0 where it fixes nothing).

    Args:
        fixes: `find_fixes`' pairs.
        action: the action whose fixes are valued.
        causes: (accounts, causes) the cause reader's chance of each cause being dominant.
        cause_names: the columns of `causes`.
        excess: each account's churn risk above the usual (floored at 0).
    """
    worth = np.zeros(len(excess))
    for fix in fixes:
        if fix.action == action and fix.cause in cause_names:
            worth += fix.rate * causes[:, list(cause_names).index(fix.cause)] * excess
    return worth
