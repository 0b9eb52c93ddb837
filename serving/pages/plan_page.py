"""The weekly plan page: one CSM's lines for the week, hours used, and marking a line done.

The plan is the one `GET /v1/plan` serves (`serving.plan_routes.Planner`: made once per
week and stored); marking a line done records a touchpoint that follows it (its id is the
line's, so marking twice records once).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from serving.pages.render import page
from serving.pages.sessions import check_csrf
from serving.pages.state import PageError, pages_of, service_of
from serving.plan import account_owners, as_the_data_spells, closest_hint
from store import PlanLineContradiction, StoreUnavailable, Touchpoint, TouchpointConflict
from store.records import utc_now

router = APIRouter(prefix="/app", include_in_schema=False)


def _week(service: Any) -> Any:
    from serving.plan import default_week

    return default_week(service.features.latest.as_of)


def _plan(request: Request, service: Any, csm: str | None) -> dict[str, Any]:
    store, planner = request.app.state.store, request.app.state.planner
    week = _week(service)
    planner.ensure(service, store, week)
    lines = store.plan_lines(week.date(), csm)
    done = store.touchpoints()
    done = done[done["plan_line_id"].isin(set(lines["plan_line_id"]))] if not done.empty else done
    done_ids = set(done["plan_line_id"]) if not done.empty else set()
    rows = lines.astype(object).where(lines.notna(), None).to_dict(orient="records")
    doing = [r for r in rows if r["arm"] != "control"]
    return {
        "week": week,
        "lines": sorted(rows, key=lambda r: (r["arm"] == "control", -_stated(r))),
        "done": done_ids,
        "owners": sorted({str(o) for o in store.plan_lines(week.date())["owner"].dropna()}),
        "capacity": planner.config.csm_hours.of(csm) if csm else None,
        "hours_planned": float(sum(r["hours"] or 0 for r in doing)),
        "expected": float(sum(_stated(r) for r in doing)),
        "hours_done": float(sum(r["hours"] or 0 for r in doing if r["plan_line_id"] in done_ids)),
    }


def _stated(line: dict[str, Any]) -> float:
    """A line's expected saved ARR as history shows it (as ranked for a line stored before)."""
    found = line["stated_value"] if line["stated_value"] is not None else line["expected_value"]
    return float(found or 0.0)


@router.get("/plan")
async def plan_page(request: Request, csm: str | None = None) -> Response:
    """The week's plan of the signed-in CSM (a manager chooses the CSM)."""
    pages = pages_of(request)
    session = pages.session(request)
    user = session.user
    service = service_of(request, user)
    if getattr(request.app.state, "planner", None) is None:
        raise PageError(404, "This service makes no weekly plan.", user=user)
    if not user.is_manager:
        if csm is not None and csm != user.csm_owner:
            raise PageError(403, "This plan belongs to another CSM.", user=user)
        csm = user.csm_owner
    elif csm:  # a manager's choice: as the data spells it, and an unknown one said
        owners = await asyncio.to_thread(account_owners, service)
        csm = as_the_data_spells(csm, owners)
        if csm not in owners:
            hint = closest_hint(csm, owners)
            raise PageError(404, f"No account is owned by CSM {csm!r}{hint}.", user=user)
    else:
        csm = None  # "?csm=": every CSM's lines
    try:
        plan = await asyncio.to_thread(_plan, request, service, csm)
    except StoreUnavailable as error:
        raise PageError(503, f"The store is unreachable: {error}", user=user) from None
    names = await asyncio.to_thread(pages.directory.load, service)
    return page(
        request,
        "plan.html",
        user=user,
        csrf_token=session.csrf,
        csm=csm,
        names={a: i.name for a, i in names.items()},
        **plan,
    )


def _line(store: Any, week: Any, plan_line_id: str) -> dict[str, Any] | None:
    lines = store.plan_lines(week.date())
    match = lines[lines["plan_line_id"] == plan_line_id]
    if match.empty:
        return None
    row: dict[str, Any] = match.astype(object).where(pd.notna(match), None).iloc[0].to_dict()
    return row


@router.post("/plan/lines/{plan_line_id:path}/done")
async def mark_done(
    request: Request, plan_line_id: str, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Record the touchpoint that follows a plan line (once, however often it is marked)."""
    pages = pages_of(request)
    session = pages.session(request)
    check_csrf(session, csrf_token)
    user = session.user
    service = service_of(request, user)
    store = request.app.state.store
    line = await asyncio.to_thread(_line, store, _week(service), plan_line_id)
    if line is None:
        raise PageError(404, f"No line {plan_line_id!r} in this week's plan.", user=user)
    if not user.may_see(line["owner"]):
        raise PageError(403, "This line belongs to another CSM.", user=user)
    touchpoint = Touchpoint(
        touchpoint_id=f"plan-{plan_line_id}",
        account_id=line["account_id"],
        ts=utc_now(),
        type=line["action"],
        owner=user.csm_owner,
        notes="Done from the weekly plan",
        plan_line_id=plan_line_id,
    )
    try:
        await asyncio.to_thread(store.add_touchpoint, touchpoint)
    except TouchpointConflict:
        pass  # already marked done (by someone else, at another time): it counts once
    except PlanLineContradiction as error:  # the store's one check, as for the API
        if error.field == "plan_line_id":  # a control's line
            message = "This account is held back this week: do not act on it."
        else:  # the line changed under the page (a new plan)
            message = f"This line cannot be marked done: {error}"
        raise PageError(409, message, user=user) from None
    except StoreUnavailable as error:
        raise PageError(503, f"The store is unreachable: {error}", user=user) from None
    return RedirectResponse(f"/app/plan?csm={quote(str(line['owner'] or ''))}", status_code=303)
