"""What the store keeps (touchpoints, plans and their lines) and the errors it raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import pandas as pd

Arm = Literal["planned", "control", "random"]
Source = Literal["batch", "api"]

TOUCHPOINT_COLUMNS = (
    "account_id", "ts", "type", "owner", "notes", "touchpoint_id", "plan_line_id", "recorded_at",
)  # fmt: skip
PLAN_LINE_COLUMNS = (
    "plan_line_id", "plan_id", "week", "account_id", "owner", "action", "arm",
    "assignment_probability", "expected_value", "hours", "reason", "holdout_until",
    "renewal_date", "stated_value",
)  # fmt: skip
PLAN_COLUMNS = ("plan_id", "week", "model_version", "summary", "created_at")
SCORE_COLUMNS = (
    "account_id", "as_of", "churn_probability", "upsell_probability", "model_version",
    "next_best_action",
)  # fmt: skip
"""The columns `Store.log_scores` needs (besides `horizon`, when known; others are ignored)."""
SCORE_LOG_COLUMNS = ("score_id", "run_id", *SCORE_COLUMNS, "source", "logged_at", "horizon")


class StoreError(RuntimeError):
    """Something the store refused or could not do."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (server down, file not writable); nothing was written."""


class TouchpointConflict(StoreError):
    """A touchpoint id already stored with different content."""

    def __init__(self, touchpoint_id: str, fields: Sequence[str]) -> None:
        self.touchpoint_id = touchpoint_id
        self.fields = tuple(fields)
        super().__init__(
            f"touchpoint {touchpoint_id!r} was already recorded with a different "
            f"{', '.join(self.fields)}"
        )


class PlanConflict(StoreError):
    """A plan id already stored with different lines."""


class UnknownPlanLine(StoreError, LookupError):
    """A touchpoint names a plan line the store does not have."""


class PlanLineContradiction(StoreError):
    """A touchpoint says it follows a plan line it contradicts.

    `field` is the touchpoint's field at fault: `plan_line_id` (the line is a control, held
    back: following it means not acting), `type` (the line plans another action) or `ts`
    (done before the line's week began).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def naive_utc(value: datetime | pd.Timestamp | str) -> datetime:
    """`value` as a naive UTC datetime (the store's and the contract's time)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(UTC).tz_localize(None)
    return stamp.to_pydatetime()


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Touchpoint:
    """Something the CS team did for an account (a row of the contract's touchpoints table).

    Attributes:
        touchpoint_id: the client's id; recording the same id twice stores it once.
        account_id: the account it was done for.
        ts: when it was done (naive UTC; an aware time is converted).
        type: what was done, an action code of the contract.
        owner: who did it (the CSM).
        notes: a free-text note.
        plan_line_id: the line of a weekly plan it follows, if any.
    """

    touchpoint_id: str
    account_id: str
    ts: datetime
    type: str
    owner: str | None = None
    notes: str | None = None
    plan_line_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", naive_utc(self.ts))

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class RecordedTouchpoint:
    """A touchpoint as stored: `created` is False when the id was already recorded."""

    touchpoint: Touchpoint
    recorded_at: datetime
    created: bool


@dataclass(frozen=True)
class PlanLine:
    """One account's line in a weekly plan.

    Attributes:
        plan_line_id: unique across plans (touchpoints refer to it).
        account_id: the account.
        owner: the CSM who owns the account.
        action: the action code planned (for a `control` line: the action held back).
        arm: `planned`, `control` (randomly held back) or `random` (randomly assigned).
        assignment_probability: the probability this line's arm was assigned with
            (1.0 for a plain optimised line), for unconfounded estimation later.
        expected_value: saved ARR net of cost the line was chosen at (learned effects with
            the hidden selection CSMs make taken out), if known.
        hours: CSM hours the action takes.
        reason: why this account and this action, in words.
        holdout_until: for a `control` line, the account's next renewal when planned: until
            then later plans do not give it this action, so its outcome is the action's
            absence (None: held back for this week only).
        renewal_date: the account's next renewal when planned (None: not known). A
            `planned` or `random` line gave the account its action for that term, so later
            plans of the term do not draw it as a control (`Store.given`).
        stated_value: the saved ARR net of cost the line is expected to bring, as history
            alone shows it: the figure to quote (None: a line stored before it was kept).
    """

    plan_line_id: str
    account_id: str
    action: str
    arm: Arm = "planned"
    assignment_probability: float = 1.0
    owner: str | None = None
    expected_value: float | None = None
    hours: float | None = None
    reason: str | None = None
    holdout_until: date | None = None
    renewal_date: date | None = None
    stated_value: float | None = None

    def __post_init__(self) -> None:
        if self.arm not in ("planned", "control", "random"):
            raise ValueError(f"plan line {self.plan_line_id}: arm {self.arm!r} is not known")
        if not 0.0 <= self.assignment_probability <= 1.0:
            raise ValueError(
                f"plan line {self.plan_line_id}: assignment_probability must be in [0, 1]"
            )


def plan_lines(plan_id: str, rows: Sequence[Mapping[Any, Any]]) -> list[PlanLine]:
    """A plan's lines as stored, from the rows of `actions.plan`'s plan frame.

    Each row has `account_id`, `action`, `arm`, `probability`, `csm`, `saved_arr`, `hours`
    and `why`, optionally `holdout_until`, `renewal_date` and `expected_saved_arr`; the line
    id is `<plan_id>-<account_id>` (one line per account and plan).
    """
    return [
        PlanLine(
            plan_line_id=f"{plan_id}-{row['account_id']}",
            account_id=str(row["account_id"]),
            action=str(row["action"]),
            arm=row["arm"],
            assignment_probability=float(row["probability"]),
            owner=str(row["csm"]),
            expected_value=float(row["saved_arr"]),
            hours=float(row["hours"]),
            reason=str(row["why"]),
            holdout_until=_day(row.get("holdout_until")) if row["arm"] == "control" else None,
            renewal_date=_day(row.get("renewal_date")),
            stated_value=_number(row.get("expected_saved_arr")),
        )
        for row in rows
    ]


def _number(value: Any) -> float | None:
    """A float; None when missing."""
    return None if value is None or pd.isna(value) else float(value)


def _day(value: Any) -> date | None:
    """A date from a date, datetime or timestamp; None when missing."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


@dataclass(frozen=True)
class Plan:
    """A weekly plan: its lines, the model version it came from and a summary (value, bound)."""

    plan_id: str
    week: date
    lines: Sequence[PlanLine]
    model_version: str | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utc_now)
