"""Planted changes: a simulated world's tables transformed after the simulation, at a date.

Each returns new tables (the input is not changed), as a company's export would look after
the change; the simulator itself is untouched.

- `drop_module_usage`: a product release renames a module and the analytics export only
  keeps the module names it knows, so that module's usage drops to zero after the date.
- `reprice`: a price change: every term in force on or after the date costs `factor` times
  as much (same seats), as a new price list applied to every contract at once would.
- `add_small_accounts`: a new segment: copies of existing accounts' histories, moved so
  they become customers just after the date, with a fraction of the seats, ARR and staff.
- `log_fewer_events`: a tracking change: after the date each `view` and `action` event is
  logged with a probability (the twelfth audit's export kept half); people use as before.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

Tables = dict[str, pd.DataFrame]

# the dated columns of each table (the contract's TIMESTAMP and DATE columns)
TIMES = {
    "accounts": ("created_at",),
    "subscriptions": ("start_date", "end_date"),
    "users": ("created_at", "deactivated_at"),
    "events": ("ts",),
    "tickets": ("opened_at", "closed_at"),
    "surveys": ("ts",),
    "outcomes": ("period_end",),
    "milestones": ("due_date", "achieved_at"),
    "touchpoints": ("ts",),
}
# the column that says when a row happened (rows after the world's end are dropped)
HAPPENED = {
    "accounts": "created_at", "subscriptions": "start_date", "users": "created_at",
    "events": "ts", "tickets": "opened_at", "surveys": "ts", "outcomes": "period_end",
    "milestones": "due_date", "touchpoints": "ts",
}  # fmt: skip
IDS = ("account_id", "user_id", "subscription_id", "ticket_id", "response_id", "touchpoint_id")


def _copy(tables: Tables) -> Tables:
    return {name: frame.copy() for name, frame in tables.items()}


def drop_module_usage(tables: Tables, module: str, after: datetime) -> Tables:
    """`module`'s events after `after` are gone (renamed by a release, lost by the export)."""
    changed = _copy(tables)
    events = changed["events"]
    gone = (events["module"] == module) & (pd.to_datetime(events["ts"]) > pd.Timestamp(after))
    changed["events"] = events.loc[~gone].reset_index(drop=True)
    return changed


def log_fewer_events(tables: Tables, after: datetime, keep: float = 0.5, seed: int = 0) -> Tables:
    """After `after`, each `view` and `action` event is logged with probability `keep`."""
    rng = np.random.default_rng(seed)
    changed = _copy(tables)
    events = changed["events"]
    thinned = events["event_type"].isin(["view", "action"]) & (
        pd.to_datetime(events["ts"]) > pd.Timestamp(after)
    )
    lost = thinned.to_numpy() & (rng.random(len(events)) >= keep)
    changed["events"] = events.loc[~lost].reset_index(drop=True)
    return changed


def reprice(tables: Tables, after: datetime, factor: float) -> Tables:
    """Every subscription row in force on or after `after` costs `factor` times as much.

    Applied to whole terms (an export keeps one ARR per term), so compare the result with
    a reference taken from the tables before the change, as a champion trained earlier has.
    """
    changed = _copy(tables)
    subscriptions = changed["subscriptions"]
    later = pd.to_datetime(subscriptions["end_date"]) > pd.Timestamp(after)
    subscriptions.loc[later, "arr"] = subscriptions.loc[later, "arr"] * factor
    return changed


