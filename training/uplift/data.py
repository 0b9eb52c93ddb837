"""What the CS team did after each snapshot: the treatments the uplift models learn from.

A snapshot (account, as_of T) counts as *treated* with an action when a touchpoint of that
type was logged in the window (T, T + window_days], cut at the account's next renewal (an
action after the renewal decision cannot change it). The outcome is the churn label at that
next renewal, as `features.dataset.build_dataset` gives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from features.contract import ACTION_CODES

SNAPSHOT_KEYS = ("account_id", "as_of")


def load_touchpoints(con: Any, until: datetime | None = None) -> pd.DataFrame:
    """The CS team's touchpoints (touchpoint_id, account_id, ts, type) from a source, to `until`."""
    columns = "touchpoint_id, account_id, ts, type"
    if until is None:
        return con.execute(f"SELECT {columns} FROM touchpoints").df()
    return con.execute(f"SELECT {columns} FROM touchpoints WHERE ts <= ?", [until]).df()


def actions_in_window(
    snapshots: pd.DataFrame,
    touchpoints: pd.DataFrame,
    window_days: int,
    actions: Sequence[str] = ACTION_CODES,
) -> pd.DataFrame:
    """Each action logged in a snapshot's window: row (position in `snapshots`), ts, type.

    `plan_line_id` comes along when `touchpoints` has it. The window is (as_of, as_of +
    window_days], cut at the snapshot's `renewal_date` when the frame has one: an action
    after the renewal cannot change it, and a churned account is no longer there to act on,
    so counting such actions would make every action look protective.
    """
    start = pd.to_datetime(snapshots["as_of"]).to_numpy(dtype="datetime64[ns]")
    end = start + np.timedelta64(window_days, "D")
    if "renewal_date" in snapshots:
        renewal = pd.to_datetime(snapshots["renewal_date"]).to_numpy(dtype="datetime64[ns]")
        end = np.where(np.isnat(renewal) | (end <= renewal), end, renewal)
    rows = pd.DataFrame(
        {
            "row": np.arange(len(snapshots)),
            "account_id": snapshots["account_id"].astype(str).to_numpy(),
            "start": start,
            "end": end,
        }
    )
    kept = [c for c in ("account_id", "ts", "type", "plan_line_id") if c in touchpoints.columns]
    done = touchpoints.loc[touchpoints["type"].isin(actions), kept].copy()
    done["account_id"] = done["account_id"].astype(str)
    done["ts"] = pd.to_datetime(done["ts"])
    joined = rows.merge(done, on="account_id")
    inside = (joined["ts"] > joined["start"]) & (joined["ts"] <= joined["end"])
    return joined.loc[inside, ["row", *kept[1:]]]


def treatment_matrix(
    snapshots: pd.DataFrame,
    touchpoints: pd.DataFrame,
    window_days: int = 30,
    actions: Sequence[str] = ACTION_CODES,
) -> pd.DataFrame:
    """Which actions the CS team took on each snapshot's account in the window after it.

    Args:
        snapshots: one row per (account_id, as_of); an optional `renewal_date` column cuts
            the window at the next renewal.
        touchpoints: account_id, ts, type (types outside `actions` are ignored).
        window_days: length of the window after as_of, in days.
        actions: the action codes to report, one column each.

    Returns:
        A 0/1 int frame aligned with `snapshots` (same index), one column per action.
    """
    treated = pd.DataFrame(0, index=snapshots.index, columns=list(actions), dtype=np.int8)
    if touchpoints.empty or snapshots.empty:
        return treated
    joined = actions_in_window(snapshots, touchpoints, window_days, actions)
    if joined.empty:
        return treated
    column = {action: i for i, action in enumerate(actions)}
    values = treated.to_numpy(copy=True)
    values[joined["row"].to_numpy(), joined["type"].map(column).to_numpy()] = 1
    return pd.DataFrame(values, index=snapshots.index, columns=list(actions))


def own_choice_share(
    snapshots: pd.DataFrame,
    touchpoints: pd.DataFrame,
    window_days: int,
    actions: Sequence[str] = ACTION_CODES,
) -> dict[str, float]:
    """Per action, the share of its treated snapshots the CS team chose on its own.

    A snapshot treated with an action counts as the team's own choice unless every such
    touchpoint in its window follows a plan line (`plan_line_id`, recorded through the
    service): the plan chose those accounts on the features the learner sees, the team
    chose the others on what it heard as well. Without a `plan_line_id` column every
    action is the team's own; an action never done counts as 1.
    """
    share = {action: 1.0 for action in actions}
    if "plan_line_id" not in touchpoints.columns:
        return share
    found = actions_in_window(snapshots, touchpoints, window_days, actions)
    if found.empty:
        return share
    planned = found["plan_line_id"].notna() & (found["plan_line_id"].astype(str) != "")
    own = (~planned).groupby([found["row"], found["type"]]).any()
    for action, flags in own.groupby(level="type"):
        share[str(action)] = float(flags.mean())
    return share
