"""Helpers that build the typed contract views from small DataFrames (plus their tests)."""

from __future__ import annotations

import pandas as pd

from features.contract import TABLES
from tests.support.tables import typed_connection


def test_typed_connection_has_all_tables_even_when_missing() -> None:
    con = typed_connection(
        {"accounts": pd.DataFrame({"account_id": ["a"], "created_at": ["2024-01-01"]})}
    )
    names = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert names == set(TABLES)
    assert con.execute("SELECT COUNT(*) FROM tickets").fetchall() == [(0,)]
    assert con.execute("SELECT account_id FROM accounts").fetchall() == [("a",)]
