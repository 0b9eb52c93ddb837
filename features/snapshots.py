"""Snapshot date grids: `--every 1M` (month starts), `2W`, `7D`."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

_EVERY = re.compile(r"^\s*(\d+)\s*([MWD])\s*$", re.IGNORECASE)


def parse_every(every: str) -> tuple[int, str]:
    """Split a step such as ``"1M"``, ``"2W"`` or ``"7D"`` into (count, unit letter).

    Raises:
        ValueError: when the step is not a positive count followed by M, W or D.
    """
    match = _EVERY.match(every)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"--every must look like 1M, 2W or 7D, not {every!r}")
    return int(match.group(1)), match.group(2).upper()


def snapshot_dates(start: datetime | str, end: datetime | str, every: str = "1M") -> list[datetime]:
    """Snapshot times from `start` to `end` (both included) every `every`.

    Month steps fall on month starts (the first one on or after `start`); week
    and day steps start at `start`'s midnight.
    """
    count, unit = parse_every(every)
    first = pd.Timestamp(start).normalize()
    last = pd.Timestamp(end)
    if unit == "M":
        if first.day != 1:
            first = first + pd.offsets.MonthBegin(1)
        grid = pd.date_range(first, last, freq=pd.DateOffset(months=count))
    else:
        grid = pd.date_range(first, last, freq=pd.Timedelta(days=count * (7 if unit == "W" else 1)))
    return [stamp.to_pydatetime() for stamp in grid]
