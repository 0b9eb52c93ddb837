"""What a feature is, and the SQL pieces its definitions are written with.

Each `Feature` carries its name, its signal family, a sentence a CSM
understands, its unit, which direction is healthy and its SQL. The SQL is a
plain aggregate expression evaluated over one *source*: a relation with one
row per fact visible at the snapshot time T (see `features/sql/sources.py`
for the columns each source offers), grouped by account and T. Features of
the source ``"features"`` are computed afterwards from other features' values.

Time columns in sources are ages in days before T (``age_days``), so a window
of 30 days is ``age_days < 30``: the interval (T - 30 days, T].

`empty` is the value an account gets when its source has no rows at all
(e.g. 0 events, but an unknown NPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Healthy = Literal["higher", "lower", "neutral"]


@dataclass(frozen=True)
class Feature:
    """One account feature: what it means and how it is computed.

    Attributes:
        name: Column name, unique across the catalogue.
        family: Signal family; the module of `features.definitions` named after it defines it.
        description: One sentence a CSM understands.
        unit: Unit of the value, for people.
        healthy: Which direction is healthy: "higher", "lower" or "neutral".
        sql: Aggregate expression over the rows of `source`.
        source: The relation the SQL reads (`features/sql/sources.py`), or "features".
        empty: Value when the source has no rows for the account (None: unknown).
        verdict: Whether a value can read as better or worse than healthy accounts (a
            reason); False for one that describes the account, whose healthy direction the
            model may still follow (renewals so far: a count of terms, so a monthly account
            has twelve a year; the eighth new-user audit read "1 renewal, worse than healthy
            accounts (9)" for an annual one).
        material: The smallest difference from healthy accounts that reads as a reason, in
            the feature's unit (0: any difference its unit shows). Where most healthy
            accounts sit at 0, any value is outside their band: the ninth new-user audit read
            "Age in days of the oldest open ticket: 1 day, worse than healthy accounts (0
            days)" as an account's second driver.
        window_days: For a count over the last N days, N: an account younger than that has
            not filled the window, so its count is no reason against healthy accounts' full
            ones (the eleventh audit read "2 value steps in the last 90 days, worse than
            healthy accounts (13)" for accounts 6-25 days old). None: not such a count.
    """

    name: str
    family: str
    description: str
    unit: str
    healthy: Healthy
    sql: str
    source: str
    empty: float | None = None
    verdict: bool = True
    material: float = 0.0
    window_days: int | None = None

    @property
    def judged(self) -> bool:
        """Whether a value of it reads as better or worse than healthy accounts'."""
        return self.verdict and self.healthy in ("higher", "lower")


# Sums and means of floating-point columns go through DECIMAL: DuckDB aggregates in
# parallel, and float addition in a varying order changes the last bits from run to
# run, which made training not reproducible. Exact decimal sums do not depend on order.
EXACT = "DECIMAL(38, 9)"


def in_last(days: int, where: str | None = None) -> str:
    """Condition: within the last `days` days (and `where`, if given)."""
    return f"age_days < {days}" + (f" AND ({where})" if where else "")


def between(start: int, stop: int, where: str | None = None) -> str:
    """Condition: between `start` and `stop` days before T (and `where`, if given)."""
    return f"age_days >= {start} AND age_days < {stop}" + (f" AND ({where})" if where else "")


def count_if(condition: str) -> str:
    """Number of rows meeting `condition`."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def sum_if(column: str, condition: str) -> str:
    """Exact sum of `column` over the rows meeting `condition` (0 if none)."""
    return f"CAST(SUM(CASE WHEN {condition} THEN CAST({column} AS {EXACT}) ELSE 0 END) AS DOUBLE)"


def mean_if(column: str, condition: str) -> str:
    """Exact mean of `column` over the rows meeting `condition` (NULL if none)."""
    return f"CAST(AVG(CASE WHEN {condition} THEN CAST({column} AS {EXACT}) END) AS DOUBLE)"


def distinct_if(column: str, condition: str) -> str:
    """Number of distinct values of `column` among the rows meeting `condition`."""
    return f"COUNT(DISTINCT CASE WHEN {condition} THEN {column} END)"


def ratio(numerator: str, denominator: str) -> str:
    """`numerator / denominator` as a double, NULL when the denominator is 0."""
    return f"CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)"


def change(recent: str, before: str) -> str:
    """Symmetric change from -1 (stopped) through 0 (flat) to +1 (started)."""
    return (
        f"CASE WHEN ({recent}) + ({before}) = 0 THEN 0.0 "
        f"ELSE CAST(({recent}) - ({before}) AS DOUBLE) / (({recent}) + ({before})) END"
    )
