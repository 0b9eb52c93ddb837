"""Contract terms: the first term, renewals (with churn decided), expansions and uplifts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.accounts import Profiles, add_months
from simulator.config import PLANS
from simulator.state import AccountState, dates

KINDS = ("new", "renewal", "expansion")
OUTCOMES = ("renewed", "churned")


class SubscriptionBook:
    """Every subscription row written so far; outcomes are filled in when decided."""

    def __init__(self) -> None:
        self.columns: dict[str, list[np.ndarray]] = {
            k: [] for k in ("account", "kind", "start", "end", "arr", "seats", "plan")
        }
        self.count = 0
        self.outcome = np.full(0, -1, dtype="int64")

    def add(
        self,
        account: np.ndarray,
        kind: int | np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        arr: np.ndarray,
        seats: np.ndarray,
        plan: np.ndarray,
    ) -> np.ndarray:
        """Append rows; returns their row numbers."""
        n = len(account)
        values = {
            "account": account,
            "kind": np.broadcast_to(kind, (n,)),
            "start": start,
            "end": end,
            "arr": arr,
            "seats": seats,
            "plan": plan,
        }
        for name, column in values.items():
            self.columns[name].append(np.asarray(column).copy())
        rows = np.arange(self.count, self.count + n)
        self.count += n
        self.outcome = np.concatenate([self.outcome, np.full(n, -1, dtype="int64")])
        return rows

    def frame(self, account_ids: np.ndarray) -> pd.DataFrame:
        """The `subscriptions` contract table."""
        col = {k: np.concatenate(v) if v else np.array([]) for k, v in self.columns.items()}
        outcome = np.array(OUTCOMES + (None,), dtype=object)[self.outcome]
        return pd.DataFrame(
            {
                "subscription_id": [f"sub_{i:06d}" for i in range(self.count)],
                "account_id": account_ids[col["account"].astype("int64")],
                "kind": np.array(KINDS, dtype=object)[col["kind"].astype("int64")],
                "start_date": dates(col["start"]),
                "end_date": dates(col["end"]),
                "arr": np.round(col["arr"].astype(float), 2),
                "seats": col["seats"].astype("int64"),
                "plan": np.array(PLANS, dtype=object)[col["plan"].astype("int64")],
                "outcome": outcome,
            }
        )


def open_first_terms(
    p: Profiles, s: AccountState, book: SubscriptionBook, idx: np.ndarray, window_start_day: int
) -> None:
    """Write the terms of accounts `idx` up to the one running at signature or window start.

    Accounts signed before the window renewed every term before it (they are still
    customers); their current term is the one covering the window start.
    """
    if len(idx) == 0:
        return
    months = p.term_months[idx]
    elapsed = np.zeros(len(idx), dtype="int64")
    created = p.created_day[idx]
    while True:
        ends = add_months(created, (elapsed + 1) * months)
        more = ends <= window_start_day
        if not more.any():
            break
        elapsed += more
    rep = np.repeat(np.arange(len(idx)), elapsed + 1)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(elapsed + 1) - (elapsed + 1), elapsed + 1)
    acc = idx[rep]
    start = add_months(p.created_day[acc], within * p.term_months[acc])
    end = add_months(start, p.term_months[acc])
    arr = p.seats[acc] * p.price_per_seat[acc]
    rows = book.add(acc, np.where(within == 0, 0, 1), start, end, arr, p.seats[acc], p.plan[acc])
    last = np.append(np.diff(rep) != 0, True)
    book.outcome[rows[~last]] = 0
    current = idx[rep[last]]
    s.term_sub[current] = rows[last]
    s.term_start[current] = start[last]
    s.term_end[current] = end[last]
    s.term_arr[current] = arr[last]
    s.term_seats[current] = p.seats[current]


def renew(
    p: Profiles,
    s: AccountState,
    book: SubscriptionBook,
    idx: np.ndarray,
    churn: np.ndarray,
    uplift: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Close the current terms of `idx`; start renewal terms for those that stay."""
    book.outcome[s.term_sub[idx]] = churn.astype("int64")
    s.churned_day[idx[churn]] = s.term_end[idx[churn]]
    stay = idx[~churn]
    factor = np.where(uplift[~churn], rng.uniform(1.05, 1.25, len(stay)), 1.0)
    seats = np.ceil(s.term_seats[stay] * np.where(factor > 1, factor, 1.0)).astype("int64")
    arr = s.term_arr[stay] * factor
    start = s.term_end[stay]
    end = add_months(start, p.term_months[stay])
    rows = book.add(stay, 1, start, end, arr, seats, p.plan[stay])
    s.term_sub[stay] = rows
    s.term_start[stay] = start
    s.term_end[stay] = end
    s.term_arr[stay] = arr
    s.term_seats[stay] = seats
    s.term_noise[stay] = rng.normal(0.0, 0.35, len(stay))
    s.term_shift[stay] = 0.0


def expand(
    p: Profiles,
    s: AccountState,
    book: SubscriptionBook,
    idx: np.ndarray,
    lo_day: np.ndarray,
    hi_day: np.ndarray,
    rng: np.random.Generator,
    billed_at_renewal: bool = False,
) -> None:
    """Add co-terminous expansion rows for `idx`, starting in [lo_day, hi_day).

    With `billed_at_renewal` no row is written: the seats are in use from now on but
    billed from the next renewal, whose `arr` and `seats` carry them (monthly billing).
    """
    if len(idx) == 0:
        return
    start = lo_day + (rng.random(len(idx)) * np.maximum(1, hi_day - lo_day)).astype("int64")
    extra = np.ceil(s.term_seats[idx] * rng.uniform(0.1, 0.35, len(idx))).astype("int64")
    arr = extra * p.price_per_seat[idx]
    if not billed_at_renewal:
        book.add(idx, 2, start, s.term_end[idx], arr, extra, p.plan[idx])
    s.term_arr[idx] += arr
    s.term_seats[idx] += extra
