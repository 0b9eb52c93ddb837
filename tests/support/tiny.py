"""A tiny hand-made customer base, valid by the data contract.

Three accounts: 1001 renewed once and expanded, 1002 churned, 1003 is in its first term.
Every one of the nine contract tables has a few rows, in the column order of
`features.contract`, so that tests can break one thing at a time. `late_closings` adds
tickets closed days after the last event (a table running past the end of the data).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from features.contract import TABLES


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def tiny_world() -> dict[str, pd.DataFrame]:
    """A fresh copy of the nine contract tables for three accounts."""
    frames = {
        "accounts": pd.DataFrame(
            {
                "account_id": ["1001", "1002", "1003"],
                "name": ["Acme", "Globex", "Initech"],
                "industry": ["retail", "energy", None],
                "region": ["EMEA", "NA", "APAC"],
                "employees": pd.array([250, 40, None], dtype="Int64"),
                "created_at": [_ts("2023-01-01"), _ts("2023-03-01 08:30"), _ts("2024-02-01")],
                "csm_owner": ["dana", "lee", None],
                "value_driver": ["revenue", "cost", None],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "subscription_id": ["s1", "s2", "s3", "s4", "s5"],
                "account_id": ["1001", "1001", "1001", "1002", "1003"],
                "kind": ["new", "renewal", "expansion", "new", "new"],
                "start_date": [
                    date(2023, 1, 1),
                    date(2024, 1, 1),
                    date(2024, 6, 1),
                    date(2023, 3, 1),
                    date(2024, 2, 1),
                ],
                "end_date": [
                    date(2024, 1, 1),
                    date(2025, 1, 1),
                    date(2025, 1, 1),
                    date(2024, 3, 1),
                    date(2025, 2, 1),
                ],
                "arr": [12000.0, 13000.0, 2500.5, 8000.0, 20000.0],
                "seats": pd.array([10, 12, 3, 5, None], dtype="Int64"),
                "plan": ["pro", "pro", "pro", "basic", "enterprise"],
                "outcome": ["renewed", None, None, "churned", None],
            }
        ),
        "users": pd.DataFrame(
            {
                "user_id": ["u1", "u2", "u3", "u4", "u5"],
                "account_id": ["1001", "1001", "1002", "1003", "1003"],
                "role": ["admin", "member", "champion", "executive", None],
                "is_key_user": [True, False, True, True, False],
                "created_at": [
                    _ts("2023-01-02"),
                    _ts("2023-02-01"),
                    _ts("2023-03-02"),
                    _ts("2024-02-02"),
                    _ts("2024-02-03"),
                ],
                "deactivated_at": [None, _ts("2024-05-01"), _ts("2024-01-15"), None, None],
            }
        ),
        "events": pd.DataFrame(
            {
                "ts": [
                    _ts("2024-01-10 09:00"),
                    _ts("2024-01-10 09:05:30"),
                    _ts("2024-01-11 14:00"),
                    _ts("2024-01-12 10:00"),
                    _ts("2024-02-05 11:00"),
                    _ts("2024-02-06 12:00"),
                ],
                "account_id": ["1001", "1001", "1001", "1002", "1003", "1003"],
                "user_id": ["u1", "u2", None, "u3", "u4", "u5"],
                "module": ["reports", "reports", "campaigns", "reports", "admin", "reports"],
                "feature": ["export", None, "send", "view", "sso", "export"],
                "event_type": ["view", "action", "value", "view", "action", "value"],
                "duration_s": [30.0, 12.5, None, 4.0, 60.0, 0.0],
            }
        ),
        "tickets": pd.DataFrame(
            {
                "ticket_id": ["t1", "t2", "t3"],
                "account_id": ["1001", "1002", "1002"],
                "opened_at": [_ts("2024-01-03"), _ts("2023-11-01"), _ts("2024-02-01")],
                "closed_at": [_ts("2024-01-04"), _ts("2023-11-20"), None],
                "priority": ["low", "urgent", None],
                "category": ["how_to", "bug", "migration"],
                "csat": pd.array([5, 1, None], dtype="Int64"),
            }
        ),
        "surveys": pd.DataFrame(
            {
                "response_id": ["r1", "r2"],
                "account_id": ["1001", "1002"],
                "user_id": ["u1", None],
                "ts": [_ts("2023-12-01"), _ts("2023-12-02")],
                "score": [9, 3],
                "comment": ["great", None],
            }
        ),
        "outcomes": pd.DataFrame(
            {
                "account_id": ["1001", "1001", "1003"],
                "period_end": [date(2023, 6, 30), date(2023, 12, 31), date(2024, 6, 30)],
                "kpi": ["revenue_uplift_pct", "revenue_uplift_pct", "hours_saved"],
                "target": [5.0, 8.0, 100.0],
                "actual": [6.5, 7.0, None],
            }
        ),
        "milestones": pd.DataFrame(
            {
                "account_id": ["1001", "1003"],
                "milestone": ["first_value", "first_value"],
                "due_date": [date(2023, 3, 1), date(2024, 4, 1)],
                "achieved_at": [_ts("2023-02-20"), None],
            }
        ),
        "touchpoints": pd.DataFrame(
            {
                "touchpoint_id": ["p1", "p2"],
                "account_id": ["1002", "1001"],
                "ts": [_ts("2023-12-10"), _ts("2024-01-20")],
                "type": ["exec_sponsor_call", "business_review"],
                "owner": ["lee", None],
                "notes": [None, "QBR"],
            }
        ),
    }
    assert list(frames) == list(TABLES)
    for name, frame in frames.items():
        assert tuple(frame.columns) == TABLES[name].column_names, name
    return frames


LAST_EVENT = datetime(2024, 2, 6, 12)  # the tiny world's latest activity: an event
CLOSED_LATE = ["2024-02-09", "2024-02-10", "2024-02-11 08:00", "2024-02-12", "2024-02-14",
               "2024-02-15 17:30"]  # fmt: skip


def late_closings(closed: Sequence[str | None] | None = None) -> dict[str, pd.DataFrame]:
    """The tiny world with six tickets opened before its last event and closed days after it.

    The sixth audit's export: up to nine days after (an exporter's clock, or a help desk
    exported days after the product usage). `closed`: their closing times instead (None:
    still open).
    """
    tables = tiny_world()
    moments = CLOSED_LATE if closed is None else closed
    added = pd.DataFrame(
        {
            "ticket_id": [f"late{i}" for i in range(6)],
            "account_id": ["1001", "1003"] * 3,
            "opened_at": pd.Timestamp("2024-02-02 10:00"),
            "closed_at": [None if c is None else pd.Timestamp(c) for c in moments],
            "priority": "normal",
            "category": "bug",
            "csat": pd.array([None] * 6, dtype="Int64"),
        }
    )
    tables["tickets"] = pd.concat([tables["tickets"], added], ignore_index=True)
    return tables


def write_tables(tables: dict[str, pd.DataFrame], directory: Path, fmt: str = "csv") -> Path:
    """Write each table as `<table>.csv` or `<table>.parquet` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(directory / f"{name}.csv", index=False)
        else:
            frame.to_parquet(directory / f"{name}.parquet", index=False)
    return directory
