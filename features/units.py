"""How a feature's value reads in its unit ("41 days", "35%", "flat"), as a CSM would say it.

The words come from the unit's wording alone (`features.definitions`), so any feature with
one of these units reads naturally. Explanations print them (`serving.explain`), and two
values that read the same are in line with each other (`training.families.comparison`).
"""

from __future__ import annotations

import math


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


def format_value(value: float | None, unit: str) -> str:
    """A value in its unit, the way a CSM would say it ("41 days", "35%", "$12,000").

    Works from the unit's wording alone (shares, money, yes/no, changes, scores, "x/y"
    rates, plain counts), so any feature with one of these units reads naturally.
    """
    if value is None or math.isnan(value):
        return "not known"
    key = (unit or "").strip().lower()
    if key in ("yes/no", "flag", "bool", "boolean"):
        return "yes" if value >= 0.5 else "no"
    if key.startswith("share") or key in ("percent", "%"):
        return f"{100 * value:.0f}%" if key != "%" else f"{value:.0f}%"
    if key.startswith("change"):
        if abs(value) < 0.05:
            return "flat"
        return f"{'up' if value > 0 else 'down'} ({value:+.2f} on a -1 to +1 scale)"
    if key == "ratio":
        return f"{value:.2f}x"
    if key.startswith("currency"):
        money = f"${value:,.0f}"
        return money + (f" per {key.split('/', 1)[1]}" if "/" in key else "")
    if key.startswith("score"):
        return f"{value:.1f}".removesuffix(".0")
    if "/" in key:
        counted, per = key.split("/", 1)
        return f"{_counted(value, counted)} per {per}"
    return _counted(value, unit) if key else _number(value)
