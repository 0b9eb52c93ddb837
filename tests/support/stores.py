"""Store URLs for tests: SQLite in a temporary folder, PostgreSQL in a schema of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DOWN = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1


def postgres_or_skip() -> None:
    """Skip without a local PostgreSQL server; in CI (`CI` set) a missing server fails."""
    import psycopg

    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs PostgreSQL at {POSTGRES}, but it does not answer: {error}")
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES}: {error}")


@contextmanager
def postgres_store_url() -> Iterator[str]:
    """A store URL in a fresh PostgreSQL schema, dropped afterwards (skips without a server)."""
    import psycopg

    postgres_or_skip()
    schema = f"retain_store_test_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{POSTGRES}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
