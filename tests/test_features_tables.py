"""Helpers that build the typed contract views from small DataFrames (plus their tests)."""

from __future__ import annotations

import duckdb
import pandas as pd

from features.contract import TABLES, create_table_sql


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


def test_typed_connection_has_all_tables_even_when_missing() -> None:
    con = typed_connection(
        {"accounts": pd.DataFrame({"account_id": ["a"], "created_at": ["2024-01-01"]})}
    )
    names = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert names == set(TABLES)
    assert con.execute("SELECT COUNT(*) FROM tickets").fetchall() == [(0,)]
    assert con.execute("SELECT account_id FROM accounts").fetchall() == [("a",)]
