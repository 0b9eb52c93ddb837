"""Who may call the API, and what a request must look like before any work is done.

API keys are compared in constant time; a key shorter than `MIN_KEY_LENGTH` characters is
refused at start (it can be guessed). Scoring bodies must be JSON (`415` otherwise).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

MIN_KEY_LENGTH = 16
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your API key.")


def short_keys(keys: Sequence[str]) -> list[str]:
    """The keys too short to be safe, shown by their first 3 characters only."""
    return [f"{key[:3]}... ({len(key)} characters)" for key in keys if len(key) < MIN_KEY_LENGTH]


def check_keys(keys: Sequence[str]) -> None:
    """Raise `ValueError` naming (without revealing) the keys shorter than the minimum."""
    weak = short_keys(keys)
    if weak:
        raise ValueError(
            f"RETAIN_API_KEYS: keys need at least {MIN_KEY_LENGTH} characters; too short: "
            + ", ".join(weak)
        )


def key_checker(keys: Sequence[str]) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency accepting any of `keys` in `X-API-Key` (401 otherwise)."""
    encoded = [key.encode() for key in keys]

    async def require_key(api_key: Annotated[str | None, Depends(api_key_header)]) -> None:
        given = (api_key or "").encode()
        matched = False
        for key in encoded:  # check every key, constant time each
            matched |= hmac.compare_digest(given, key)
        if not matched:
            raise HTTPException(401, "missing or wrong X-API-Key", {"WWW-Authenticate": "API-Key"})

    return require_key


async def require_json(request: Request) -> None:
    """A FastAPI dependency: the body must be `application/json` (or `+json`), else 415."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(415, "send the body as JSON with Content-Type: application/json")
