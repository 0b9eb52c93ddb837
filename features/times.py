"""Times as the service writes them: ISO 8601 in UTC, with `Z` (`2027-05-12T00:00:00Z`).

The contract's times are naive UTC. Written without an offset, a time is read as local
time (by JavaScript, by a reader in another zone), so every time the project writes for
someone else says `Z`: API responses, score files, the monitor's results file, and the
messages and sentences that name a time. Dates (a renewal, a plan's week) stay dates.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime) -> str:
    """`moment` in ISO 8601 with `Z`: naive is UTC (the contract's time), aware is converted."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"
