"""The CSM pages at `/app`: portfolio, account, weekly plan; people sign in (not API keys).

Server-rendered Jinja2 templates over the same scoring service and store as the API; no
JavaScript build chain and nothing fetched from the internet (the CSS is a local file).
`attach_pages(app, settings)` mounts them; without `RETAIN_USERS_FILE` and
`RETAIN_SESSION_SECRET` every page answers 503 saying so, and the API is unaffected.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import SecretStr

from serving.pages.history import HistoryKeeper
from serving.pages.portfolio import Directory, ScoreBook
from serving.pages.render import STATIC, page
from serving.pages.sessions import Sessions
from serving.pages.state import PageError, Pages
from serving.pages.users import load_users, unknown_owners

logger = logging.getLogger(__name__)

__all__ = ["PageError", "Pages", "attach_pages", "warn_of_unknown_owners"]


def warn_of_unknown_owners(app_state: Any, users_file: Any) -> None:
    """Log, at start, each CSM of the users file whose owner owns no account in the data.

    The start is where the file meets the data and where CS ops, who edit the file and
    restart the service, look; the CSM is also told on their portfolio.
    """
    pages: Pages | None = getattr(app_state, "pages", None)
    if pages is None or pages.sessions is None:
        return
    from serving.plan import account_owners

    owners = account_owners(app_state.service)
    if not owners:  # no accounts table to check against
        return
    for sentence in unknown_owners(pages.sessions.users, owners, users_file):
        logger.warning("%s", sentence)


def _sessions(settings: Any) -> tuple[Sessions | None, str | None]:
    users_file = getattr(settings, "users_file", None)
    secret = getattr(settings, "session_secret", None)
    secret_value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not users_file or not secret_value:
        return None, "sign-in is not configured: set RETAIN_USERS_FILE and RETAIN_SESSION_SECRET"
    users = load_users(users_file)  # a wrong file stops the start, naming the entry
    hours = float(getattr(settings, "session_hours", 12.0))
    return Sessions(secret_value, users, hours), None


def attach_pages(app: FastAPI, settings: Any) -> None:
    """Mount the pages, their static files and their error pages on `app`.

    Raises:
        UsersError: the users file is wrong (names the file and entry).
        ValueError: the session secret is too short.
    """
    from serving.pages import plan_page, routes, signin

    sessions, reason = _sessions(settings)
    if reason:
        logger.warning("pages at /app are off: %s", reason)
    app.state.pages = Pages(sessions, reason, Directory(), ScoreBook(), HistoryKeeper())
    app.mount("/app/static", StaticFiles(directory=STATIC), name="pages-static")
    for module in (signin, routes, plan_page):
        app.include_router(module.router)

    @app.exception_handler(PageError)
    async def page_error(request: Request, error: PageError) -> Response:
        if error.location is not None:
            return RedirectResponse(error.location, status_code=error.status_code)
        sessions = request.app.state.pages.sessions
        session = sessions.current(request) if sessions is not None else None
        return page(
            request,
            "error.html",
            status_code=error.status_code,
            message=error.message,
            user=session.user if session else None,
            csrf_token=session.csrf if session else "",
        )
