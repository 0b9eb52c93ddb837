"""Sessions and CSRF for the pages: a signed cookie, a token in every form.

The session cookie holds the username and the session's CSRF token, signed with
`RETAIN_SESSION_SECRET` (itsdangerous) and dated, so it expires; it is HttpOnly,
SameSite=Lax, limited to `/app`, and Secure when the page is served over HTTPS. Every form
posts the CSRF token back; the sign-in form, before any session exists, gets its own signed
token cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from serving.pages.users import User

SESSION_COOKIE = "retain_session"
LOGIN_COOKIE = "retain_signin"
COOKIE_PATH = "/app"
MIN_SECRET = 32


@dataclass(frozen=True)
class Session:
    """A signed-in person and the CSRF token of their session."""

    user: User
    csrf: str


class Sessions:
    """Issues and reads session cookies and checks CSRF tokens."""

    def __init__(self, secret: str, users: Mapping[str, User], hours: float = 12.0) -> None:
        if len(secret) < MIN_SECRET:
            raise ValueError(f"RETAIN_SESSION_SECRET must have at least {MIN_SECRET} characters")
        self.users = users
        self.max_age = int(hours * 3600)
        self._session = URLSafeTimedSerializer(secret, salt="retain-session")
        self._login = URLSafeTimedSerializer(secret, salt="retain-signin")

    @staticmethod
    def _secure(request: Request) -> bool:
        return request.url.scheme == "https"

    def _set(self, request: Request, response: Response, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            max_age=self.max_age,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
        )

    def start(self, request: Request, response: Response, user: User) -> None:
        """Sign `user` in: a fresh session with a fresh CSRF token."""
        value = self._session.dumps({"u": user.username, "c": secrets.token_urlsafe(32)})
        self._set(request, response, SESSION_COOKIE, value)
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)

    def end(self, response: Response) -> None:
        """Sign out: drop the session cookie."""
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)

    def current(self, request: Request) -> Session | None:
        """The valid session of `request`, or None (missing, forged, expired, unknown user)."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._session.loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user = self.users.get(str(data.get("u")))
        csrf = data.get("c")
        return Session(user, csrf) if user is not None and isinstance(csrf, str) else None

    def login_token(self) -> str:
        """A fresh CSRF token for the sign-in form (set it with `login_token_cookie`)."""
        return secrets.token_urlsafe(32)

    def login_token_cookie(self, request: Request, response: Response, token: str) -> None:
        """Set the signed cookie the sign-in form's token is checked against."""
        self._set(request, response, LOGIN_COOKIE, self._login.dumps(token))

    def check_login_token(self, request: Request, token: str) -> bool:
        """Whether the sign-in form's token matches its cookie."""
        raw = request.cookies.get(LOGIN_COOKIE)
        if not raw or not token:
            return False
        try:
            expected = self._login.loads(raw, max_age=self.max_age)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, token)


def check_csrf(session: Session, token: str | None) -> None:
    """403 unless the form's token is the session's."""
    if not token or not hmac.compare_digest(session.csrf, token):
        raise HTTPException(403, "the form has expired or did not come from this site: reload it")
