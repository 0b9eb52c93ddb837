"""A store whose tables vanish while the service runs (dropped, or the database made again).

Found by the sixth audit: with the schema check cached, every call that touched the store
failed (500 on PostgreSQL) while `/readyz` said the store was ok; only a restart created
the tables again. The store now notices, says so loudly, and creates them again itself.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa

from store import SCHEMA_VERSION, Store, Touchpoint
from tests.support.stores import POSTGRES


def touchpoint(name: str) -> Touchpoint:
    return Touchpoint(name, "acct-0001", datetime(2026, 6, 1), "health_check")


def drop_everything(store: Store) -> None:
    """Drop the store's tables behind its back (its PostgreSQL schema too), from outside."""
    if store.schema:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{store.schema}" CASCADE')
        return
    engine = sa.create_engine(store.url)
    with engine.begin() as connection:
        for name in sa.inspect(connection).get_table_names():
            connection.exec_driver_sql(f'DROP TABLE "{name}"')
    engine.dispose()


def schema_versions(store: Store) -> list[int]:
    versions = store.metadata.tables[
        f"{store.schema}.store_schema_version" if store.schema else "store_schema_version"
    ]
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(versions.c.version)).scalars())


def test_dropped_tables_are_created_again_and_said_loudly(store_url: str, caplog) -> None:
    with Store(store_url) as store:
        store.add_touchpoint(touchpoint("before"))
        drop_everything(store)
        with caplog.at_level(logging.ERROR, logger="store"):
            assert store.add_touchpoint(touchpoint("after")).created  # not an error
        assert store.touchpoints()["touchpoint_id"].tolist() == ["after"]
        assert schema_versions(store) == list(range(1, SCHEMA_VERSION + 1))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "found empty" in errors[0]


def test_the_readiness_check_finds_dropped_tables(store_url: str, caplog) -> None:
    with Store(store_url) as store:
        store.check()
        drop_everything(store)
        with caplog.at_level(logging.ERROR, logger="store"):
            store.check()  # recreates them: the store works again
        assert "found empty" in caplog.text
        assert store.touchpoints().empty and schema_versions(store)


def test_one_dropped_table_is_created_again(store_url: str) -> None:
    with Store(store_url) as store:
        store.add_touchpoint(touchpoint("before"))
        with store.engine.begin() as connection:  # the versions table still says all is there
            connection.execute(sa.schema.DropTable(store.metadata.tables[_key(store, "score_log")]))
        store.check()
        assert store.score_log().empty
        assert store.touchpoints()["touchpoint_id"].tolist() == ["before"]  # kept


def test_two_replicas_finding_the_store_empty_at_once_create_it_once(
    store_url: str, caplog
) -> None:
    replicas = [Store(store_url), Store(store_url)]
    for replica in replicas:
        replica.check()
    drop_everything(replicas[0])
    start, errors = threading.Barrier(8), []

    def record(replica: Store, name: str) -> None:
        start.wait()
        try:
            replica.add_touchpoint(touchpoint(name))
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=record, args=(replicas[i % 2], f"t{i}")) for i in range(8)]
    with caplog.at_level(logging.ERROR, logger="store"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    said = [r for r in caplog.records if "found empty" in r.getMessage()]
    assert 1 <= len(said) <= 2  # loudly, at most once by each replica
    assert len(replicas[1].touchpoints()) == 8
    assert schema_versions(replicas[0]) == list(range(1, SCHEMA_VERSION + 1))  # once each
    for replica in replicas:
        replica.close()


def test_a_sqlite_file_deleted_while_in_use_is_created_again(tmp_path: Path, caplog) -> None:
    path = tmp_path / "store.db"
    with Store(f"sqlite:///{path}") as store:
        store.add_touchpoint(touchpoint("before"))
        for stale in tmp_path.glob("store.db*"):
            stale.unlink()  # `rm var/retain-store.db*` while the service runs
        with caplog.at_level(logging.ERROR, logger="store"):
            store.add_touchpoint(touchpoint("after"))
        assert "found empty" in caplog.text
    with Store(f"sqlite:///{path}") as reopened:  # on disk, not in the deleted file
        assert reopened.touchpoints()["touchpoint_id"].tolist() == ["after"]


def _key(store: Store, name: str) -> str:
    return f"{store.schema}.{name}" if store.schema else name


def test_tables_missing_again_after_they_were_created_is_unavailable_not_a_crash(
    store_url: str,
) -> None:
    from store import StoreUnavailable

    with Store(store_url) as store:
        store.add_touchpoint(touchpoint("before"))
        # a call whose table is still missing once the store has created its tables again
        # (another replica dropping them at that moment) is a 503 to the caller, not a 500
        gone = sa.text("SELECT * FROM dropped_again")
        try:
            store._run(lambda connection: connection.execute(gone).all())
        except StoreUnavailable as error:
            assert "lost its tables again" in str(error)
        else:
            raise AssertionError("expected StoreUnavailable")


def test_a_replaced_sqlite_file_is_not_called_empty(tmp_path: Path, caplog) -> None:
    # `mv backup.db store.db` while the service runs: the file is not empty, and the log
    # says how to replace it safely instead of telling the user to restore a backup
    path, backup = tmp_path / "store.db", tmp_path / "backup.db"
    with Store(f"sqlite:///{backup}") as old:
        old.add_touchpoint(touchpoint("from-the-backup"))
    with Store(f"sqlite:///{path}") as store:
        store.add_touchpoint(touchpoint("before"))
        backup.replace(path)
        with caplog.at_level(logging.ERROR, logger="store"):
            store.touchpoints()
        assert "replaced by another file" in caplog.text and "found empty" not in caplog.text
