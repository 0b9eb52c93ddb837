"""The portfolio: every account a person may see, ranked by ARR at risk, with the totals.

Scores come from `ScoringService.score_all` once per bundle and data (the latest snapshot
does not change between requests), names and owners from the source's accounts table.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from serving.pages.history import ScoreHistory
from serving.schemas import AccountScore

RENEWAL_SOON_DAYS = 90
SHORT_TERM_DAYS = 180  # a term under 6 months renews every term: not "a renewal coming up"
TERM_FEATURE = "term_length_days"
NEVER = 10**9  # sorts accounts without a renewal date last
SORTS = {
    "arr_at_risk": ("ARR at risk", lambda r: -(r.arr_at_risk or 0.0)),
    "churn": ("Churn risk", lambda r: -r.churn),
    "renewal": ("Renewal", lambda r: NEVER if r.days_to_renewal is None else r.days_to_renewal),
    "arr": ("ARR", lambda r: -(r.arr or 0.0)),
}  # fmt: skip
RENEWAL_WINDOWS = (30, 60, 90, 180)
PAGE_ROWS = 100  # the thirteenth audit's manager read 7,480 rows as one 5.7 MB page


@dataclass(frozen=True)
class AccountInfo:
    """An account's display name and owner (the accounts table's `name`, `csm_owner`)."""

    account_id: str
    name: str
    owner: str | None


class Directory:
    """Names and owners of the source's accounts, read once."""

    def __init__(self) -> None:
        self._info: dict[str, AccountInfo] | None = None
        self._lock = threading.Lock()

    def load(self, service: Any) -> dict[str, AccountInfo]:
        with self._lock:
            if self._info is None:
                self._info = _read_accounts(service)
            return self._info

    def of(self, service: Any, account_id: str) -> AccountInfo:
        info = self.load(service).get(account_id)
        return info or AccountInfo(account_id, account_id, None)


def _read_accounts(service: Any) -> dict[str, AccountInfo]:
    source = getattr(service.features, "source", None)
    if source is None:
        return {}
    cursor = source.con.cursor()
    try:
        rows = cursor.execute("SELECT account_id, name, csm_owner FROM accounts").fetchall()
    finally:
        cursor.close()
    return {
        str(a): AccountInfo(str(a), str(n) if n is not None else str(a), o and str(o))
        for a, n, o in rows
    }


class ScoreBook:
    """Every active account's score for the bundle and data in use, computed once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, Any] | None = None  # the bundle and the snapshot scored
        self._scores: dict[str, AccountScore] = {}

    def scores(self, service: Any) -> dict[str, AccountScore]:
        """Account id -> its score (heavy the first time: call off the event loop).

        Computed again for another bundle or another latest snapshot (the source's, or
        the same time with touchpoints recorded since: `serving.recorded`).
        """
        with self._lock:
            bundle, latest = service.models.bundle, service.features.latest
            key = (bundle, latest)
            if self._key is None or any(a is not b for a, b in zip(key, self._key, strict=True)):
                _, _, chunks = service.score_all()
                self._scores = {s.account_id: s for chunk in chunks for s in chunk}
                self._key = key
                # Tens of thousands of long-lived objects: left to the cyclic GC, each full
                # collection walks them all (a 500-account portfolio's p95 went from ~65 ms
                # to ~400 ms). Collect now, then keep what lives out of later collections.
                gc.collect()
                gc.freeze()
            return self._scores


@dataclass(frozen=True)
class PortfolioRow:
    """One account's line in the portfolio."""

    account_id: str
    name: str
    owner: str | None
    arr: float | None
    arr_at_risk: float | None
    renewal_date: date | None
    days_to_renewal: int | None
    churn: float
    churn_change: float | None
    upsell: float | None
    risk_tier: str
    account_tier: str
    top_driver: str | None
    action: str
    action_reason: str | None


def top_risk_driver(score: AccountScore) -> str | None:
    """The sentence of the strongest driver raising the churn risk, if any."""
    raising = [d for d in score.drivers if d.contribution > 0]
    return max(raising, key=lambda d: d.contribution).sentence if raising else None


def portfolio_row(
    score: AccountScore, info: AccountInfo, history: ScoreHistory | None
) -> PortfolioRow:
    previous = history.previous_churn(score.account_id) if history is not None else None
    first = score.actions[0] if score.actions else None
    return PortfolioRow(
        account_id=score.account_id,
        name=info.name,
        owner=info.owner,
        arr=score.arr,
        arr_at_risk=score.arr_at_risk,
        renewal_date=score.renewal_date,
        days_to_renewal=score.days_to_renewal,
        churn=score.churn_probability,
        churn_change=None if previous is None else score.churn_probability - previous,
        upsell=score.upsell_probability,
        risk_tier=score.risk_tier,
        account_tier=score.account_tier,
        top_driver=top_risk_driver(score),
        action=score.next_best_action,
        action_reason=first.reason
        if first is not None and first.action == score.next_best_action
        else None,
    )