def add_small_accounts(
    tables: Tables,
    after: datetime,
    count: int,
    world_end: datetime,
    shrink: float = 0.2,
    seed: int = 0,
) -> Tables:
    """Add `count` new customers signed in the 20 days after `after`, `shrink` times as big.

    Each is a copy of an existing account's history from its creation, moved in time (ids
    suffixed `_n<k>`); rows after `world_end` are dropped and terms still running then
    have no outcome yet.
    """
    rng = np.random.default_rng(seed)
    accounts = tables["accounts"]
    created = pd.to_datetime(accounts["created_at"])
    young = accounts.loc[created >= created.min() + pd.Timedelta(days=400), "account_id"]
    pool = young if len(young) >= count else accounts["account_id"]
    chosen = rng.choice(pool.to_numpy(), size=count, replace=False)
    birth = dict(zip(accounts["account_id"], created, strict=True))
    shift = {
        a: pd.Timestamp(after) + pd.Timedelta(days=float(rng.uniform(0, 20))) - birth[a]
        for a in chosen
    }
    end = pd.Timestamp(world_end)
    changed = _copy(tables)
    for name, frame in tables.items():
        rows = frame.loc[frame["account_id"].isin(chosen)].copy()
        if rows.empty:
            continue
        moved = rows["account_id"].map(shift)
        for column in TIMES.get(name, ()):
            stamps = pd.to_datetime(rows[column]) + moved
            rows[column] = stamps.dt.date if _is_date_column(frame[column]) else stamps
        rows = rows.loc[pd.to_datetime(rows[HAPPENED[name]]) <= end]
        for id_column in IDS:
            if id_column in rows:
                rows[id_column] = rows[id_column].map(
                    lambda value: value if pd.isna(value) else f"{value}_n{count}"
                )
        if name == "subscriptions":
            running = pd.to_datetime(rows["end_date"]) > end
            rows.loc[running, "outcome"] = None
            rows["arr"] = rows["arr"] * shrink
            rows["seats"] = np.maximum(1, np.round(rows["seats"] * shrink)).astype(int)
        if name == "accounts":
            rows["employees"] = np.maximum(1, np.round(rows["employees"] * shrink)).astype(int)
        if name == "users":
            late = pd.to_datetime(rows["deactivated_at"]) > end
            rows.loc[late, "deactivated_at"] = pd.NaT
        if name == "tickets":
            late = pd.to_datetime(rows["closed_at"]) > end
            rows.loc[late, "closed_at"] = pd.NaT
        if name == "milestones":
            late = pd.to_datetime(rows["achieved_at"]) > end
            rows.loc[late, "achieved_at"] = pd.NaT
        changed[name] = pd.concat([frame, rows], ignore_index=True)
    return changed


def _is_date_column(column: pd.Series) -> bool:
    """Whether a column holds dates (not timestamps)."""
    sample = column.dropna()
    return len(sample) > 0 and not isinstance(sample.iloc[0], pd.Timestamp | datetime)


def new_churn_cause(
    tables: Tables, after: datetime, segment: set[str], probability: float, seed: int = 0
) -> Tables:
    """From `after` on, accounts in `segment` leave at a renewal with `probability`.

    Each renewal decided after `after` (a term ending then, `renewed`) becomes `churned`
    with that probability, the cause lasting: the account leaves at the first one. Its
    later terms and everything it did after leaving are dropped, as if it had left.
    """
    rng = np.random.default_rng(seed)
    changed = _copy(tables)
    subscriptions = changed["subscriptions"]
    ends = pd.to_datetime(subscriptions["end_date"])
    decided = (
        subscriptions["account_id"].isin(segment)
        & (ends > pd.Timestamp(after))
        & (subscriptions["outcome"] == "renewed")
        & subscriptions["kind"].isin(["new", "renewal"])
    )
    renewals = subscriptions.loc[decided].sort_values("end_date")
    leaves = renewals.loc[rng.uniform(size=len(renewals)) < probability]
    flipped = leaves.drop_duplicates("account_id")  # an account leaves at its first such renewal
    left = dict(zip(flipped["account_id"], pd.to_datetime(flipped["end_date"]), strict=True))
    subscriptions.loc[flipped.index, "outcome"] = "churned"
    for name, frame in changed.items():
        if name == "accounts" or name not in HAPPENED:
            continue
        gone = frame["account_id"].map(left)
        when = pd.to_datetime(frame[HAPPENED[name]])
        later = gone.notna() & (when >= gone)
        if name == "subscriptions":
            later &= ~frame.index.isin(flipped.index)
        changed[name] = frame.loc[~later].reset_index(drop=True)
    return changed
