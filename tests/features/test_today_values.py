"""validate's notes on CRM columns that hold only today's value, on small hand-made tables.

The seventeenth audit's export was the simulator's world as a CRM keeps it: churned
accounts' `employees` cleared or refreshed and their `csm_owner` handed to a house owner,
and the key-user flag moved from a departed key user to the successor. It followed the
contract and validate said nothing; the churn model's test ROC-AUC rose on the leak.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from features.contract import TABLES
from features.today_values import churned_accounts_note, moved_key_flags_note
from retain.cli import app
from tests.support import write_tables
from tests.support.tables import typed_connection

CREATED = pd.Timestamp("2023-01-01")


def _book(churned: int, renewed: int) -> dict[str, pd.DataFrame]:
    """`churned` accounts whose one term churned and `renewed` whose latest is open."""
    ids = [f"c{i}" for i in range(churned)] + [f"r{i}" for i in range(renewed)]
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": CREATED,
            "employees": 120,
            "csm_owner": ["Dana Kim", "Lee Park"] * (len(ids) // 2) + ["Dana Kim"] * (len(ids) % 2),
            "region": "EMEA",
        }
    )
    rows: list[tuple[str, str, str, str, str, str | None]] = []
    for account in ids:
        gone = account.startswith("c")
        rows.append((f"{account}-1", account, "new", "2023-01-01", "2024-01-01",
                     "churned" if gone else "renewed"))  # fmt: skip
        if not gone:
            rows.append((f"{account}-2", account, "renewal", "2024-01-01", "2026-01-01", None))
    terms = pd.DataFrame(
        rows, columns=["subscription_id", "account_id", "kind", "start_date", "end_date", "outcome"]
    ).assign(arr=1000.0)
    for column in ("start_date", "end_date"):
        terms[column] = pd.to_datetime(terms[column]).dt.date
    return {"accounts": accounts, "subscriptions": terms}


def test_churned_accounts_with_size_cleared_and_a_house_owner_are_named() -> None:
    book = _book(churned=20, renewed=40)
    assert churned_accounts_note(typed_connection(book)) is None
    accounts = book["accounts"].astype({"employees": "Int64", "csm_owner": object})
    gone = accounts.account_id.str.startswith("c")
    accounts.loc[gone & (accounts.index % 2 == 0), "employees"] = pd.NA  # 10 of 20 cleared
    accounts.loc[gone, "csm_owner"] = "House Account"
    accounts.loc[accounts.account_id == "r0", "employees"] = pd.NA  # one live account too
    note = churned_accounts_note(typed_connection({**book, "accounts": accounts}))
    assert note is not None
    assert note.startswith(
        "Note: the accounts table looks rewritten after accounts left: `employees` is missing"
        " at 10 of the 20 churned accounts (50%) against 1 of 40 others (2%); `csm_owner`"
        " 'House Account' belongs to 20 accounts, all churned."
    )
    assert "`employees` is a feature of the churn and upsell models" in note


def test_a_churned_accounts_pattern_shared_by_live_accounts_is_no_note() -> None:
    book = _book(churned=20, renewed=40)
    accounts = book["accounts"].astype({"employees": "Int64"})
    # sizes unknown at a third of every account, churned or not: no rewrite to name
    accounts.loc[accounts.index % 3 == 0, "employees"] = pd.NA
    accounts["csm_owner"] = "House Account"  # one owner for the whole book
    assert churned_accounts_note(typed_connection({**book, "accounts": accounts})) is None
    # a win-back: its latest term is a new one in force, so it is no churned account
    back = _book(churned=20, renewed=0)
    back["accounts"]["employees"] = pd.array([None] * 20, dtype="Int64")
    terms = back["subscriptions"]
    returns = terms.assign(
        subscription_id=terms.subscription_id + "-back",
        start_date=pd.Timestamp("2024-06-01").date(),
        end_date=pd.Timestamp("2025-06-01").date(),
        outcome=None,
    )
    back["subscriptions"] = pd.concat([terms, returns], ignore_index=True)
    assert churned_accounts_note(typed_connection(back)) is None


def _users(unflagged: int) -> pd.DataFrame:
    """30 active admins (key users) and 20 who left, `unflagged` of them no longer key users."""
    gone: pd.Timestamp | None = pd.Timestamp("2024-06-01")
    active = [(f"a{i}", "admin", True, None) for i in range(30)]
    left = [(f"l{i}", "admin", i >= unflagged, gone) for i in range(20)]
    members = [(f"m{i}", "member", False, gone) for i in range(40)]
    frame = pd.DataFrame(
        active + left + members, columns=["user_id", "role", "is_key_user", "deactivated_at"]
    )
    return frame.assign(account_id="c0", created_at=CREATED)


def test_departed_users_of_a_key_role_without_the_flag_are_named() -> None:
    assert moved_key_flags_note(typed_connection({"users": _users(unflagged=0)})) is None
    assert moved_key_flags_note(typed_connection({"users": _users(unflagged=9)})) is None
    note = moved_key_flags_note(typed_connection({"users": _users(unflagged=12)}))
    assert note is not None
    assert note.startswith(
        "Note: 12 users who left are not key users though their role is one key users hold"
        " ('admin': 12 of the 20 who left, while 100% of the 30 still active are key users)."
    )
    assert "set it on the departed key users" in note


def test_validate_says_both_notes(tmp_path: Path) -> None:
    book = _book(churned=20, renewed=40)
    accounts = book["accounts"].astype({"employees": "Int64"})
    accounts.loc[accounts.account_id.str.startswith("c"), "employees"] = pd.NA
    users = _users(unflagged=12)
    tables = {
        "accounts": accounts,
        "subscriptions": book["subscriptions"],
        "users": users,
        "events": pd.DataFrame(
            {
                "ts": [pd.Timestamp("2025-06-01")],
                "account_id": ["r0"],
                "user_id": ["a0"],
                "module": ["m"],
                "event_type": ["view"],
            }
        ),  # fmt: skip
    }
    for name, frame in tables.items():  # every contract column, nullable ones empty
        tables[name] = frame.reindex(columns=list(TABLES[name].column_names))
    directory = write_tables(tables, tmp_path / "source", "parquet")
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Note: the accounts table looks rewritten after accounts left" in said
    assert "Note: 12 users who left are not key users" in said
