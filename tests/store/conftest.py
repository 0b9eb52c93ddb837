"""A fresh store per test: SQLite in tmp_path, and PostgreSQL in a schema of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store
from tests.support.stores import postgres_store_url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_store_url() as url:
        yield url


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
