"""The store's tables, spelled once, and the versioned migrations that create them.

Every table lives in one SQLAlchemy `MetaData` built per store (PostgreSQL may put them
in a schema of their own). `store_schema_version` records each migration applied, so a
newer retain can add tables or columns to an older store, and an older retain refuses a
store written by a newer one instead of misreading it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

ARMS = ("planned", "control", "random")
"""A plan line's arm: `planned` by the optimiser, a randomly held-back `control` (the action
is not done), or `random`ly assigned (done although the optimiser did not choose it)."""
SOURCES = ("batch", "api")
"""Where a logged score came from: a `retain score` run or the API."""


def build_metadata(schema: str | None = None) -> sa.MetaData:
    """The store's tables (in `schema` when given)."""
    metadata = sa.MetaData(schema=schema)
    sa.Table(
        "store_schema_version",
        metadata,
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("description", sa.String, nullable=False),
        sa.Column("applied_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "touchpoints",
        metadata,
        sa.Column("touchpoint_id", sa.String(200), primary_key=True),
        sa.Column("account_id", sa.String(200), nullable=False, index=True),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("notes", sa.Text),
        sa.Column("plan_line_id", sa.String(200)),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "plans",
        metadata,
        sa.Column("plan_id", sa.String(200), primary_key=True),
        sa.Column("week", sa.Date, nullable=False, index=True),
        sa.Column("model_version", sa.String(500)),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "plan_lines",
        metadata,
        sa.Column("plan_line_id", sa.String(200), primary_key=True),
        sa.Column("plan_id", sa.String(200), nullable=False, index=True),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("arm", sa.String(20), nullable=False),
        sa.Column("assignment_probability", sa.Float, nullable=False),
        sa.Column("expected_value", sa.Float),
        sa.Column("hours", sa.Float),
        sa.Column("reason", sa.Text),
        sa.Column("holdout_until", sa.Date),
        sa.Column("renewal_date", sa.Date),
        sa.Column("stated_value", sa.Float),
        sa.CheckConstraint(f"arm IN {ARMS}", name="plan_line_arm"),
        sa.CheckConstraint(
            "assignment_probability >= 0 AND assignment_probability <= 1",
            name="plan_line_probability",
        ),
    )
    sa.Table(
        "score_log",
        metadata,
        sa.Column("score_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False, index=True),
        sa.Column("as_of", sa.DateTime, nullable=False, index=True),
        sa.Column("churn_probability", sa.Float),
        sa.Column("upsell_probability", sa.Float),
        sa.Column("model_version", sa.String(500), nullable=False),
        sa.Column("next_best_action", sa.String(100)),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("logged_at", sa.DateTime, nullable=False),
        sa.Column("horizon", sa.DateTime),
        sa.CheckConstraint(f"source IN {SOURCES}", name="score_source"),
    )
    return metadata


Migration = Callable[[sa.Connection, sa.MetaData], None]


def _create_v1(connection: sa.Connection, metadata: sa.MetaData) -> None:
    names = ("touchpoints", "plans", "plan_lines", "score_log")
    tables = [metadata.tables[_key(metadata, name)] for name in names]
    metadata.create_all(connection, tables=tables)


def _add_column(table_name: str, column: str, sql_type: str) -> Migration:
    def add(connection: sa.Connection, metadata: sa.MetaData) -> None:
        added = table(metadata, table_name)
        inspected = sa.inspect(connection).get_columns(added.name, added.schema)
        if column not in {c["name"] for c in inspected}:  # a store made before the column
            name = added.name if added.schema is None else f'"{added.schema}"."{added.name}"'
            connection.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {column} {sql_type}"))

    return add


def _add_line_column(column: str, sql_type: str = "DATE") -> Migration:
    return _add_column("plan_lines", column, sql_type)


_add_holdout_until = _add_line_column("holdout_until")
"""A control line keeps its account out of the action until this date (its renewal)."""
_add_renewal_date = _add_line_column("renewal_date")
"""The renewal a line was planned before: a planned or random line of the same term makes
its account ineligible as a control for that action (it already had it)."""
_add_stated_value = _add_line_column("stated_value", "DOUBLE PRECISION")
"""The saved ARR a line is expected to bring as history alone shows it, beside the value it
was chosen at (`expected_value`, which overstates it)."""
_add_score_horizon = _add_column("score_log", "horizon", "TIMESTAMP")
"""The data's horizon when a score was made: a score for an earlier `as_of` (a backfill) was
made knowing part of its outcome, so the monitor does not judge it (NULL: logged before)."""


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("touchpoints, plans and plan lines, the score log", _create_v1),
    ("plan lines: holdout_until, a control held back until the renewal", _add_holdout_until),
    ("plan lines: renewal_date, the term a line's action was given in", _add_renewal_date),
    ("plan lines: stated_value, the saved ARR history alone expects", _add_stated_value),
    ("score log: horizon, the data's end when a score was made", _add_score_horizon),
)
"""Migration n+1 is MIGRATIONS[n]: append, never edit one that has shipped."""
SCHEMA_VERSION = len(MIGRATIONS)


class NewerStoreError(RuntimeError):
    """The store was written by a newer retain than this one."""


def _key(metadata: sa.MetaData, name: str) -> str:
    return f"{metadata.schema}.{name}" if metadata.schema else name


def table(metadata: sa.MetaData, name: str) -> sa.Table:
    """One of the store's tables."""
    return metadata.tables[_key(metadata, name)]


def migrate(connection: sa.Connection, metadata: sa.MetaData) -> int:
    """Apply the migrations this store lacks, in the caller's transaction.

    A table missing from a migrated store (dropped behind its back) is created again.

    Returns:
        The schema version the store is at afterwards.

    Raises:
        NewerStoreError: the store is at a version this retain does not know.
    """
    versions = table(metadata, "store_schema_version")
    metadata.create_all(connection, tables=[versions])
    current = connection.execute(sa.select(sa.func.max(versions.c.version))).scalar() or 0
    if current > SCHEMA_VERSION:
        raise NewerStoreError(
            f"the store is at schema version {current}, this retain knows up to "
            f"{SCHEMA_VERSION}: upgrade retain"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        description, apply = MIGRATIONS[version - 1]
        apply(connection, metadata)
        connection.execute(
            versions.insert().values(
                version=version,
                description=description,
                applied_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )
    metadata.create_all(connection)  # a table dropped behind the store's back (none: no-op)
    return SCHEMA_VERSION
