"""A store that is down says so, and the schema is versioned."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import SCHEMA_VERSION, Store, StoreUnavailable, Touchpoint, open_store
from store.engine import DEFAULT_STORE_URL, split_store_url
from tests.support.stores import DOWN


def test_a_server_that_is_down_raises_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="127.0.0.1:1"):
        open_store(DOWN)
    store = Store(DOWN)  # making one does not connect
    with pytest.raises(StoreUnavailable):
        store.add_touchpoint(
            Touchpoint("t1", "acct-0001", datetime(2026, 6, 1), "exec_sponsor_call")
        )
    with pytest.raises(StoreUnavailable):
        store.touchpoints()


def test_an_unwritable_sqlite_folder_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="unavailable"):
        open_store(f"sqlite:///{blocker}/store.db")


def test_the_password_is_not_in_the_message() -> None:
    with pytest.raises(StoreUnavailable) as raised:
        open_store("postgresql://postgres:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(raised.value)


def test_the_schema_is_versioned_and_opening_twice_migrates_once(store_url: str) -> None:
    with open_store(store_url) as first, open_store(store_url) as second:
        versions = first.metadata.tables[
            f"{first.schema}.store_schema_version" if first.schema else "store_schema_version"
        ]
        with second.engine.connect() as connection:
            rows = connection.execute(sa.select(versions.c.version)).scalars().all()
    assert rows == list(range(1, SCHEMA_VERSION + 1))


def test_store_urls() -> None:
    assert DEFAULT_STORE_URL.startswith("sqlite:///")
    url, schema = split_store_url("postgresql://u@h/db?schema=ops")
    assert (url.drivername, url.query, schema) == ("postgresql+psycopg", {}, "ops")
    with pytest.raises(ValueError, match="RETAIN_STORE_URL"):
        split_store_url("mysql://u@h/db")
    # what many hosts hand out (SQLAlchemy itself no longer reads it): the sixth audit
    url, schema = split_store_url("postgres://u:pw@h:6543/db?schema=ops")
    assert (url.drivername, url.port, url.password, schema) == (
        "postgresql+psycopg",
        6543,
        "pw",
        "ops",
    )
    for wrong in ("mysql://u:s3cret@h/db", "u:s3cret@h/db", "postgresql://u:s3cret@h:x/db", ""):
        with pytest.raises(ValueError, match="RETAIN_STORE_URL") as raised:
            split_store_url(wrong)
        assert "s3cret" not in str(raised.value)
    with pytest.raises(ValueError, match="more than one schema"):
        split_store_url("postgresql://u@h/db?schema=a&schema=b")


@pytest.mark.postgres
def test_a_postgres_url_opens_the_postgresql_store(postgres_url: str) -> None:
    alias = postgres_url.replace("postgresql://", "postgres://", 1)
    with open_store(alias) as store:
        store.add_touchpoint(Touchpoint("t1", "acct-0001", datetime(2026, 6, 1), "training"))
    with open_store(postgres_url) as same:
        assert same.touchpoints()["touchpoint_id"].tolist() == ["t1"]


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/s.db") as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
