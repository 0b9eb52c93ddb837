"""The rules for `as_of`, the same for the API and the CLI.

An `as_of` is an ISO-8601 date (`2025-01-01`) or date and time (`2025-01-01T12:00:00`,
optionally with `Z` or an offset). Other spellings are refused: a bare number such as
`20250101` would otherwise be read as Unix time. A time with an offset is converted to
naive UTC (docs/architecture.md, "Time"); a time whose UTC value falls outside the
calendar is refused, not an overflow. It must also lie between `EARLIEST` and the latest
data in the source.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from features.times import utc_iso

EARLIEST = datetime(1900, 1, 1)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|z|[+-]\d{2}:?\d{2})?)?"
)


def parse_as_of(value: object) -> datetime:
    """Read an `as_of` as naive UTC; `ValueError` says what is wrong in one line.

    Args:
        value: An ISO-8601 date or date-time string, or a `date` / `datetime`.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and _ISO.fullmatch(value.strip()):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
        except ValueError as exc:
            raise ValueError(f"as_of {value!r} is not a calendar date or time ({exc})") from None
    else:
        raise ValueError(
            f"as_of {str(value)[:40]!r} is not an ISO-8601 date such as 2025-01-01 "
            "or 2025-01-01T12:00:00Z"
        )
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"as_of {value!s} is outside the calendar in UTC") from None
    if moment < EARLIEST:
        raise ValueError(f"as_of {moment.date()} is before {EARLIEST.date()}")
    return moment


def check_as_of(as_of: datetime | None, latest: datetime) -> None:
    """Raise `ValueError` if `as_of` is after the latest data in the source."""
    if as_of is not None and as_of > latest:
        raise ValueError(
            f"as_of {utc_iso(as_of)} is after the latest data in the source ({utc_iso(latest)})"
        )
