"""The data contract as data.

Every table, column, type, null rule, enum, range, key and reference that the
contract promises lives here once, with what each one means to the customer;
loading, validation, the typed views that features read, the simulator and the
tables of `docs/data-contract.md` (rendered by `features.contract_doc`) all
read this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Canonical DuckDB types. Timestamps are naive UTC, ids are strings.
STRING = "VARCHAR"
INT = "BIGINT"
FLOAT = "DOUBLE"
BOOL = "BOOLEAN"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"

# The word the contract document uses for each canonical type.
TYPE_NAMES: dict[str, str] = {
    STRING: "string",
    INT: "int",
    FLOAT: "float",
    BOOL: "bool",
    DATE: "date",
    TIMESTAMP: "timestamp",
}

# The canonical interventions, in contract order, with what the CS team does for each.
# Touchpoint `type` uses them; recommendations return them.
ACTION_DESCRIPTIONS: dict[str, str] = {
    "onboarding_push": "drive the account to its first value milestone",
    "training": "train users on modules/features they have not adopted",
    "key_user_replacement": (
        "a key user left or went quiet: get the customer to name and onboard a new one"
    ),
    "business_review": "review the customer's business KPIs against target with their management",
    "exec_sponsor_call": "executive-to-executive call to restore the relationship",
    "support_escalation": "escalate and close open, painful support issues",
    "health_check": "routine check-in call",
    "upsell_offer": "offer more seats, a higher plan or another module",
    "referral_invite": "invite a promoter into the referral programme",
    "benchmark_program": "make a successful account a reference case (joint case study, talk)",
}

ACTION_CODES: tuple[str, ...] = tuple(ACTION_DESCRIPTIONS)


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
    # What the column means to the customer (documentation only, not compared).
    meaning: str = field(default="", compare=False)
    # What some `enum` values mean, e.g. {"revenue": "grow income"} (documentation only).
    value_meanings: Mapping[str, str] = field(default_factory=dict, compare=False)


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
    # What one row is, e.g. "one row per customer company" (documentation only).
    description: str = field(default="", compare=False)
    # Prose that follows the column table in the document (documentation only).
    note: str = field(default="", compare=False)

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
                Column("name", STRING, meaning="display name"),
                Column("industry", STRING),
                Column("region", STRING),
                Column("employees", INT, min=0, meaning="company size"),
                Column("created_at", TIMESTAMP, nullable=False, meaning="became a paying customer"),
                Column("csm_owner", STRING, meaning="CSM responsible"),
                Column(
                    "value_driver",
                    STRING,
                    enum=("revenue", "efficiency", "cost"),
                    meaning="what they bought the product for",
                    value_meanings={
                        "revenue": "grow income",
                        "efficiency": "save time",
                        "cost": "cut spend",
                    },
                ),
            ),
            required=True,
            key=("account_id",),
            description="one row per customer company",
        ),
        Table(
            "subscriptions",
            (
                Column("subscription_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column(
                    "kind",
                    STRING,
                    nullable=False,
                    enum=("new", "renewal", "expansion"),
                    value_meanings={
                        "expansion": "a mid-term add-on, co-terminous with the term it extends"
                    },
                ),
                Column("start_date", DATE, nullable=False),
                Column(
                    "end_date",
                    DATE,
                    nullable=False,
                    meaning="the renewal decision falls due on this date",
                ),
                Column(
                    "arr",
                    FLOAT,
                    nullable=False,
                    min=0,
                    meaning="annual recurring revenue of this row",
                ),
                Column("seats", INT, min=0, meaning="licensed users"),
                Column("plan", STRING),
                Column(
                    "outcome",
                    STRING,
                    enum=("renewed", "churned"),
                    meaning=(
                        "for `new`/`renewal` rows; null while the term is still open. "
                        "Null on `expansion` rows"
                    ),
                ),
            ),
            required=True,
            key=("subscription_id",),
            ordered=(("start_date", "end_date"),),
            description="contract terms",
        ),
        Table(
            "users",
            (
                Column("user_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column(
                    "role",
                    STRING,
                    meaning="e.g. `admin`, `executive`, `champion`, `analyst`, `member`",
                ),
                Column(
                    "is_key_user",
                    BOOL,
                    nullable=False,
                    meaning="the customer's contact person, admin, or sponsoring executive",
                ),
                Column("created_at", TIMESTAMP, nullable=False),
                Column("deactivated_at", TIMESTAMP, meaning="left the company or lost access"),
            ),
            required=True,
            key=("user_id",),
            not_before=(("created_at", "deactivated_at"),),
            description="people at the customer with product logins",
        ),
        Table(
            "events",
            (
                Column("ts", TIMESTAMP, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("user_id", STRING, references=USER_REF),
                Column("module", STRING, nullable=False, meaning="product area"),
                Column("feature", STRING, meaning="function inside the module"),
                Column(
                    "event_type",
                    STRING,
                    nullable=False,
                    enum=("view", "action", "value"),
                    value_meanings={
                        "view": "looked at something",
                        "action": "did something",
                        "value": (
                            "completed a value-producing step, e.g. saved a report, sent a campaign"
                        ),
                    },
                ),
                Column("duration_s", FLOAT, min=0, meaning="time spent, seconds"),
            ),
            required=True,
            description="product usage",
        ),
        Table(
            "tickets",
            (
                Column("ticket_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("opened_at", TIMESTAMP, nullable=False),
                Column("closed_at", TIMESTAMP, meaning="null = open"),
                Column("priority", STRING, enum=("low", "normal", "high", "urgent")),
                Column(
                    "category",
                    STRING,
                    meaning="`bug`, `how_to`, `feature_request`, `billing`, other strings allowed",
                ),
                Column("csat", INT, min=1, max=5),
            ),
            required=False,
            key=("ticket_id",),
            not_before=(("opened_at", "closed_at"),),
            description="support",
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
            description="NPS responses",
        ),
        Table(
            "outcomes",
            (
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column("period_end", DATE, nullable=False),
                Column(
                    "kpi",
                    STRING,
                    nullable=False,
                    meaning="e.g. `revenue_uplift_pct`, `hours_saved`, `cost_saved`",
                ),
                Column("target", FLOAT, nullable=False),
                Column("actual", FLOAT),
            ),
            required=False,
            key=("account_id", "kpi", "period_end"),
            description="the customer's own business results",
            note=("One row per account, KPI and period; the row becomes known at `period_end`."),
        ),
        Table(
            "milestones",
            (
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column(
                    "milestone",
                    STRING,
                    nullable=False,
                    meaning="`first_value` is the first business result agreed at kickoff",
                ),
                Column("due_date", DATE),
                Column("achieved_at", TIMESTAMP, meaning="null = not yet"),
            ),
            required=False,
            key=("account_id", "milestone"),
            description="onboarding and value milestones",
        ),
        Table(
            "touchpoints",
            (
                Column("touchpoint_id", STRING, nullable=False),
                Column("account_id", STRING, nullable=False, references=ACCOUNT_REF),
                Column(
                    "ts",
                    TIMESTAMP,
                    nullable=False,
                    meaning="when it was done; a date alone is its midnight UTC",
                ),
                Column(
                    "type",
                    STRING,
                    nullable=False,
                    meaning="see the action codes below; other strings allowed",
                ),
                Column("owner", STRING),
                Column("notes", STRING),
            ),
            required=False,
            key=("touchpoint_id",),
            description="what the CS team did",
        ),
    )
}

REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES.values() if t.required)
OPTIONAL_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES.values() if not t.required)


def create_table_sql(table: Table, name: str | None = None) -> str:
    """`CREATE TABLE` DDL for a contract table with its canonical DuckDB types."""
    columns = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
    return f'CREATE OR REPLACE TABLE "{name or table.name}" ({columns})'
