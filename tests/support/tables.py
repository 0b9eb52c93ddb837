"""Typed contract tables in DuckDB, and seeded random worlds with every table filled.

`random_world` draws a world whose rows fall at random moments (not only midnights);
`change_after` adds, changes and removes every kind of row dated after a time T, the
point-in-time tests' way of changing the future.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from features.contract import ACTION_CODES, TABLES, create_table_sql

START = pd.Timestamp("2023-01-01")
DAYS = 720


def _stamps(rng: np.random.Generator, n: int, lo: float = 0, hi: float = DAYS) -> pd.Series:
    return pd.Series(START + pd.to_timedelta(rng.uniform(lo, hi, n), unit="D")).dt.round("s")


def typed_connection(tables: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with all nine typed contract tables, filled from `tables`.

    Missing tables are empty; missing columns are null.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in TABLES.items():
        con.execute(create_table_sql(table))
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        frame = frame.copy()
        for column in table.column_names:
            if column not in frame:
                frame[column] = None
        con.register("incoming", frame[list(table.column_names)])
        casts = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in table.columns)
        con.execute(f'INSERT INTO "{name}" SELECT {casts} FROM incoming')
        con.unregister("incoming")
    return con


def random_world(seed: int, n_accounts: int = 30) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"acc-{i}" for i in range(n_accounts)]
    accounts = pd.DataFrame({"account_id": ids, "created_at": _stamps(rng, n_accounts, 0, 200)})
    subs = []
    for i, account in enumerate(ids):
        start = accounts["created_at"][i].normalize()
        months = int(rng.choice([1, 6, 12]))
        for term in range(40):
            end = start + pd.DateOffset(months=months)
            kind = "new" if term == 0 else "renewal"
            churned = rng.random() < 0.15
            outcome = (
                None
                if end > START + pd.Timedelta(days=DAYS)
                else ("churned" if churned else "renewed")
            )
            subs.append(
                (
                    f"s{i}-{term}",
                    account,
                    kind,
                    start,
                    end,
                    float(rng.integers(50, 500)),
                    int(rng.integers(1, 20)),
                    outcome,
                )
            )
            if rng.random() < 0.4:
                subs.append(
                    (
                        f"x{i}-{term}",
                        account,
                        "expansion",
                        start + (end - start) / 2,
                        end,
                        float(rng.integers(5, 50)),
                        int(rng.integers(1, 5)),
                        None,
                    )
                )
            if outcome != "renewed":
                break
            start = end
    columns = [
        "subscription_id",
        "account_id",
        "kind",
        "start_date",
        "end_date",
        "arr",
        "seats",
        "outcome",
    ]
    subscriptions = pd.DataFrame(subs, columns=columns)
    n_users = n_accounts * 5
    created = _stamps(rng, n_users, 0, DAYS - 60)
    users = pd.DataFrame(
        {
            "user_id": [f"user {i}" for i in range(n_users)],
            "account_id": rng.choice(ids, n_users),
            "is_key_user": rng.random(n_users) < 0.3,
            "created_at": created,
            "deactivated_at": created
            + pd.to_timedelta(
                np.where(rng.random(n_users) < 0.4, rng.uniform(1, 400, n_users), np.nan), unit="D"
            ),
        }
    )
    n_events = 6000
    user_index = rng.integers(0, n_users, n_events)
    events = pd.DataFrame(
        {
            "ts": _stamps(rng, n_events),
            "account_id": users["account_id"].to_numpy()[user_index],
            "user_id": np.where(
                rng.random(n_events) < 0.05,
                np.array(None, dtype=object),
                users["user_id"].to_numpy()[user_index],
            ),
            "module": rng.choice(["Reports", "Mod/ä", "x y", "7"], n_events),
            "feature": rng.choice(np.array(["a", "b", None], dtype=object), n_events),
            "event_type": rng.choice(["view", "action", "value"], n_events),
            "duration_s": rng.uniform(0, 600, n_events),
        }
    )

    def dated(n: int, prefix: str) -> pd.DataFrame:
        return pd.DataFrame(
            {prefix: [f"{prefix}{i}" for i in range(n)], "account_id": rng.choice(ids, n)}
        )

    tickets = dated(300, "ticket_id")
    tickets["opened_at"] = _stamps(rng, 300)
    tickets["closed_at"] = tickets["opened_at"] + pd.to_timedelta(
        np.where(rng.random(300) < 0.8, rng.uniform(0.1, 60, 300), np.nan), unit="D"
    )
    tickets["priority"] = rng.choice(["low", "normal", "high", "urgent"], 300)
    tickets["category"] = rng.choice(["bug", "how_to", "billing"], 300)
    tickets["csat"] = np.where(rng.random(300) < 0.5, rng.integers(1, 6, 300), np.nan)
    surveys = dated(200, "response_id")
    surveys["ts"] = _stamps(rng, 200)
    surveys["score"] = rng.integers(0, 11, 200)
    touchpoints = dated(300, "touchpoint_id")
    touchpoints["ts"] = _stamps(rng, 300)
    touchpoints["type"] = rng.choice([*ACTION_CODES, "other"], 300)
    milestones = pd.DataFrame({"account_id": ids, "milestone": "first_value"})
    milestones["due_date"] = (accounts["created_at"] + pd.Timedelta(days=60)).dt.normalize()
    milestones["achieved_at"] = accounts["created_at"] + pd.to_timedelta(
        np.where(rng.random(n_accounts) < 0.7, rng.uniform(10, 200, n_accounts), np.nan), unit="D"
    )
    periods = pd.date_range(START, periods=24, freq="ME")
    outcomes = pd.DataFrame(
        [(a, p, k) for a in ids[::2] for p in periods for k in ("hours_saved", "cost_saved")],
        columns=["account_id", "period_end", "kpi"],
    )
    outcomes["target"] = rng.choice([0.0, 100.0, 50.0], len(outcomes))
    outcomes["actual"] = rng.uniform(0, 150, len(outcomes))
    return {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "users": users,
        "events": events,
        "tickets": tickets,
        "surveys": surveys,
        "touchpoints": touchpoints,
        "milestones": milestones,
        "outcomes": outcomes,
    }


def _later(rng: np.random.Generator, t: pd.Timestamp, n: int) -> pd.Series:
    return pd.Series(t + pd.to_timedelta(rng.uniform(1e-4, 200, n), unit="D")).dt.round("s")


def change_after(
    world: dict[str, pd.DataFrame], t: pd.Timestamp, seed: int
) -> dict[str, pd.DataFrame]:
    """Add, change and remove every kind of row dated after `t`."""
    rng = np.random.default_rng(seed)
    w = {name: frame.copy() for name, frame in world.items()}

    def rework(name: str, column: str, **changes: str | bool | Callable[[int], np.ndarray]) -> None:
        frame = w[name]
        after = frame[column] > t
        keep = ~after | (rng.random(len(frame)) < 0.5)
        changed = frame[after & keep].copy()
        for col, value in changes.items():
            changed[col] = value(len(changed)) if callable(value) else value
        added = frame[after].head(5).copy()
        if not added.empty:
            added[column] = _later(rng, t, len(added)).to_numpy()
        key = frame.columns[0] if name != "events" else None
        if key and key != "account_id":
            added[key] = [f"new-{key}-{i}" for i in range(len(added))]
        w[name] = pd.concat([frame[~after], changed, added], ignore_index=True)

    rework(
        "events", "ts", module=lambda n: rng.choice(["Brand new", "Reports"], n), event_type="value"
    )
    rework("tickets", "opened_at", priority="urgent", category="bug")
    rework("surveys", "ts", score=lambda n: rng.integers(0, 11, n))
    rework("touchpoints", "ts", type="exec_sponsor_call")
    rework("outcomes", "period_end", actual=lambda n: rng.uniform(0, 500, n))
    rework("users", "created_at", is_key_user=True)
    users, tickets, milestones, subs = w["users"], w["tickets"], w["milestones"], w["subscriptions"]
    left_later = users["deactivated_at"] > t
    new_dates = _later(rng, t, left_later.sum())
    new_dates[rng.random(len(new_dates)) < 0.5] = pd.NaT
    users.loc[left_later, "deactivated_at"] = new_dates.to_numpy()
    active = users["deactivated_at"].isna() & (users["created_at"] <= t)
    users.loc[active, "deactivated_at"] = _later(rng, t, active.sum()).to_numpy()
    closes_later = (tickets["opened_at"] <= t) & ~(tickets["closed_at"] <= t)
    tickets.loc[closes_later, "closed_at"] = _later(rng, t, closes_later.sum()).to_numpy()
    tickets.loc[closes_later, "csat"] = 1
    not_yet = ~(milestones["achieved_at"] <= t)
    milestones.loc[not_yet, "achieved_at"] = _later(rng, t, not_yet.sum()).to_numpy()
    extra = milestones.head(3).assign(
        milestone="adoption",
        due_date=(t + pd.Timedelta(days=9)).normalize(),
        achieved_at=np.datetime64("NaT"),
    )
    w["milestones"] = pd.concat([milestones, extra], ignore_index=True)
    open_at_t = subs["end_date"] > t
    subs.loc[open_at_t & (subs["kind"] != "expansion"), "outcome"] = "churned"
    starts_later = subs["start_date"] > t
    subs.loc[starts_later, "arr"] = 1e6
    w["subscriptions"] = pd.concat(
        [
            subs[~starts_later | (rng.random(len(subs)) < 0.5)],
            subs[~starts_later]
            .head(3)
            .assign(
                subscription_id=lambda f: "late-" + f["subscription_id"],
                kind="expansion",
                start_date=(t + pd.Timedelta(days=2)).normalize(),
            ),
        ],
        ignore_index=True,
    )
    return w


def write_duckdb_file(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """`tables` as the tables of a DuckDB database file at `path` (a `.duckdb` source)."""
    with duckdb.connect(str(path)) as con:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    return path


def with_old_term(subscriptions: pd.DataFrame, years: int = 3) -> pd.DataFrame:
    """`subscriptions` and a renewed term of 'acc-0' ending at START, begun `years` before.

    A random world's terms begin with its accounts, as its events do; a company that billed
    for years before it tracked use (the fifteenth audit) has older ones.
    """
    old = {
        "subscription_id": "old-0",
        "account_id": "acc-0",
        "kind": "new",
        "start_date": START - pd.DateOffset(years=years),
        "end_date": START,
        "arr": 100.0,
        "seats": 5,
        "outcome": "renewed",
    }
    return pd.concat([pd.DataFrame([old]), subscriptions], ignore_index=True)
