"""Templates (Jinja2, autoescaped) and the filters that write numbers the way a CSM reads them."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from features import units
from features.contract import ACTION_DESCRIPTIONS

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def money(value: float | None) -> str:
    """'12,300', '€12,300' in the configured currency (`features.units.money`), or '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return units.money(value)


def percent(value: float | None) -> str:
    """'35%' (or '—')."""
    return "—" if value is None else f"{100 * value:.0f}%"


def points(value: float | None) -> str:
    """A change in probability in percentage points: '+4 pts', '−2 pts', '0 pts'."""
    if value is None:
        return "—"
    shown = round(100 * value)
    return f"{'+' if shown > 0 else '−' if shown < 0 else '±'}{abs(shown)} pts"


def day(value: date | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d}"


def action_label(code: str) -> str:
    """'business_review' -> 'Business review' ('none': 'No action needed')."""
    return "No action needed" if code == "none" else code.replace("_", " ").capitalize()


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, percent=percent, points=points, day=day, action=action_label)
    env.globals["action_descriptions"] = ACTION_DESCRIPTIONS
    return env


templates = Jinja2Templates(env=_environment())


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template `name` with `context` (the request is passed along)."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
