"""Connecting to the store: SQLite in WAL mode by default, PostgreSQL (psycopg 3) by URL.

`sqlite:///relative/path.db` is relative to the working directory (like MLflow's
`sqlite:///mlruns/mlflow.db`); its folder is created on first use. `postgresql://user@host/db`
may add `?schema=<name>` to keep the store's tables in a schema of their own.
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
    """The SQLAlchemy URL (psycopg 3 for PostgreSQL) and the PostgreSQL schema, if any."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed, None
    if backend != "postgresql":
        raise ValueError(f"RETAIN_STORE_URL must be sqlite:///... or postgresql://..., got {url!r}")
    schema = parsed.query.get("schema")
    parsed = parsed.difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
    return parsed, schema if isinstance(schema, str) else None


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
