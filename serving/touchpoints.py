"""Touchpoints recorded through the service: `POST /v1/touchpoints`, read back per account.

The CRM or the CSM page sends what was done (account, action code, who, when, an optional
note and the plan line it follows) with its own `touchpoint_id`; sending it again gives the
same answer and stores nothing new. Accounts are checked against the service's latest
snapshot (the active accounts), then the source's accounts table. The store is the one of
`RETAIN_STORE_URL` (`store/`); when it is down these routes answer 503 and `/readyz` says so.
`attach_store` wires the store, these routes and the score log into the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, HTTPException, Path, Request, Response
from fastapi.params import Depends
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from features.contract import ACTION_CODES
from features.times import utc_iso
from serving.errors import error_responses, field_error
from serving.schemas import UtcTime, id_text
from serving.score_log import ScoreLogger
from serving.service_settings import ServiceSettings
from store import (
    PlanLineContradiction,
    RecordedTouchpoint,
    Store,
    StoreUnavailable,
    Touchpoint,
    TouchpointConflict,
    UnknownPlanLine,
)
from store.records import naive_utc, utc_now

MAX_ID = 200
FUTURE_SLACK = timedelta(days=1)  # clocks differ; a touchpoint dated later is a mistake
router = APIRouter(tags=["touchpoints"])


class TouchpointIn(BaseModel):
    """What the CS team did for an account."""

    model_config = ConfigDict(extra="forbid")

    touchpoint_id: str = Field(
        min_length=1,
        max_length=MAX_ID,
        description="Your id; sending it again stores nothing. Ids are strings; a JSON integer"
        " is read as its decimal string.",
    )
    account_id: str = Field(min_length=1, max_length=MAX_ID)
    type: str = Field(description="What was done: an action code of the data contract.")
    ts: datetime = Field(description="When it was done (ISO-8601; UTC when no offset).")
    owner: str | None = Field(default=None, max_length=MAX_ID, description="Who did it.")
    notes: str | None = Field(default=None, max_length=10_000)
    plan_line_id: str | None = Field(
        default=None, max_length=MAX_ID, description="The weekly plan line it follows."
    )

    @field_validator("touchpoint_id", "account_id", "plan_line_id", mode="before")
    @classmethod
    def _integer_id(cls, value: Any) -> Any:
        return id_text(value)  # 100002 is "100002", as in a file; 1.5 or true are refused

    @field_validator("type")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value not in ACTION_CODES:
            raise ValueError(f"{value!r} is not an action code: one of {', '.join(ACTION_CODES)}")
        return value

    @field_validator("ts", mode="before")
    @classmethod
    def _iso_time(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("give an ISO-8601 date or time such as 2026-06-01T14:30:00Z")
        return value

    @field_validator("touchpoint_id", "account_id", "owner", "notes", "plan_line_id")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL keeps no NUL in text: stored, it was a 500 a CRM retried for ever
        if value is not None and "\x00" in value:
            raise ValueError("contains a NUL character (\\u0000), which the store cannot keep")
        return value

    @field_validator("ts")
    @classmethod
    def _not_in_the_future(cls, value: datetime) -> datetime:
        value = naive_utc(value)
        if value > utc_now() + FUTURE_SLACK:
            raise ValueError(f"{utc_iso(value)} is in the future")
        if value.year < 1900:
            raise ValueError("is before 1900")
        return value


class TouchpointOut(BaseModel):
    """A touchpoint as the service stored it."""

    touchpoint_id: str
    account_id: str
    type: str
    ts: UtcTime = Field(description="When it was done (UTC).")
    owner: str | None
    notes: str | None
    plan_line_id: str | None
    recorded_at: UtcTime = Field(description="When the service first stored it (UTC).")

    @classmethod
    def of(cls, recorded: RecordedTouchpoint) -> TouchpointOut:
        return cls(**recorded.touchpoint.row(), recorded_at=recorded.recorded_at)


class AccountTouchpoints(BaseModel):
    """The touchpoints recorded through the service for one account, oldest first."""

    account_id: str
    touchpoints: list[TouchpointOut]


def _field_error(field: str, message: str, kind: str) -> HTTPException:
    return field_error(("body", field), message, kind)


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _service(request: Request) -> Any:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the service is still loading the accounts")
    return service


def _unavailable(error: StoreUnavailable, request: Request) -> HTTPException:
    request.app.state.touchpoint_outcomes.labels("store_unavailable").inc()
    return HTTPException(503, str(error))


@router.post(
    "/v1/touchpoints",
    status_code=201,
    response_model=TouchpointOut,
    responses=error_responses(400, 401, 409, 413, 422, 503),
)
def record_touchpoint(body: TouchpointIn, request: Request, response: Response) -> TouchpointOut:
    """Record a touchpoint once per `touchpoint_id` (a repeat gets the same answer)."""
    features = _service(request).features
    account_id = features.spelling(body.account_id)  # as the data holds it (NFC or NFD)
    if not features.knows(account_id):
        raise _field_error("account_id", f"account {body.account_id!r} is not known", "unknown")
    outcomes = request.app.state.touchpoint_outcomes
    try:
        touchpoint = Touchpoint(**(body.model_dump() | {"account_id": account_id}))
        recorded = _store(request).add_touchpoint(touchpoint)
    except StoreUnavailable as error:
        raise _unavailable(error, request) from None
    except TouchpointConflict as error:
        outcomes.labels("conflict").inc()
        raise HTTPException(409, str(error)) from None
    except UnknownPlanLine as error:
        raise _field_error("plan_line_id", str(error), "unknown") from None
    except PlanLineContradiction as error:  # a control's is a conflict, as on the CSM page
        if error.field == "plan_line_id":
            raise HTTPException(409, str(error)) from None
        raise _field_error(error.field, str(error), "contradicts_plan_line") from None
    outcomes.labels("created" if recorded.created else "repeated").inc()
    if not recorded.created:
        response.headers["Idempotent-Replayed"] = "true"
    return TouchpointOut.of(recorded)


@router.get(
    "/v1/accounts/{account_id:path}/touchpoints",
    response_model=AccountTouchpoints,
    responses=error_responses(401, 404, 422, 503),
)
def account_touchpoints(
    account_id: Annotated[str, Path(min_length=1, max_length=MAX_ID)], request: Request
) -> AccountTouchpoints:
    """The touchpoints recorded through the service for one account, oldest first."""
    features = _service(request).features
    if not features.knows(features.spelling(account_id)):
        raise HTTPException(404, f"account {account_id!r} is not known")
    account_id = features.spelling(account_id)  # as the data holds it (NFC or NFD)
    try:
        frame = _store(request).touchpoints(account_id=account_id)
    except StoreUnavailable as error:
        raise _unavailable(error, request) from None
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return AccountTouchpoints(
        account_id=account_id, touchpoints=[TouchpointOut.model_validate(r) for r in rows]
    )


def attach_store(
    app: FastAPI,
    settings: ServiceSettings,
    dependencies: Sequence[Depends],
    registry: CollectorRegistry,
) -> None:
    """Give `app` the store of `settings.store_url`, the touchpoint routes and the score log.

    A store already on `app.state.store` (tests) is kept. Nothing connects until first use.
    """
    if getattr(app.state, "store", None) is None:
        app.state.store = Store(settings.store_url)
    app.state.touchpoint_outcomes = Counter(
        "retain_touchpoints", "Touchpoints posted, by outcome", ["outcome"], registry=registry
    )
    app.state.score_log = ScoreLogger(app.state.store, settings.score_log_sample, registry)
    app.include_router(router, dependencies=list(dependencies))


def record_scores(app: FastAPI, result: Sequence[Any], horizon: datetime | None = None) -> None:
    """Offer the scores of one API call (`(snapshot, bundle, scores, unknown)`) to the log.

    `horizon`: the data's end the service reads (logged with each score).
    """
    app.state.score_log.offer(result[2], horizon)


def close_store(app: FastAPI) -> None:
    """Write the queued scores, then close the store's connections (at shutdown)."""
    app.state.score_log.close()
    app.state.store.close()


def store_status(app: FastAPI) -> str | None:
    """Why the store cannot be used, or None when it answers (the readiness hook)."""
    try:
        app.state.store.check()
    except StoreUnavailable as error:
        return str(error)
    except sa.exc.DBAPIError as error:  # e.g. a role that may not read one of its tables
        why = str(error.orig or error).strip().splitlines()[0]
        return f"the store does not answer as it should: {why}"
    return None
