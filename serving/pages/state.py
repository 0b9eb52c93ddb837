"""What the pages keep on `app.state.pages`, and the errors they show as pages."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request

from serving.pages.history import HistoryKeeper, ScoreHistory
from serving.pages.portfolio import Directory, ScoreBook
from serving.pages.sessions import Session, Sessions
from serving.pages.users import User

logger = logging.getLogger(__name__)


class PageError(Exception):
    """A page that cannot be shown: an error page with `status_code`, or a redirect."""

    def __init__(
        self,
        status_code: int,
        message: str = "",
        location: str | None = None,
        user: User | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.location = location
        self.user = user


@dataclass
class Pages:
    """The pages' state: sign-in, account names, cached scores and score history."""

    sessions: Sessions | None
    off_reason: str | None
    directory: Directory
    book: ScoreBook
    history: HistoryKeeper

    def session(self, request: Request) -> Session:
        """The signed-in person, or a 302 to sign-in (503 when sign-in is not configured)."""
        if self.sessions is None:
            raise PageError(503, self.off_reason or "sign-in is not configured")
        session = self.sessions.current(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageError(302, location=f"/app/login?next={quote(target)}")
        return session


def pages_of(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def service_of(request: Request, user: User | None = None) -> Any:
    """The scoring service, or a 503 page while it loads."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise PageError(
            503, "The service is still loading the accounts: try again shortly.", user=user
        )
    return service


async def history_of(pages: Pages, service: Any) -> ScoreHistory | None:
    """The score history (waits for its first computation); None if it could not be made."""
    try:
        return await asyncio.wrap_future(pages.history.start(service))
    except Exception:  # the page still shows today's scores
        logger.exception("the monthly score history could not be computed")
        return None
