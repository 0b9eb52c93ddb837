"""Connecting to the store: SQLite in WAL mode by default, PostgreSQL (psycopg 3) by URL.

`sqlite:///relative/path.db` is relative to the working directory (like MLflow's
`sqlite:///mlruns/mlflow.db`); its folder is created on first use. `postgresql://user@host/db`
(or `postgres://...`) may add `?schema=<name>` to keep the store's tables in a schema of
their own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from store.records import StoreUnavailable

DEFAULT_STORE_URL = "sqlite:///var/retain-store.db"
CONNECT_TIMEOUT_SECONDS = 3  # PostgreSQL: a server that does not answer is down
SQLITE_BUSY_SECONDS = 10  # SQLite: wait this long for another writer before giving up


def split_store_url(url: str) -> tuple[sa.URL, str | None]:
    """The SQLAlchemy URL (psycopg 3 for PostgreSQL) and the PostgreSQL schema, if any.

    `postgres://`, which many hosts hand out (SQLAlchemy no longer reads it), is PostgreSQL.

    Raises:
        ValueError: not a store URL; the message shows no password.
    """
    expected = "sqlite:///path/to/store.db or postgresql://user@host/db"
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as error:  # e.g. no scheme, a port not a number
        raise ValueError(
            f"RETAIN_STORE_URL is not a URL the store can use ({_reason(error)}); give {expected}"
        ) from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed, None
    if backend not in ("postgresql", "postgres"):
        raise ValueError(f"RETAIN_STORE_URL must be {expected}, got {describe_url(parsed)!r}")
    schema = parsed.query.get("schema")
    if schema is not None and not isinstance(schema, str):
        raise ValueError(f"RETAIN_STORE_URL names more than one schema: {', '.join(schema)}")
    parsed = parsed.difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
    return parsed, schema


def _reason(error: Exception) -> str:
    """Why a URL did not parse, without the URL (it may hold a password)."""
    if isinstance(error, sa.exc.ArgumentError):
        return "it has no scheme such as postgresql://"
    return "its port is not a number" if "int()" in str(error) else type(error).__name__


def create_store_engine(url: sa.URL) -> sa.Engine:
    """An engine for the store URL, with SQLite set to WAL and full sync."""
    if url.get_backend_name() == "postgresql":
        return sa.create_engine(
            url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
    engine = sa.create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        # FULL: a committed touchpoint survives a power cut, not only a restart; one fsync
        # per transaction is ample for touchpoints, and a batch's scores are one transaction.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


def ensure_sqlite_folder(url: sa.URL) -> None:
    """Create the folder of a SQLite store file (nothing for `:memory:` or PostgreSQL)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]


def is_missing_sqlite_file(url: sa.URL) -> bool:
    """Whether `url` is a SQLite store file that does not exist yet."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(url.database).exists()  # type: ignore[arg-type]


def file_identity(url: sa.URL) -> tuple[int, int] | None:
    """The SQLite store file's (device, inode), which changes when it is deleted or replaced.

    None for PostgreSQL and `:memory:`, and for a file that is not there.
    """
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    try:
        found = os.stat(url.database)  # type: ignore[arg-type]
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def is_missing_table(error: sa.exc.DBAPIError) -> bool:
    """Whether `error` says one of the store's tables (or its PostgreSQL schema) is not there."""
    if getattr(error.orig, "sqlstate", None) in ("42P01", "3F000"):  # undefined table, schema
        return True
    return isinstance(error, sa.exc.OperationalError) and "no such table" in str(error.orig)


def describe_url(url: sa.URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True).replace("+psycopg", "")


@contextlib.contextmanager
def unavailable_as(url: sa.URL) -> Iterator[None]:
    """Turn a connection failure into `StoreUnavailable` naming the store."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        raise StoreUnavailable(
            f"the store at {describe_url(url)} is unavailable: {first_line(error)}"
        ) from error
    except sa.exc.DBAPIError as error:
        if error.connection_invalidated:
            raise StoreUnavailable(
                f"the store at {describe_url(url)} is unavailable: {first_line(error)}"
            ) from error
        raise
    except OSError as error:  # the SQLite folder cannot be created
        raise StoreUnavailable(
            f"the store at {describe_url(url)} is unavailable: {error}"
        ) from error


def first_line(error: sa.exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)
