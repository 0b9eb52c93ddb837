"""Store URLs for tests: SQLite in a temporary folder, PostgreSQL in a schema of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from store import Store, Touchpoint

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


def recorded_touchpoints(tmp_path: Path) -> pd.DataFrame:
    """A store in `tmp_path/store.db` holding touchpoints for the tiny world's accounts."""
    with Store(f"sqlite:///{tmp_path}/store.db") as store:
        # p2 was recorded through the service and exported by the CRM into the source too
        store.add_touchpoint(Touchpoint("p2", "1001", datetime(2024, 1, 20), "business_review"))
        store.add_touchpoint(Touchpoint("svc-1", "1003", datetime(2024, 2, 5), "onboarding_push"))
        store.add_touchpoint(Touchpoint("svc-2", "1003", datetime(2024, 4, 1), "training"))
        return store.touchpoints()
