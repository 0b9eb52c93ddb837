"""A fresh store per test: SQLite in tmp_path, and PostgreSQL in a schema of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_or_skip() -> None:
    """Skip without a local PostgreSQL server; in CI (`CI` set) a missing server fails."""
    import psycopg

    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs PostgreSQL at {POSTGRES}, but it does not answer: {error}")
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES}: {error}")


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL in a fresh PostgreSQL schema, dropped afterwards."""
    postgres_or_skip()
    schema = f"retain_store_test_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{POSTGRES}?schema={schema}"
    finally:
        drop_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store/retain-store.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened
