"""The portfolio and account pages, and recording a touchpoint from the account page."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from features.contract import ACTION_CODES
from serving import coverage
from serving.pages import account as details
from serving.pages.portfolio import (
    RENEWAL_WINDOWS,
    SORTS,
    UNOWNED,
    Filters,
    page_of,
    portfolio,
    term_days,
    totals,
)
from serving.pages.render import page
from serving.pages.sessions import Session, check_csrf
from serving.pages.state import PageError, Pages, history_of, pages_of, service_of
from serving.plan import as_the_data_spells, closest_hint
from serving.recorded import catch_up
from serving.touchpoints import TouchpointIn
from store import StoreUnavailable, Touchpoint, TouchpointConflict, UnknownPlanLine
from store.records import utc_now

router = APIRouter(prefix="/app", include_in_schema=False)
RISK_TIERS = ("high", "medium", "low")


def _choice(value: str | None, allowed: Any) -> str | None:
    return value if value and value in allowed else None


def _whole(value: str | None) -> int | None:
    """A whole number typed in the address, or None (ignored, as any choice not offered)."""
    if not value or not value.isascii() or not value.isdigit():  # "²" is a digit int() refuses
        return None
    try:
        return int(value)
    except ValueError:  # more digits than Python converts
        return None


@router.get("")
async def portfolio_page(
    request: Request,
    owner: str | None = None,
    tier: str | None = None,
    risk: str | None = None,
    renewal: str | None = None,
    sort: str = "arr_at_risk",
    number: Annotated[str | None, Query(alias="page")] = None,
) -> Response:
    """The signed-in person's accounts (a manager: everyone's, filtered), by ARR at risk.

    `PAGE_ROWS` rows a page; the totals count every row the filters keep.
    """
    pages = pages_of(request)
    session = pages.session(request)
    user = session.user
    service = service_of(request, user)
    await catch_up(request.app.state, service)  # touchpoints recorded since count
    scores = await asyncio.to_thread(pages.book.scores, service)
    directory = await asyncio.to_thread(pages.directory.load, service)
    history = await history_of(pages, service)
    owners = sorted({i.owner for i in directory.values() if i.owner is not None})
    tiers = sorted({s.account_tier for s in scores.values()})
    chosen, said = _owner_filter(owner, owners) if user.is_manager else (None, None)
    filters = Filters(
        owner=chosen,
        account_tier=_choice(tier, tiers),
        risk_tier=_choice(risk, RISK_TIERS),
        renewal_days=_whole(renewal),
        sort=sort if sort in SORTS else "arr_at_risk",
    )
    rows = portfolio(
        scores.values(), directory, history, filters, None if user.is_manager else user.csm_owner
    )
    shown, paging = page_of(rows, _whole(number))
    # an owner no account has travels as typed, so the next page says so again
    links = replace(filters, owner=owner) if said else filters
    return page(
        request,
        "portfolio.html",
        unknown_owner=said if user.is_manager else unknown_owner(user.csm_owner, owners),
        unowned=UNOWNED,
        user=user,
        csrf_token=session.csrf,
        rows=shown,
        paging=paging,
        previous_page=links.link(paging.number - 1) if paging.number > 1 else None,
        next_page=links.link(paging.number + 1) if paging.number < paging.pages else None,
        totals=totals(rows, term_days(service.features.latest)),
        filters=filters,
        owners=owners,
        tiers=tiers,
        risk_tiers=RISK_TIERS,
        windows=RENEWAL_WINDOWS,
        sorts={k: v[0] for k, v in SORTS.items()},
        as_of=service.features.latest.as_of,
        previous=history.dates[-2] if history is not None and len(history.dates) > 1 else None,
    )


def _owner_filter(owner: str | None, owners: list[str]) -> tuple[str | None, str | None]:
    """A manager's owner filter as the data spells it, and what to say when it owns nothing.

    An owner no account has was ignored without a word, showing everyone's accounts (the
    eighth new-user audit); now the page says so and names the closest owner.
    """
    if not owner or owner == UNOWNED:
        return owner or None, None
    found = as_the_data_spells(owner, owners)
    if found in owners:
        return found, None
    hint = closest_hint(owner, owners)
    return None, f"No account is owned by {owner!r}{hint}: showing every owner's accounts."


def unknown_owner(owner: str, owners: list[str]) -> str | None:
    """What to tell a CSM whose users-file owner owns no account, or None.

    A misspelt `owner` in the users file showed the CSM an empty portfolio without a word
    (the fifth audit); the closest owner in the data is named so CS ops can mend it.
    """
    if owner in owners:
        return None
    return (
        f"No account in the data is owned by {owner!r}, the owner your sign-in is set to"
        f"{closest_hint(owner, owners)}: ask CS ops to correct the users file."
    )


async def _account(request: Request, pages: Pages, session: Session, account_id: str) -> Any:
    """The account's score and owner, after checking the person may see it (404, 403).

    `account_id` may be typed in the other Unicode form (NFC or NFD) than the data's: it is
    found as the API finds it (`serving.id_forms`), and the score carries the data's id.
    """
    service = service_of(request, session.user)
    await catch_up(request.app.state, service)  # touchpoints recorded since count
    scores = await asyncio.to_thread(pages.book.scores, service)
    found = account_id if account_id in scores else service.features.latest.find(account_id)
    score = None if found is None else scores.get(found)
    if score is None:
        raise PageError(404, f"No active account {account_id!r}.", user=session.user)
    info = await asyncio.to_thread(pages.directory.of, service, score.account_id)
    if not session.user.may_see(info.owner):
        raise PageError(403, "This account belongs to another CSM.", user=session.user)
    return service, score, info


def _account_details(service: Any, store: Any, account_id: str) -> dict[str, Any]:
    latest = service.features.latest
    bundle = service.models.bundle
    row = latest.row[account_id]
    values = dict(zip(latest.feature_names, latest.matrix[row].tolist(), strict=True))
    hidden = sorted(coverage.unsupported_features(bundle.churn, service.catalogue))
    try:
        touchpoints, store_error = details.timeline(service, store, account_id), None
        planned = details.plan_line(service, store, account_id)
    except StoreUnavailable as error:
        touchpoints, store_error, planned = [], str(error), None
    return {
        "plan_line": planned,
        "measures": details.measures(
            {k: None if np.isnan(v) else v for k, v in values.items()},
            bundle.churn.healthy_reference,
            service.catalogue,
            hidden,
            getattr(bundle.churn, "healthy_band", None),
        ),
        "key_users": details.key_users(service, account_id, latest.as_of),
        "kpis": details.kpi_results(service, account_id, latest.as_of),
        "timeline": touchpoints,
        "store_error": store_error,
    }


@router.get("/accounts/{account_id:path}")
async def account_page(
    request: Request, account_id: str, error: str | None = None, recorded: str | None = None
) -> Response:
    """One account: trend, measures, key users, KPIs, drivers, actions, touchpoints."""
    pages = pages_of(request)
    session = pages.session(request)
    service, score, info = await _account(request, pages, session, account_id)
    account_id = score.account_id  # as the data spells it
    history = await history_of(pages, service)
    store = getattr(request.app.state, "store", None)
    extra = await asyncio.to_thread(_account_details, service, store, account_id)
    chart = None
    if history is not None:
        churn, upsell = history.of(account_id)
        chart = details.chart(history.dates, {"churn": churn, "upsell": upsell})
        previous = history.previous_churn(account_id)
    else:
        previous = None
    return page(
        request,
        "account.html",
        user=session.user,
        csrf_token=session.csrf,
        score=score,
        info=info,
        chart=chart,
        change=None if previous is None else score.churn_probability - previous,
        raising=[d for d in score.drivers if d.contribution > 0],
        lowering=[d for d in score.drivers if d.contribution < 0],
        action_codes=ACTION_CODES,
        touchpoint_id=f"page-{uuid.uuid4().hex}",
        today=utc_now().date().isoformat(),
        error=error,
        recorded=recorded,
        **extra,
    )


def _when(day: str) -> str:
    """The form's day as a time: now when it is today, else midday (UTC)."""
    chosen = date.fromisoformat(day)
    now = utc_now()
    when = now if chosen == now.date() else datetime.combine(chosen, time(12))
    return when.isoformat()


