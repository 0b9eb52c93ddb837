"""The note on accounts that look re-keyed or merged (the twenty-first audit)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from features.account_moves import moved_accounts_note
from features.contract import TABLES
from retain.cli import app
from tests.support import write_tables
from tests.support.tables import typed_connection


def _tables(old_outcome: str | None = "churned", moved: int = 3) -> dict[str, pd.DataFrame]:
    """'old' ends on 1 Jun 2025; its users go on under 'new' (created then) and 'buyer'."""
    subscriptions = pd.DataFrame(
        [
            ("o1", "old", "new", "2024-06-01", "2025-06-01", 100.0, old_outcome),
            ("n1", "new", "new", "2025-06-01", "2026-06-01", 100.0, None),
            ("b1", "buyer", "new", "2024-01-01", "2026-01-01", 300.0, None),
        ],
        columns=[
            "subscription_id",
            "account_id",
            "kind",
            "start_date",
            "end_date",
            "arr",
            "outcome",
        ],
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["old", "new", "buyer"],
            "created_at": ["2024-06-01", "2025-06-01", "2024-01-01"],
        }
    )
    users = [f"u{n}" for n in range(4)]
    rows = [(f"2025-0{m}-10", "old", u) for m in (3, 4, 5) for u in users]
    rows += [(f"2025-0{m}-10", "new", u) for m in (6, 7) for u in users[:moved]]
    rows += [("2025-07-10", "buyer", "b0"), ("2025-08-01", "buyer", "b0")]
    events = pd.DataFrame(rows, columns=["ts", "account_id", "user_id"]).assign(
        module="m", event_type="view"
    )
    users_table = pd.DataFrame({"user_id": [*users, "b0"], "account_id": ["new"] * 4 + ["buyer"]})
    return {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "events": events,
        "users": users_table,
    }


def test_a_re_keyed_account_is_noted_with_its_new_id() -> None:
    # 20 re-keyed accounts of 600 read as churned, their new ids as brand-new accounts,
    # and validate said nothing.
    note = moved_accounts_note(typed_connection(_tables()))
    assert note is not None
    assert note.startswith("Note: 1 account whose latest term ended churned or with no outcome")
    assert "'old' to 'new' (3 users, its term ending 01 Jun 2025 churned; a new account)" in note
    assert "1 to an account created then" in note
    assert "write every row under one account_id" in note
    unsettled = moved_accounts_note(typed_connection(_tables(old_outcome=None)))
    assert unsettled is not None and "01 Jun 2025 with no outcome" in unsettled


def test_a_merger_names_the_other_customer() -> None:
    tables = _tables()
    events = tables["events"]
    tables["events"] = events.assign(account_id=events.account_id.replace({"new": "buyer"}))
    note = moved_accounts_note(typed_connection(tables))
    assert note is not None
    assert (
        "'old' to 'buyer' (3 users, its term ending 01 Jun 2025 churned; another customer)" in note
    )
    assert "0 to an account created then" in note


def test_no_note_for_a_renewal_a_single_user_or_a_late_move() -> None:
    assert moved_accounts_note(typed_connection(_tables(old_outcome="renewed"))) is None
    assert moved_accounts_note(typed_connection(_tables(moved=1))) is None  # a consultant
    tables = _tables()
    events = tables["events"]
    late = events.account_id == "new"
    tables["events"] = events.assign(ts=events.ts.where(~late, "2025-11-10"))  # 5 months on
    assert moved_accounts_note(typed_connection(tables)) is None


def test_validate_says_the_note(tmp_path: Path) -> None:
    tables = _tables()
    tables["users"] = tables["users"].assign(
        created_at=pd.Timestamp("2024-06-01"),
        is_key_user=False,
        deactivated_at=pd.Series([pd.NaT] * 5),
    )
    tables = {
        name: frame.reindex(columns=list(TABLES[name].column_names))
        for name, frame in tables.items()
    }
    directory = write_tables(tables, tmp_path / "source", "parquet")
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Note: 1 account whose latest term ended churned or with no outcome" in said
