"""Sign in and out of the pages (a username and password from the users file)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from serving.pages.render import page
from serving.pages.sessions import check_csrf
from serving.pages.state import PageError, pages_of
from serving.pages.users import authenticate

router = APIRouter(prefix="/app", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path under /app, never another site."""
    if not target or not target.startswith("/app") or target.startswith("//") or "\\" in target:
        return "/app"
    return target


def _form(request: Request, next_path: str, error: str | None, status: int) -> Response:
    pages = pages_of(request)
    if pages.sessions is None:
        raise PageError(503, pages.off_reason or "sign-in is not configured")
    token = pages.sessions.login_token()
    response = page(
        request, "login.html", status_code=status, next=next_path, error=error, csrf_token=token
    )
    pages.sessions.login_token_cookie(request, response, token)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    service = getattr(request.app.state, "service", None)
    if service is not None:  # warm the monthly history while the person types
        pages_of(request).history.start(service)
    return _form(request, safe_next(next), None, 200)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/app",
) -> Response:
    """Check the password; on success start a session and go on to `next`."""
    pages = pages_of(request)
    if pages.sessions is None:
        raise PageError(503, pages.off_reason or "sign-in is not configured")
    if not pages.sessions.check_login_token(request, csrf_token):
        return _form(request, safe_next(next), "The form expired: please sign in again.", 403)
    user = await asyncio.to_thread(authenticate, pages.sessions.users, username.strip(), password)
    if user is None:
        return _form(request, safe_next(next), "Wrong username or password.", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    pages.sessions.start(request, response, user)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the session."""
    pages = pages_of(request)
    session = pages.session(request)
    check_csrf(session, csrf_token)
    response = RedirectResponse("/app/login", status_code=303)
    pages.sessions.end(response)  # type: ignore[union-attr]
    return response