@router.post("/accounts/{account_id:path}/touchpoints")
async def record_touchpoint(
    request: Request,
    account_id: str,
    touchpoint_id: Annotated[str, Form(max_length=200)],
    type: Annotated[str, Form(max_length=100)],
    day: Annotated[str, Form(max_length=20)],
    notes: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record what was done for the account in the service's store, then show the timeline."""
    pages = pages_of(request)
    session = pages.session(request)
    check_csrf(session, csrf_token)
    _, score, _ = await _account(request, pages, session, account_id)
    account_id = score.account_id  # as the data spells it: the touchpoint counts for it
    back = f"/app/accounts/{quote(account_id, safe='')}"
    try:
        body = TouchpointIn.model_validate(
            {
                "touchpoint_id": touchpoint_id,
                "account_id": account_id,
                "type": type,
                "ts": _when(day),
                "owner": session.user.csm_owner,
                "notes": notes.strip() or None,
            }
        )
        await asyncio.to_thread(
            request.app.state.store.add_touchpoint, Touchpoint(**body.model_dump())
        )
    except ValidationError as problem:
        message = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in problem.errors())
        return RedirectResponse(f"{back}?error={quote(message)}#record", status_code=303)
    except ValueError:
        return RedirectResponse(f"{back}?error={quote('day: not a date')}#record", status_code=303)
    except (StoreUnavailable, TouchpointConflict, UnknownPlanLine) as problem:
        return RedirectResponse(f"{back}?error={quote(str(problem))}#record", status_code=303)
    return RedirectResponse(f"{back}?recorded=1#timeline", status_code=303)
