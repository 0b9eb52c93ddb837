"""The API's error bodies, one shape per kind, as `/openapi.json` declares them.

A request the service cannot read is a 400 (the body is not JSON) or a 422 (a field is
wrong), both `FieldErrors`: `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`, `loc`
naming the field (`["body", "as_of"]`, `["query", "week"]`). Every other error (401, 404,
409, 413, 415, 503) is `ErrorOut`: `{"detail": "a sentence"}`. Routes declare theirs with
`error_responses`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

FIELD_ERROR_CODES = (400, 422)


class ErrorOut(BaseModel):
    """An error message (every error but 400 and 422)."""

    detail: str


class FieldError(BaseModel):
    """One thing wrong with a request, and where: `["body", "as_of"]`, `["query", "week"]`."""

    loc: list[str | int]
    msg: str
    type: str


class FieldErrors(BaseModel):
    """What is wrong with the request, field by field (422; 400: the body is not JSON)."""

    detail: list[FieldError]


def field_error(loc: Sequence[str], message: str, kind: str = "value_error") -> HTTPException:
    """A 422 naming the field at `loc`."""
    return HTTPException(422, [{"loc": list(loc), "msg": message, "type": kind}])


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` for `codes`: 400 and 422 `FieldErrors`, the others `ErrorOut`."""
    return {
        code: {"model": FieldErrors if code in FIELD_ERROR_CODES else ErrorOut} for code in codes
    }


async def request_errors(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors as `FieldErrors`: 400 when the body is not JSON, else 422."""
    errors = exc.errors()
    code = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
    detail = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in errors]
    return JSONResponse({"detail": detail}, status_code=code)
