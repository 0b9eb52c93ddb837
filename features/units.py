"""How a feature's value reads in its unit ("41 days", "35%", "flat"), as a CSM would say it.

The words come from the unit's wording alone (`features.definitions`), so any feature with
one of these units reads naturally. Explanations print them (`serving.explain`), and two
values that read the same are in line with each other (`training.families.comparison`).
"""

from __future__ import annotations

import math

from babel.numbers import get_currency_symbol, is_currency

_currency: str | None = None
"""The ISO 4217 code money is shown in (`use_currency`); None: the data does not say."""


def check_currency(code: str) -> str:
    """`code` as an ISO 4217 currency code ("eur" -> "EUR"), or a ValueError saying what to give."""
    upper = code.strip().upper()
    if not is_currency(upper):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code; give one such as EUR, USD")
    return upper


def use_currency(code: str | None) -> None:
    """Show money in `code` (ISO 4217) from now on in this process; None or "": no symbol.

    The data contract's amounts carry no currency, so none is assumed: "12,300" unless the
    company says which (`RETAIN_CURRENCY`), then "€12,300" or "CHF 12,300". The commands
    and the scoring service set it once from their settings.
    """
    global _currency
    _currency = check_currency(code) if code else None


def money(value: float, currency: str | None = None) -> str:
    """An amount in whole units, in `currency` or the process's (`use_currency`).

    The symbol is CLDR's English one (babel): "$12,300", "€12,300", "CA$12,300"; a symbol of
    letters is set apart by a non-breaking space, as CLDR's currency spacing asks: "CHF 12,300".
    """
    code = currency or _currency
    number = f"{abs(value):,.0f}"
    sign = "-" if round(value) < 0 else ""
    if code is None:
        return sign + number
    symbol = get_currency_symbol(code, locale="en")
    return sign + symbol + ("\u00a0" if symbol[-1].isalpha() else "") + number


def _number(value: float) -> str:
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2g}"


WHOLE = ("days",)  # said in whole numbers: "59 days", never "58.5 days" (the fifth audit)


def _counted(value: float, unit: str) -> str:
    shown = f"{round(value):,.0f}" if unit.strip().lower() in WHOLE else _number(value)
    if shown == "1" and unit.endswith("s"):
        unit = unit[:-1]
    return f"{shown} {unit}"


def _change(value: float) -> str:
    """A symmetric change c = (recent - before) / (recent + before) as a CSM says it.

    recent / before = (1 + c) / (1 - c): -0.25 is "down 40%", +0.5 "up 3x" (the feature's
    description names both periods). The eighth new-user audit read "down (-0.25 on a -1
    to +1 scale)", a unit no CSM knows.
    """
    if abs(value) < 0.05:  # within about 10% either way
        return "flat"
    if value <= -0.995:
        return "stopped (none in the recent period)"
    if value >= 0.995:
        return "started (none in the period before)"
    ratio = (1 + value) / (1 - value)
    if ratio >= 2:
        return f"up {ratio:.2g}x"
    return f"{'up' if ratio > 1 else 'down'} {abs(ratio - 1):.0%}"


def is_yes_no(unit: str) -> bool:
    """Whether a unit's values read "yes" or "no"."""
    return (unit or "").strip().lower() in ("yes/no", "flag", "bool", "boolean")


def format_value(value: float | None, unit: str) -> str:
    """A value in its unit, the way a CSM would say it ("41 days", "35%", "12,000").

    Works from the unit's wording alone (shares, money, yes/no, changes, scores, "x/y"
    rates, plain counts), so any feature with one of these units reads naturally.
    """
    if value is None or math.isnan(value):
        return "not known"
    key = (unit or "").strip().lower()
    if is_yes_no(key):
        return "yes" if value >= 0.5 else "no"
    if key.startswith("share") or key in ("percent", "%"):
        return f"{100 * value:.0f}%" if key != "%" else f"{value:.0f}%"
    if key.startswith("change"):
        return _change(value)
    if key == "ratio":
        return f"{value:.2f}x"
    if key.startswith("currency"):
        return money(value) + (f" per {key.split('/', 1)[1]}" if "/" in key else "")
    if key.startswith("score"):
        return f"{value:.1f}".removesuffix(".0")
    if "/" in key:
        counted, per = key.split("/", 1)
        return f"{_counted(value, counted)} per {per}"
    return _counted(value, unit) if key else _number(value)
