"""`Store`: the service's own durable records, shared by the API, the plan and monitoring.

Each public call is one transaction: it is written whole or not at all. A store that
cannot be reached raises `StoreUnavailable`. The schema is created (and migrated) on the
first call, so a `Store` can be made while its server is still down. A store found empty
later (its tables dropped, its database or SQLite file made again while the service runs)
is logged as an error, its tables are created again and the call is run again once: the
migrations take a lock, so replicas finding it at once create it once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from features.times import utc_iso
from features.words import with_article
from store import engine as engines
from store.records import (
    PLAN_COLUMNS,
    PLAN_LINE_COLUMNS,
    SCORE_COLUMNS,
    SCORE_LOG_COLUMNS,
    TOUCHPOINT_COLUMNS,
    Plan,
    PlanConflict,
    PlanLineContradiction,
    RecordedTouchpoint,
    Source,
    StoreError,
    StoreUnavailable,
    Touchpoint,
    TouchpointConflict,
    UnknownPlanLine,
    naive_utc,
    utc_now,
)
from store.schema import build_metadata, migrate, table

logger = logging.getLogger(__name__)
T = TypeVar("T")
INSERT_CHUNK = 5_000  # rows per INSERT statement in a batch


# A plan is made before its week: a CSM may start on a line a few days early, not weeks.
EARLY = timedelta(days=7)
LOG_TIMES = ("as_of", "logged_at", "horizon")  # the score log's times, read as timestamps


class Store:
    """The service's store at `url` (see `store.engine` for the URLs it takes)."""

    def __init__(self, url: str = engines.DEFAULT_STORE_URL) -> None:
        self.url, self.schema = engines.split_store_url(url)
        self.engine = engines.create_store_engine(self.url)
        self.metadata = build_metadata(self.schema)
        self._migrated = False
        self._migrations = 0  # how often this object created or migrated the schema
        self._file: tuple[int, int] | None = None  # the SQLite file migrated (device, inode)
        self._lock = threading.Lock()
        self.touchpoints_added = 0  # new touchpoints stored through this object (cheap to read)

    def __repr__(self) -> str:
        return f"Store({engines.describe_url(self.url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store's connections."""
        self.engine.dispose()

    # --- transactions -------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._migrated and engines.file_identity(self.url) == self._file:
            return
        with self._lock:
            if self._migrated:
                if engines.file_identity(self.url) == self._file:
                    return  # another thread has just created it again
                replaced = engines.file_identity(self.url) is not None
                self._found_empty("its SQLite file was deleted", replaced=replaced)
                self.engine.dispose()  # the pooled connections hold the old file open
            if self.url.get_backend_name() == "postgresql":
                self._migrate_postgresql()
            else:
                engines.ensure_sqlite_folder(self.url)
                with self.engine.begin() as connection:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")  # DDL inside the transaction
                    migrate(connection, self.metadata)
            self._file = engines.file_identity(self.url)
            self._migrated = True
            self._migrations += 1

    def _migrate_postgresql(self) -> None:
        """Migrate holding a lock that makes other processes wait (one migrator at a time).

        The migration runs in a transaction begun after the wait: one begun before it would
        keep this session's cached view of the catalog from before the other process's
        migration (found when two replicas recreated an emptied store at once:
        `CREATE SCHEMA IF NOT EXISTS` failed with a duplicate key).
        """
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(7300115)"))
            connection.commit()
            try:
                with connection.begin():
                    if self.schema:
                        connection.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
                    migrate(connection, self.metadata)
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(7300115)"))
                connection.commit()

    def _found_empty(self, why: str, replaced: bool = False) -> None:
        """Say loudly that the store changed under the service.

        A SQLite file replaced (a backup moved into place) is not empty, but in WAL mode
        the old file's log may be read into it: that is said, not called empty.
        """
        if replaced:
            logger.error(
                "The store at %s was replaced by another file while in use: using it,"
                " creating any table it lacks. A SQLite store in WAL mode is not safely"
                " replaced while the service runs (the old file's -wal may be read into it):"
                " stop the service, replace the file with its -wal and -shm, start it again",
                engines.describe_url(self.url),
            )
            return
        logger.error(
            "The store at %s was found empty (%s) while in use: creating its tables again."
            " Touchpoints, plans and scores stored before are not in it; restore them from a"
            " backup if the store was not meant to be emptied",
            engines.describe_url(self.url),
            why,
        )

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        """Run `work` in one transaction (committed on success, rolled back on error).

        When a table is missing, the store was emptied behind this object's back: create
        its tables again and run `work` once more (its first transaction was rolled back).
        """
        with engines.unavailable_as(self.url):
            for again in (False, True):
                self._ensure_schema()
                migrations = self._migrations
                try:
                    with self.engine.begin() as connection:
                        return work(connection)
                except sa.exc.DBAPIError as error:
                    if not engines.is_missing_table(error):
                        raise
                    if again:  # emptied again at once: say so, not a 500
                        raise StoreUnavailable(
                            f"the store at {engines.describe_url(self.url)} lost its tables"
                            f" again while they were being created: {engines.first_line(error)}"
                        ) from error
                    with self._lock:
                        # unless another thread has found them gone since (and may create them)
                        if self._migrated and self._migrations == migrations:
                            self._found_empty(engines.first_line(error))
                            self._migrated = False
        raise AssertionError("unreachable: the second try returns or raises")

    def _t(self, name: str) -> sa.Table:
        return table(self.metadata, name)

    def exists(self) -> bool:
        """False for a SQLite file not created yet (nothing ever stored), else True.

        Lets a reader (`retain features`) leave no empty store file behind.
        """
        return not engines.is_missing_sqlite_file(self.url)

    def check(self) -> None:
        """Raise `StoreUnavailable` unless the store answers (the readiness check).

        Reads nothing from every table, so one that is missing is found (and created again).
        """
        tables = self.metadata.tables.values()
        empty = [sa.select(sa.literal(1)).select_from(t).where(sa.false()) for t in tables]
        self._run(lambda connection: connection.execute(sa.union_all(*empty)).all())

    # --- touchpoints --------------------------------------------------------------------

    def add_touchpoint(self, touchpoint: Touchpoint) -> RecordedTouchpoint:
        """Record a touchpoint once per id.

        Returns:
            The stored touchpoint; `created` is False when this id was already recorded
            with the same content (nothing is written again).

        Raises:
            TouchpointConflict: the id was recorded with different content.
            UnknownPlanLine: `plan_line_id` names no stored plan line, or another account's.
        """
        touchpoints, recorded_at = self._t("touchpoints"), utc_now()
        new_only = _insert_new(self.url.get_backend_name(), touchpoints)

        def record(connection: sa.Connection) -> tuple[bool, RecordedTouchpoint | None]:
            """(True, None) when inserted, else (False, the stored one)."""
            if touchpoint.plan_line_id is not None:
                # a repeat gets the first answer, even one recorded before these checks
                repeat = self._stored_touchpoint(connection, touchpoint)
                if repeat is not None:
                    return False, repeat
                self._check_follows(connection, touchpoint)
            inserted = connection.execute(
                new_only.values(**touchpoint.row(), recorded_at=recorded_at).returning(
                    touchpoints.c.touchpoint_id
                )
            ).first()
            if inserted is not None:
                return True, None
            return False, self._stored_touchpoint(connection, touchpoint)  # a repeat (or conflict)

        inserted, existing = self._run(record)
        if inserted:  # committed: a reader following the count sees it
            self.touchpoints_added += 1
            return RecordedTouchpoint(touchpoint, recorded_at, created=True)
        if existing is None:  # pragma: no cover - the insert found the id, so it is there
            raise StoreError(f"touchpoint {touchpoint.touchpoint_id!r} vanished")
        return existing

    def _check_follows(self, connection: sa.Connection, touchpoint: Touchpoint) -> None:
        """Refuse a touchpoint that names a plan line it cannot follow.

        The plan line tells estimation that the plan, not the CSM's own choice, led to the
        action, and a control line that it was held back at random. So a touchpoint naming a
        line must be that line's action, for its account, done no earlier than `EARLY`
        before its week, and never a control's (the fifth audit's API stored all three).
        The CSM page and the API both record through here.
        """
        lines, plans = self._t("plan_lines"), self._t("plans")
        name = touchpoint.plan_line_id
        found = connection.execute(
            sa.select(lines.c.account_id, lines.c.action, lines.c.arm, plans.c.week)
            .join(plans, plans.c.plan_id == lines.c.plan_id)
            .where(lines.c.plan_line_id == name)
        ).first()
        if found is None:
            raise UnknownPlanLine(f"plan line {name!r} is unknown")
        if found.account_id != touchpoint.account_id:
            raise UnknownPlanLine(
                f"plan line {name!r} is for another account, not {touchpoint.account_id!r}"
            )
        if found.arm == "control":
            raise PlanLineContradiction(
                "plan_line_id",
                f"plan line {name!r} holds the account back from {with_article(found.action)}"
                " at random:"
                " a touchpoint does not follow it (if it was done anyway, record it without"
                " plan_line_id)",
            )
        if found.action != touchpoint.type:
            raise PlanLineContradiction(
                "type",
                f"plan line {name!r} plans {with_article(found.action)}, not"
                f" {with_article(touchpoint.type)}: record"
                " another action without plan_line_id",
            )
        week = pd.Timestamp(found.week).to_pydatetime()
        if touchpoint.ts < week - EARLY:
            raise PlanLineContradiction(
                "ts",
                f"{utc_iso(touchpoint.ts)} is more than {EARLY.days} days before plan line"
                f" {name!r}'s week began ({week:%Y-%m-%d}): a touchpoint done then did not"
                " follow it",
            )

    def _stored_touchpoint(
        self, connection: sa.Connection, touchpoint: Touchpoint
    ) -> RecordedTouchpoint | None:
        touchpoints = self._t("touchpoints")
        row = (
            connection.execute(
                sa.select(touchpoints).where(
                    touchpoints.c.touchpoint_id == touchpoint.touchpoint_id
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        stored = Touchpoint(**{k: row[k] for k in Touchpoint.__dataclass_fields__})
        differing = [k for k, v in touchpoint.row().items() if getattr(stored, k) != v]
        if differing:
            raise TouchpointConflict(touchpoint.touchpoint_id, differing)
        return RecordedTouchpoint(stored, row["recorded_at"], created=False)

    def touchpoints(
        self, account_id: str | None = None, until: datetime | None = None
    ) -> pd.DataFrame:
        """Touchpoints recorded through the service, oldest first (`TOUCHPOINT_COLUMNS`).

        Args:
            account_id: only this account's.
            until: only those done at or before this time (naive UTC).
        """
        touchpoints = self._t("touchpoints")
        query = sa.select(*(touchpoints.c[name] for name in TOUCHPOINT_COLUMNS))
        if account_id is not None:
            query = query.where(touchpoints.c.account_id == account_id)
        if until is not None:
            query = query.where(touchpoints.c.ts <= naive_utc(until))
        query = query.order_by(touchpoints.c.ts, touchpoints.c.touchpoint_id)
        return self._frame(query, TOUCHPOINT_COLUMNS, ("ts", "recorded_at"))

    def touchpoints_revision(self) -> tuple[int, datetime | None]:
        """How many touchpoints are stored and when the latest was: changes when one is added.

        Touchpoints are only ever added, so this tells a reader (the scoring service) whether
        any was recorded since it last read them, by any process, without reading them all.
        """
        touchpoints = self._t("touchpoints")
        query = sa.select(sa.func.count(), sa.func.max(touchpoints.c.recorded_at))
        count, latest = self._run(lambda connection: connection.execute(query).one())
        return int(count), latest

    # --- plans --------------------------------------------------------------------------

    def save_plan(self, plan: Plan) -> bool:
        """Store a weekly plan and its lines in one transaction.

        Returns:
            True when stored, False when this plan id was already stored with the same lines.

        Raises:
            PlanConflict: the plan id, or one of its line ids, is stored with other content.
        """
        plans, lines = self._t("plans"), self._t("plan_lines")
        rows = [
            {**{k: getattr(line, k) for k in line.__dataclass_fields__}, "plan_id": plan.plan_id}
            for line in plan.lines
        ]

        def save(connection: sa.Connection) -> bool:
            stored = connection.execute(
                sa.select(lines).where(lines.c.plan_id == plan.plan_id)
            ).mappings()
            previous = sorted((dict(row) for row in stored), key=lambda r: r["plan_line_id"])
            exists = connection.execute(
                sa.select(plans.c.plan_id).where(plans.c.plan_id == plan.plan_id)
            ).first()
            if exists is not None:
                if previous != sorted(rows, key=lambda r: r["plan_line_id"]):
                    raise PlanConflict(f"plan {plan.plan_id!r} is already stored with other lines")
                return False
            connection.execute(
                plans.insert().values(
                    plan_id=plan.plan_id,
                    week=plan.week,
                    model_version=plan.model_version,
                    summary=dict(plan.summary),
                    created_at=naive_utc(plan.created_at),
                )
            )
            try:
                for chunk in _chunks(rows):
                    connection.execute(lines.insert(), chunk)
            except sa.exc.IntegrityError as error:
                raise PlanConflict(
                    f"plan {plan.plan_id!r}: a plan line id is already used by another plan"
                ) from error
            return True

        return self._run(save)

    def plans(self, week: date | None = None) -> pd.DataFrame:
        """Stored plans (`PLAN_COLUMNS`), newest first."""
        plans = self._t("plans")
        query = sa.select(*(plans.c[name] for name in PLAN_COLUMNS))
        if week is not None:
            query = query.where(plans.c.week == week)
        query = query.order_by(plans.c.created_at.desc(), plans.c.plan_id.desc())
        return self._frame(query, PLAN_COLUMNS, ("created_at",))

    def plan_lines(self, week: date, csm: str | None = None) -> pd.DataFrame:
        """Lines (`PLAN_LINE_COLUMNS`) of the latest plan saved for `week`; one CSM's if given."""
        plans, lines = self._t("plans"), self._t("plan_lines")
        latest = (
            sa.select(plans.c.plan_id)
            .where(plans.c.week == week)
            .order_by(plans.c.created_at.desc(), plans.c.plan_id.desc())
            .limit(1)
            .scalar_subquery()
        )
        columns = [plans.c.week if n == "week" else lines.c[n] for n in PLAN_LINE_COLUMNS]
        query = (
            sa.select(*columns)
            .join(plans, plans.c.plan_id == lines.c.plan_id)
            .where(lines.c.plan_id == latest)
        )
        if csm is not None:
            query = query.where(lines.c.owner == csm)
        return self._frame(query.order_by(lines.c.plan_line_id), PLAN_LINE_COLUMNS, ())

    def holdouts(self, week: date) -> pd.DataFrame:
        """(account_id, action) pairs still held back as controls at `week`.

        A `control` line of an earlier week's plan (the latest saved for that week) holds
        its account out of its action until its `holdout_until` (the renewal it was planned
        before); plans for `week` leave those pairs out (`actions.plan.plan_week`).
        """
        held = self._earlier_pairs(week, ("control",), "holdout_until")
        return held[["account_id", "action", "holdout_until"]]

    def given(self, week: date, term_starts: pd.DataFrame | None = None) -> pd.DataFrame:
        """(account_id, action) pairs earlier plans gave in the term still running at `week`.

        A `planned` or `random` line of an earlier week's plan (the latest saved for that
        week) whose renewal is after `week` gave its account the action in the current term:
        held back now, the account would still have had it, so plans for `week` do not draw
        it as a control (`actions.plan_holdouts.hold_back`). A line saved without its
        renewal (before the column existed, or not known when planned) counts while its
        plan's week is on or after the account's `term_start` in `term_starts` (`account_id`,
        `term_start`: the term in force at `week`, as `serving.plan.term_starts` reads it).
        Without a known term start (no frame, or the account not in it) such a line counts:
        a control that had the action pulls the effect to zero, one left out costs one line.
        """
        found = self._earlier_pairs(week, ("planned", "random"), "renewal_date", unknown=True)
        unknown = found["renewal_date"].isna()
        if term_starts is not None and unknown.any():
            starts = term_starts.assign(account_id=term_starts["account_id"].astype(str))
            earliest = pd.to_datetime(starts["term_start"]).groupby(starts["account_id"]).min()
            start = pd.to_datetime(found["account_id"].astype(str).map(earliest))
            found = found[~(unknown & (pd.to_datetime(found["week"]) < start))]
        return found[["account_id", "action", "renewal_date"]].reset_index(drop=True)

    def _earlier_pairs(
        self, week: date, arms: tuple[str, ...], until: str, unknown: bool = False
    ) -> pd.DataFrame:
        """Pairs on the `arms` lines of earlier weeks' latest plans whose `until` is after `week`.

        One row per (account_id, action), with its `until` date and its plan's `week`; with
        `unknown`, lines whose `until` is NULL too (a pair's known date first, else its
        latest week's line).
        """
        plans, lines = self._t("plans"), self._t("plan_lines")
        stored = self.plans()
        earlier = stored[pd.to_datetime(stored["week"]) < pd.Timestamp(week)]
        latest = earlier.drop_duplicates("week")["plan_id"].tolist()  # newest first per week
        after = lines.c[until] > week
        columns = (lines.c.account_id, lines.c.action, lines.c[until], plans.c.week)
        query = (
            sa.select(*columns)
            .join(plans, plans.c.plan_id == lines.c.plan_id)
            .where(lines.c.plan_id.in_(latest))
            .where(lines.c.arm.in_(arms))
            .where(sa.or_(after, lines.c[until].is_(None)) if unknown else after)
            .order_by(lines.c[until].is_(None), plans.c.week.desc(), lines.c.plan_line_id)
        )
        found = self._frame(query, ("account_id", "action", until, "week"), ())
        return found.drop_duplicates(["account_id", "action"]).reset_index(drop=True)

    # --- score log ----------------------------------------------------------------------

    def log_scores(
        self,
        scores: pd.DataFrame,
        source: Source,
        run_id: str | None = None,
        logged_at: datetime | None = None,
    ) -> int:
        """Append scores to the log (never updated or deleted), in one transaction.

        Args:
            scores: one row per account with `SCORE_COLUMNS` and, when known, `horizon`: the
                data's horizon when it was scored (a score for an earlier `as_of` is a
                backfill, made knowing part of its outcome; others are ignored).
            source: `batch` (a `retain score` run) or `api`.
            run_id: groups the rows of one run (default: a new id).
            logged_at: when they were scored (default: now, UTC).

        Returns:
            How many rows were logged.
        """
        if source not in ("batch", "api"):
            raise ValueError(f"source must be batch or api, got {source!r}")
        missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
        if missing:
            raise ValueError(f"the scores lack the column(s) {', '.join(missing)}")
        if scores.empty:
            return 0
        common = {
            "run_id": run_id or uuid.uuid4().hex,
            "source": source,
            "logged_at": naive_utc(logged_at) if logged_at else utc_now(),
        }
        frame = scores.reindex(columns=[*SCORE_COLUMNS, "horizon"]).astype(object)
        frame = frame.where(frame.notna(), None)
        rows = [
            {
                **row,
                "as_of": naive_utc(row["as_of"]),
                "horizon": None if row["horizon"] is None else naive_utc(row["horizon"]),
                **common,
            }
            for row in frame.to_dict(orient="records")
        ]

        def log(connection: sa.Connection) -> None:
            for chunk in _chunks(rows):
                connection.execute(self._t("score_log").insert(), chunk)

        self._run(log)
        return len(rows)

    def score_log(
        self,
        account_id: str | None = None,
        source: Source | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> pd.DataFrame:
        """Logged scores (`SCORE_LOG_COLUMNS`), oldest first; `since`/`until` bound logged_at."""
        log = self._t("score_log")
        query = sa.select(*(log.c[name] for name in SCORE_LOG_COLUMNS))
        if account_id is not None:
            query = query.where(log.c.account_id == account_id)
        if source is not None:
            query = query.where(log.c.source == source)
        if since is not None:
            query = query.where(log.c.logged_at >= naive_utc(since))
        if until is not None:
            query = query.where(log.c.logged_at <= naive_utc(until))
        return self._frame(query.order_by(log.c.score_id), SCORE_LOG_COLUMNS, LOG_TIMES)

    def monthly_scores(self) -> pd.DataFrame:
        """The score log thinned to what the monitor judges, oldest first.

        Per account, model version, calendar month of `as_of` and calendar month of the
        data's horizon when scored: the latest `as_of`'s last logged score
        (`SCORE_LOG_COLUMNS`). A company scoring every day logs about 30 rows an account a
        month for the same renewal; the thirteenth new-user audit's year of daily scores
        (2.75M rows) took the monitor to 4.1 GB and counted each renewal about 365 times.
        Thinned in SQL, so the rows never reach Python. Scoring at the data's end, `as_of`
        and the horizon share their month: one row a month. A backfill made later for that
        month (its horizon in a later month) is kept apart, so it never hides the score
        made at the time (the monitor leaves it out: `training.monitor.calibration`).
        """
        log = self._t("score_log")
        rank = (
            sa.func.row_number()
            .over(
                partition_by=(
                    log.c.account_id,
                    log.c.model_version,
                    sa.extract("year", log.c.as_of),
                    sa.extract("month", log.c.as_of),
                    sa.extract("year", log.c.horizon),
                    sa.extract("month", log.c.horizon),
                ),
                order_by=(log.c.as_of.desc(), log.c.score_id.desc()),
            )
            .label("month_rank")
        )
        ranked = sa.select(*(log.c[name] for name in SCORE_LOG_COLUMNS), rank).subquery()
        query = (
            sa.select(*(ranked.c[name] for name in SCORE_LOG_COLUMNS))
            .where(ranked.c.month_rank == 1)
            .order_by(ranked.c.score_id)
        )
        return self._frame(query, SCORE_LOG_COLUMNS, LOG_TIMES)

    # --- helpers ------------------------------------------------------------------------

    def _frame(self, query: Any, columns: Iterable[str], times: Iterable[str]) -> pd.DataFrame:
        rows = self._run(lambda connection: connection.execute(query).all())
        frame = pd.DataFrame([tuple(row) for row in rows], columns=list(columns))
        for name in times:
            frame[name] = pd.to_datetime(frame[name])
        return frame


def _insert_new(backend: str, table: sa.Table) -> Any:
    """INSERT that skips a row whose primary key is already stored (one statement, no race)."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if backend == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(table.primary_key.columns))


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), INSERT_CHUNK):
        yield rows[start : start + INSERT_CHUNK]


def open_store(url: str = engines.DEFAULT_STORE_URL) -> Store:
    """Open the store at `url`, creating or migrating its tables now.

    Raises:
        StoreUnavailable: it cannot be reached.
    """
    store = Store(url)
    store.check()
    return store