UNOWNED = "(no owner)"  # the owner filter's choice for accounts without a CSM owner


@dataclass(frozen=True)
class Filters:
    """What a manager narrows the portfolio to (None: everything; `UNOWNED`: no owner)."""

    owner: str | None = None
    account_tier: str | None = None
    risk_tier: str | None = None
    renewal_days: int | None = None
    sort: str = "arr_at_risk"

    def keeps(self, row: PortfolioRow) -> bool:
        if self.owner is not None and row.owner != (None if self.owner == UNOWNED else self.owner):
            return False
        if self.account_tier is not None and row.account_tier != self.account_tier:
            return False
        if self.risk_tier is not None and row.risk_tier != self.risk_tier:
            return False
        if self.renewal_days is None:
            return True
        return row.days_to_renewal is not None and row.days_to_renewal <= self.renewal_days

    def link(self, page: int) -> str:
        """The portfolio's address for `page` of these filters and sort."""
        query = {
            "owner": self.owner,
            "tier": self.account_tier,
            "risk": self.risk_tier,
            "renewal": self.renewal_days,
            "sort": self.sort,
            "page": page,
        }
        return "/app?" + urlencode({k: v for k, v in query.items() if v is not None})


@dataclass(frozen=True)
class Paging:
    """Which of the filtered, sorted rows one page shows (rows counted from 1)."""

    number: int
    pages: int
    first: int  # the first row shown (0: no row)
    last: int
    rows: int  # rows on every page together


def page_of(
    rows: Sequence[PortfolioRow], asked: int | None, size: int | None = None
) -> tuple[Sequence[PortfolioRow], Paging]:
    """Page `asked` of `rows` (None or 0: the first; past the end: the last) and where it is."""
    size = size or PAGE_ROWS
    pages = max(1, math.ceil(len(rows) / size))
    number = min(max(asked or 1, 1), pages)
    start = (number - 1) * size
    shown = rows[start : start + size]
    return shown, Paging(number, pages, start + 1 if shown else 0, start + len(shown), len(rows))


@dataclass(frozen=True)
class Totals:
    """The figures at the top of the portfolio."""

    accounts: int
    arr: float
    arr_at_risk: float
    renewals_soon: int
    renewals_soon_arr: float
    high_risk: int
    short_terms: int = 0
    short_terms_arr: float = 0.0


def _money(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def totals(rows: Sequence[PortfolioRow], terms: Mapping[str, float] | None = None) -> Totals:
    """ARR at risk, renewals in the next 90 days and high-risk accounts of `rows`.

    An account on a term under 6 months (`terms`: account -> days of the term in force)
    renews every term, so it is counted apart, not as a renewal coming up: the eighth
    audit's monthly book read "645 renewals in the next 90 days" of 792 accounts.
    """
    terms = terms or {}
    short = [r for r in rows if terms.get(r.account_id, math.inf) < SHORT_TERM_DAYS]
    shorts = {r.account_id for r in short}
    soon = [
        r
        for r in rows
        if r.days_to_renewal is not None
        and r.days_to_renewal <= RENEWAL_SOON_DAYS
        and r.account_id not in shorts
    ]
    return Totals(
        accounts=len(rows),
        arr=sum(_money(r.arr) for r in rows),
        arr_at_risk=sum(_money(r.arr_at_risk) for r in rows),
        renewals_soon=len(soon),
        renewals_soon_arr=sum(_money(r.arr) for r in soon),
        high_risk=sum(r.risk_tier == "high" for r in rows),
        short_terms=len(short),
        short_terms_arr=sum(_money(r.arr) for r in short),
    )


def term_days(snapshot: Any) -> dict[str, float]:
    """Account -> days of the term in force, from a `serving.snapshots.FeatureSnapshot`."""
    column = snapshot.column.get(TERM_FEATURE)
    if column is None:
        return {}
    days = snapshot.matrix[:, column]
    return {
        a: float(d) for a, d in zip(snapshot.account_ids, days, strict=True) if not math.isnan(d)
    }


def portfolio(
    scores: Iterable[AccountScore],
    directory: dict[str, AccountInfo],
    history: ScoreHistory | None,
    filters: Filters,
    owner: str | None,
) -> list[PortfolioRow]:
    """The rows one person sees: `owner`'s accounts (None: everyone's), filtered and sorted."""
    rows = []
    for score in scores:
        info = directory.get(score.account_id) or AccountInfo(
            score.account_id, score.account_id, None
        )
        if owner is not None and info.owner != owner:
            continue
        row = portfolio_row(score, info, history)
        if filters.keeps(row):
            rows.append(row)
    key = SORTS.get(filters.sort, SORTS["arr_at_risk"])[1]
    return sorted(rows, key=lambda r: (key(r), r.account_id))
