"""The data contract (../shared/data-contract.md) as data.

Every table, column, type, null rule, enum, range, key and reference that the
contract promises lives here once; loading, validation, the typed views that
features read, and the simulator all read this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Canonical DuckDB types. Timestamps are naive UTC, ids are strings.
STRING = "VARCHAR"
INT = "BIGINT"
FLOAT = "DOUBLE"
BOOL = "BOOLEAN"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"

ACTION_CODES: tuple[str, ...] = (
    "onboarding_push",
    "training",
    "key_user_replacement",
    "business_review",
    "exec_sponsor_call",
    "support_escalation",
    "health_check",
    "upsell_offer",
    "referral_invite",
    "benchmark_program",
)


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str
    nullable: bool = True
    enum: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "table.column" this column points at


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, key and whether a source must have it."""

    name: str
    columns: tuple[Column, ...]
    required: bool
    key: tuple[str, ...] = ()
    # (earlier, later): later must be strictly after earlier where both are set.
    ordered: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # (earlier, later): later may equal earlier but must not precede it.
    not_before: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


ACCOUNT_REF = "accounts.account_id"
USER_REF = "users.user_id"

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table(
            "accounts",
            (
                Column("account_id", STRING, nullable=False),
                Column("name", STRING),
                Column("industry", STRING),
                Column("region", STRING),
                Column("employees", INT, min=0),
                Column("created_at", TIMESTAMP, nullable=False),
                Column("csm_owner", STRING),
                Column("value_driver", STRING, enum=("revenue", "efficiency", "cost")),
            ),
            required=True,
            key=("account_id",),
        ),
        Table(
            "subscriptions",
            (
                Column("subscription_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("kind", STRING, nullable=False, enum=("new", "renewal", "expansion")),
                Column("start_date", DATE, nullable=False),
                Column("end_date", DATE, nullable=False),
                Column("arr", FLOAT, nullable=False, min=0),
                Column("seats", INT, min=0),
                Column("plan", STRING),
                Column("outcome", STRING, enum=("renewed", "churned")),
            ),
            required=True,
            key=("subscription_id",),
            ordered=(("start_date", "end_date"),),
        ),
        Table(
            "users",
            (
                Column("user_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("role", STRING),
                Column("is_key_user", BOOL, nullable=False),
                Column("created_at", TIMESTAMP, nullable=False),
                Column("deactivated_at", TIMESTAMP),
            ),
            required=True,
            key=("user_id",),
            not_before=(("created_at", "deactivated_at"),),
        ),
        Table(
            "events",
            (
                Column("ts", TIMESTAMP, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("user_id", STRING, references=USER_REF),
                Column("module", STRING, nullable=False),
                Column("feature", STRING),
                Column("event_type", STRING, nullable=False, enum=("view", "action", "value")),
                Column("duration_s", FLOAT, min=0),
            ),
            required=True,
        ),
        Table(
            "tickets",
            (
                Column("ticket_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("opened_at", TIMESTAMP, nullable=False),
                Column("closed_at", TIMESTAMP),
                Column("priority", STRING, enum=("low", "normal", "high", "urgent")),
                Column("category", STRING),
                Column("csat", INT, min=1, max=5),
            ),
            required=False,
            key=("ticket_id",),
            not_before=(("opened_at", "closed_at"),),
        ),
        Table(
            "surveys",
            (
                Column("response_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("user_id", STRING, references=USER_REF),
                Column("ts", TIMESTAMP, nullable=False),
                Column("score", INT, nullable=False, min=0, max=10),
                Column("comment", STRING),
            ),
            required=False,
            key=("response_id",),
        ),
        Table(
            "outcomes",
            (
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("period_end", DATE, nullable=False),
                Column("kpi", STRING, nullable=False),
                Column("target", FLOAT, nullable=False),
                Column("actual", FLOAT),
            ),
            required=False,
            key=("account_id", "kpi", "period_end"),
        ),
        Table(
            "milestones",
            (
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("milestone", STRING, nullable=False),
                Column("due_date", DATE),
                Column("achieved_at", TIMESTAMP),
            ),
            required=False,
            key=("account_id", "milestone"),
        ),
        Table(
            "touchpoints",
            (
                Column("touchpoint_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("ts", TIMESTAMP, nullable=False),
                Column("type", STRING, nullable=False),
                Column("owner", STRING),
                Column("notes", STRING),
            ),
            required=False,
            key=("touchpoint_id",),
        ),
    )
}

REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES.values() if t.required)
OPTIONAL_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES.values() if not t.required)


def create_table_sql(table: Table, name: str | None = None) -> str:
    """`CREATE TABLE` DDL for a contract table with its canonical DuckDB types."""
    columns = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
    return f'CREATE OR REPLACE TABLE "{name or table.name}" ({columns})'
