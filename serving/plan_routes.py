"""`GET /v1/plan`: the week's plan for one CSM (or everyone), as stored.

The plan of a week is made once and kept in the store, so a CSM sees the same lines all
week: the first request for a week without a stored plan builds it (`serving.plan`) with
the plan settings (`RETAIN_PLAN`) and stores it; later ones read it back. A week runs
Monday to Sunday: any date in it asks for the same plan (`serving.plan.week_of`). The store
being down is a 503 (the plan could not see the touchpoints recorded through the service).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field

from actions.plan_config import DEFAULT_PLAN, PlanConfig, load_plan_config
from serving.errors import error_responses, field_error
from serving.plan import (
    account_owners,
    as_the_data_spells,
    build_plan,
    closest_hint,
    default_week,
    given_in_term,
    store_plan,
    week_of,
)
from serving.recorded import catch_up

router = APIRouter(tags=["plan"])


class PlanLineOut(BaseModel):
    """One account's line in the week's plan."""

    plan_line_id: str = Field(description="Give it with the touchpoint that follows it.")
    account_id: str
    csm: str | None
    action: str = Field(description="The action code (for a `control` line: held back).")
    arm: str = Field(
        description="`planned`, `control` (held back at random: do not do it this week) or "
        "`random` (assigned at random: do it)."
    )
    assignment_probability: float = Field(description="The chance of this line's arm.")
    hours: float | None
    expected_saved_arr: float | None = Field(
        description="What the line is expected to save net of the action's cost, as history"
        " alone shows it (null for a line planned before retain kept it)."
    )
    ranking_saved_arr: float | None = Field(
        description="The value the plan chose the line at: expected_saved_arr under the plan"
        " file's default `choose_at: stated`; under `choose_at: ranking`, learned effects"
        " with the hidden selection CSMs make taken out, which overstates what it saves."
    )
    why: str | None = Field(description="Why this account and this action, in words.")


class PlanOut(BaseModel):
    """The week's plan, or one CSM's part of it."""

    plan_id: str
    week: date = Field(description="The Monday the plan's week starts on.")
    csm: str | None
    model_version: str | None
    expected_value: float | None = Field(
        description="What the whole plan's lines to do (controls excluded) are expected to"
        " save net of cost, as history alone shows it: the figure to quote."
    )
    value: float | None = Field(
        description="Saved ARR of the optimised lines (controls included) at the values the"
        " plan was chosen at (see ranking_saved_arr); compare it with greedy_value and bound."
    )
    greedy_value: float | None = Field(description="The same for the greedy plan.")
    bound: float | None = Field(description="No plan within the limits is worth more.")
    hours_available: float | None = Field(description="The CSM's hours for the week.")
    hours_planned: float = Field(description="Hours of the lines to do (controls excluded).")
    warnings: list[str] = Field(
        default_factory=list,
        description="What the plan file says that the data does not bear out (an owner"
        " given hours who owns no account), and hours the week leaves short or free.",
    )
    lines: list[PlanLineOut]


class Planner:
    """Builds a week's plan once per process when the store has none (one at a time)."""

    def __init__(self, config: PlanConfig, cost: Any, plan_file: str = "plan file") -> None:
        self.config = config
        self.cost = cost
        self.plan_file = plan_file  # named in the plan's warnings
        self.lock = threading.Lock()

    def ensure(self, service: Any, store: Any, week: datetime) -> None:
        """Store a plan for `week` unless one is stored."""
        with self.lock:
            if not store.plans(week.date()).empty:
                return
            recorded = store.touchpoints()
            holdouts = store.holdouts(week.date())
            given = given_in_term(store, service, week)
            built = build_plan(
                service,
                self.config,
                self.cost,
                week,
                recorded=recorded,
                holdouts=holdouts,
                given=given,
                plan_file=self.plan_file,
            )
            store.save_plan(store_plan(built))


def attach_plan(app: FastAPI, settings: Any, dependencies: list[Any]) -> None:
    """Give `app` the plan route, with the plan settings of `settings.plan`."""
    from training.uplift.config import load_uplift_config

    path = getattr(settings, "plan", DEFAULT_PLAN)
    app.state.planner = Planner(load_plan_config(path), load_uplift_config().cost, str(path))
    app.include_router(router, dependencies=dependencies)


@router.get("/v1/plan", response_model=PlanOut, responses=error_responses(401, 404, 422, 503))
async def plan(
    request: Request,
    csm: Annotated[str | None, Query(description="The CSM (accounts.csm_owner).")] = None,
    week: Annotated[
        date | None,
        Query(
            description="Any date in the week, which starts on its Monday (default: the first "
            "week that starts at or after the end of the data)."
        ),
    ] = None,
) -> PlanOut:
    """The week's plan: at most one action per account within each CSM's hours."""
    from store import StoreUnavailable

    service = getattr(request.app.state, "service", None)
    store = getattr(request.app.state, "store", None)
    if service is None or store is None:
        raise HTTPException(503, "the service is still loading")
    planner: Planner = request.app.state.planner
    start = week_of(week) if week else default_week(service.features.latest.as_of)
    try:
        await catch_up(request.app.state, service)  # a week's first plan: on today's touchpoints
        await asyncio.to_thread(planner.ensure, service, store, start)
        stored = store.plans(start.date()).iloc[0]
        lines = store.plan_lines(start.date(), csm)
        owners: set[str] = set()
        if csm is not None and lines.empty:  # the owners are read only for a CSM not found
            owners = account_owners(service)
            spelt = as_the_data_spells(csm, owners)  # typed in another form
            if spelt != csm:
                csm, lines = spelt, store.plan_lines(start.date(), spelt)
    except StoreUnavailable as error:
        raise HTTPException(503, f"the store is unreachable: {error}") from None
    except LookupError as error:  # e.g. a service without a source of account owners
        raise HTTPException(503, f"no plan can be made: {error}") from None
    except ValueError as error:
        raise field_error(("query", "week"), str(error)) from None
    if csm is not None and lines.empty and csm not in owners:
        hint = closest_hint(csm, owners)  # "dana kim" for "Dana Kim" (the scale audit)
        raise HTTPException(404, f"no account is owned by CSM {csm!r}{hint}")
    summary = stored["summary"] or {}
    doing = lines[lines["arm"] != "control"]
    return PlanOut(
        plan_id=str(stored["plan_id"]),
        week=start.date(),
        csm=csm,
        model_version=stored["model_version"],
        expected_value=summary.get("expected_value"),
        value=summary.get("value"),
        greedy_value=summary.get("greedy_value"),
        bound=summary.get("bound"),
        hours_available=planner.config.csm_hours.of(csm) if csm else None,
        hours_planned=float(doing["hours"].fillna(0).sum()),
        warnings=list(summary.get("warnings", [])),
        lines=[
            PlanLineOut(
                plan_line_id=row["plan_line_id"],
                account_id=row["account_id"],
                csm=row["owner"],
                action=row["action"],
                arm=row["arm"],
                assignment_probability=float(row["assignment_probability"]),
                hours=row["hours"],
                expected_saved_arr=row["stated_value"],
                ranking_saved_arr=row["expected_value"],
                why=row["reason"],
            )
            for row in lines.astype(object).where(lines.notna(), None).to_dict("records")
        ],
    )
