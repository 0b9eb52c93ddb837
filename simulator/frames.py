"""Turn the simulator's index-coded rows into contract tables and ground-truth frames."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.contract import ACTION_CODES, TABLES
from simulator import config as c
from simulator.accounts import DAY
from simulator.state import RowBuffer, dates, timestamps

if TYPE_CHECKING:
    from simulator.world import _Run


def _labels(values: tuple[str, ...] | list[str], codes: np.ndarray) -> np.ndarray:
    """Map integer codes to strings (-1 = null)."""
    lookup = np.array(list(values) + [None], dtype=object)
    return lookup[np.where(codes < 0, len(values), codes).astype("int64")]


def _ids(prefix: str, n: int, width: int = 7) -> np.ndarray:
    return np.array([f"{prefix}_{i:0{width}d}" for i in range(n)], dtype=object)


def _nullable_int(values: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(np.where(values < 0, 0, values), dtype="Int64")).mask(values < 0)


def _decode(codes: np.ndarray, categories: np.ndarray | list[str]) -> pd.Series:
    """Integer codes to a string column, fast for millions of rows."""
    labels = pd.Index([str(x) for x in categories])
    return pd.Series(pd.Categorical.from_codes(codes.astype("int64"), categories=labels)).astype(
        str
    )


def _events(rows: RowBuffer, account_ids: np.ndarray, user_ids: np.ndarray) -> pd.DataFrame:
    features = [name for module in c.FEATURES for name in module]
    return pd.DataFrame(
        {
            "ts": timestamps(rows.column("ts")),
            "account_id": _decode(rows.column("account"), account_ids),
            "user_id": _decode(rows.column("user"), user_ids),
            "module": _decode(rows.column("module"), list(c.MODULES)),
            "feature": _decode(rows.column("feature"), features),
            "event_type": _decode(rows.column("event_type"), list(c.EVENT_TYPES)),
            "duration_s": rows.column("duration_s").astype(float),
        }
    )


def contract_frames(
    run: _Run, accounts: pd.DataFrame, months: int
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """All nine contract tables and the two ground-truth frames of a finished run."""
    p, users, rows = run.p, run.users, run.rows
    account_ids = p.account_ids
    user_ids = _ids("usr", len(users.account))
    empty = RowBuffer()
    roles = c.KEY_ROLES + c.OTHER_ROLES
    tables: dict[str, pd.DataFrame] = {"accounts": accounts}
    tables["subscriptions"] = run.book.frame(account_ids)
    tables["users"] = pd.DataFrame(
        {
            "user_id": user_ids,
            "account_id": account_ids[users.account],
            "role": np.array(roles, dtype=object)[users.role],
            "is_key_user": users.is_key.astype(bool),
            "created_at": timestamps(users.created_s),
            "deactivated_at": timestamps(users.deactivated_s),
        }
    )
    tables["events"] = _events(rows.get("events", empty), account_ids, user_ids)

    t = rows.get("tickets", empty)
    tables["tickets"] = pd.DataFrame(
        {
            "ticket_id": _ids("tkt", len(t)),
            "account_id": account_ids[t.column("account").astype("int64")],
            "opened_at": timestamps(t.column("opened_s")),
            "closed_at": timestamps(t.column("closed_s")),
            "priority": _labels(c.PRIORITIES, t.column("priority")),
            "category": _labels(c.TICKET_CATEGORIES, t.column("category")),
            "csat": _nullable_int(t.column("csat").astype("int64")),
        }
    )
    v = rows.get("surveys", empty)
    who = v.column("user").astype("int64")
    tables["surveys"] = pd.DataFrame(
        {
            "response_id": _ids("nps", len(v)),
            "account_id": account_ids[v.column("account").astype("int64")],
            "user_id": np.where(who >= 0, user_ids[np.maximum(who, 0)], None),
            "ts": timestamps(v.column("ts")),
            "score": v.column("score").astype("int64"),
            "comment": _labels(c.NPS_COMMENTS, v.column("comment").astype("int64")),
        }
    )
    o = rows.get("outcomes", empty)
    kpis = [c.KPI_OF_DRIVER[d] for d in c.VALUE_DRIVERS]
    tables["outcomes"] = pd.DataFrame(
        {
            "account_id": account_ids[o.column("account").astype("int64")],
            "period_end": dates(o.column("period_end")),
            "kpi": _labels(kpis, o.column("kpi").astype("int64")),
            "target": o.column("target").astype(float),
            "actual": o.column("actual").astype(float),
        }
    )
    tables["milestones"] = _milestones(run)
    tp = rows.get("touchpoints", empty)
    action = tp.column("action").astype("int64")
    owners = np.array(c.CSMS, dtype=object)[p.csm]
    tp_acc = tp.column("account").astype("int64")
    notes = np.array([c.TOUCHPOINT_NOTES[a] for a in ACTION_CODES], dtype=object)
    tables["touchpoints"] = pd.DataFrame(
        {
            "touchpoint_id": _ids("tp", len(tp)),
            "account_id": account_ids[tp_acc],
            "ts": timestamps(tp.column("ts")),
            "type": _labels(ACTION_CODES, action),
            "owner": owners[tp_acc],
            "notes": notes[action] if len(action) else np.array([], dtype=object),
        }
    )
    for name, table in TABLES.items():
        tables[name] = tables[name][list(table.column_names)]
    return tables, _truth(rows, account_ids)


def _milestones(run: _Run) -> pd.DataFrame:
    """first_value (due 1-3 months after signing) and go_live (due after 30 days)."""
    p, s, rng = run.p, run.s, run.rng
    signed = np.flatnonzero(p.created_s < run.window_end_s)
    live_at = p.created_s[signed] + (rng.exponential(15.0, len(signed)) * DAY).astype("int64")
    reached = (rng.random(len(signed)) < 0.92) & (live_at < run.window_end_s)
    live_at = np.where(reached, live_at, -1)
    n = len(signed)
    return pd.DataFrame(
        {
            "account_id": np.concatenate([p.account_ids[signed]] * 2),
            "milestone": np.repeat(np.array(["first_value", "go_live"], dtype=object), n),
            "due_date": dates(np.concatenate([s.fv_due_day[signed], p.created_day[signed] + 30])),
            "achieved_at": timestamps(np.concatenate([s.fv_at_s[signed], live_at])),
        }
    )


def _truth(rows: dict[str, RowBuffer], account_ids: np.ndarray) -> dict[str, pd.DataFrame]:
    empty = RowBuffer()
    churn = rows.get("truth_churn", empty)
    effects = rows.get("truth_effects", empty)
    return {
        "churn": pd.DataFrame(
            {
                "account_id": account_ids[churn.column("account").astype("int64")],
                "as_of": timestamps(churn.column("as_of")),
                "churn_probability": churn.column("churn"),
                "upsell_probability": churn.column("upsell"),
                "churn_probability_if_unchanged": churn.column("churn_if_unchanged"),
            }
        ),
        "action_effects": pd.DataFrame(
            {
                "account_id": account_ids[effects.column("account").astype("int64")],
                "as_of": timestamps(effects.column("as_of")),
                "action": _labels(ACTION_CODES, effects.column("action").astype("int64")),
                "effect": effects.column("effect"),
                "effect_if_unchanged": effects.column("effect_if_unchanged"),
            }
        ),
    }
