"""Copy contract tables from PostgreSQL into DuckDB, in batches, without extensions.

DuckDB's postgres extension would be downloaded at run time, so the tables are
read with psycopg through a server-side cursor and appended to DuckDB tables in
Arrow batches: the largest table (events) never sits whole in Python.

URL: `postgresql://user[:password]@host[:port]/db[?schema=<name>]`. Without
`schema` the connection's current schema is used (which
`?options=-csearch_path%3D<name>` sets). Timestamps with a zone are converted to
UTC on the server; types DuckDB has no direct reading for are copied as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from features.casting import quote
from features.contract import TABLES

if TYPE_CHECKING:
    from features.source import Source

BATCH_ROWS = 50_000

# PostgreSQL data_type -> (select expression template, DuckDB type, Arrow type)
_TYPES: dict[str, tuple[str, str, pa.DataType]] = {
    "smallint": ("{c}", "BIGINT", pa.int64()),
    "integer": ("{c}", "BIGINT", pa.int64()),
    "bigint": ("{c}", "BIGINT", pa.int64()),
    "real": ("{c}::float8", "DOUBLE", pa.float64()),
    "double precision": ("{c}", "DOUBLE", pa.float64()),
    "numeric": ("{c}::float8", "DOUBLE", pa.float64()),
    "boolean": ("{c}", "BOOLEAN", pa.bool_()),
    "date": ("{c}", "DATE", pa.date32()),
    "timestamp without time zone": ("{c}", "TIMESTAMP", pa.timestamp("us")),
    "timestamp with time zone": ("({c} AT TIME ZONE 'UTC')", "TIMESTAMP", pa.timestamp("us")),
}
_TEXT = ("{c}::text", "VARCHAR", pa.string())


def split_url(url: str) -> tuple[str, str | None]:
    """Split a source URL into the libpq connection URL and the `schema` parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def _columns(cursor: Any, schema: str) -> dict[str, list[tuple[str, str]]]:
    cursor.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = ANY(%s) ORDER BY table_name, ordinal_position",
        (schema, list(TABLES)),
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in cursor.fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _missing_schema(cursor: Any, schema: str) -> str | None:
    """Why nothing was found when `schema` does not exist (a typo in `?schema=`), else None."""
    # pg_namespace lists every schema, also those the user may not read (information_schema
    # would call those missing)
    cursor.execute("SELECT nspname FROM pg_catalog.pg_namespace ORDER BY nspname")
    names = [str(row[0]) for row in cursor.fetchall()]
    if schema in names:
        return None
    shown = [n for n in names if not n.startswith(("pg_", "information_schema"))]
    return f"PostgreSQL schema {schema!r} does not exist (schemas here: {', '.join(shown)})"


def _copy_table(
    connection: Any, source: Source, schema: str, name: str, columns: list[tuple[str, str]]
) -> None:
    kinds = [_TYPES.get(data_type, _TEXT) for _, data_type in columns]
    selects = ", ".join(k[0].format(c=quote(c)) for (c, _), k in zip(columns, kinds, strict=True))
    ddl = ", ".join(f"{quote(c)} {k[1]}" for (c, _), k in zip(columns, kinds, strict=True))
    arrow_schema = pa.schema([(c, k[2]) for (c, _), k in zip(columns, kinds, strict=True)])
    raw = quote(f"raw_{name}")
    source.con.execute(f"CREATE TABLE {raw} ({ddl})")
    with connection.cursor(name=f"retain_copy_{name}") as cursor:
        cursor.itersize = BATCH_ROWS
        cursor.execute(f"SELECT {selects} FROM {quote(schema)}.{quote(name)}")
        while rows := cursor.fetchmany(BATCH_ROWS):
            values = list(zip(*rows, strict=True))
            batch = pa.Table.from_arrays(
                [pa.array(v, type=f.type) for v, f in zip(values, arrow_schema, strict=True)],
                schema=arrow_schema,
            )
            source.con.register("postgres_batch", batch)
            source.con.execute(f"INSERT INTO {raw} SELECT * FROM postgres_batch")
            source.con.unregister("postgres_batch")


def copy_postgres_tables(source: Source, url: str) -> list[str]:
    """Copy every contract table found in the PostgreSQL schema into `raw_<table>`.

    A connection failure is recorded in `source.unreadable` (validation reports it).

    Args:
        source: The source being opened; its DuckDB connection receives the tables.
        url: The PostgreSQL URL, optionally with `?schema=<name>`.

    Returns:
        The contract tables copied, in contract order.
    """
    import psycopg

    from features.problems import first_line
    from features.source import SOURCE

    conninfo, schema = split_url(url)
    try:
        connection = psycopg.connect(conninfo, connect_timeout=10)
    except psycopg.Error as error:
        source.unreadable[SOURCE] = f"cannot connect to PostgreSQL: {first_line(error)}"
        return []
    with connection:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
            if schema is None:
                cursor.execute("SELECT current_schema()")
                row = cursor.fetchone()
                schema = str(row[0]) if row and row[0] else "public"
            tables = _columns(cursor, schema)
            if not tables and (missing := _missing_schema(cursor, schema)):
                source.unreadable[SOURCE] = missing
                return []
        present = []
        for name in (name for name in TABLES if name in tables):
            source.locations[name] = f"{schema}.{name}"
            try:
                _copy_table(connection, source, schema, name, tables[name])
                present.append(name)
            except psycopg.Error as error:
                connection.rollback()
                source.con.execute(f"DROP TABLE IF EXISTS {quote('raw_' + name)}")
                source.unreadable[name] = f"{schema}.{name} could not be read: {first_line(error)}"
    return present
