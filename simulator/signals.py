"""What the customer tells us besides usage: support tickets, NPS answers and KPI reports."""

from __future__ import annotations

import numpy as np

from simulator.accounts import DAY, Profiles
from simulator.risk import BASE_LOGIT, RiskState, observed_logit
from simulator.state import AccountState, RowBuffer, UserStore

# Category and priority mixes: calm months vs support storms.
CATEGORY_P = (np.array([0.25, 0.45, 0.2, 0.1]), np.array([0.8, 0.1, 0.05, 0.05]))
PRIORITY_P = (np.array([0.3, 0.55, 0.12, 0.03]), np.array([0.0, 0.2, 0.5, 0.3]))
CSAT_P = (np.array([0.03, 0.05, 0.15, 0.32, 0.45]), np.array([0.4, 0.35, 0.15, 0.07, 0.03]))


def _pick(probs: tuple[np.ndarray, np.ndarray], storm: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a category index per row from the calm or storm distribution."""
    calm = np.searchsorted(np.cumsum(probs[0]), u * probs[0].sum(), side="right")
    rough = np.searchsorted(np.cumsum(probs[1]), u * probs[1].sum(), side="right")
    return np.where(storm, rough, calm)


def month_tickets(
    s: AccountState,
    users: UserStore,
    idx: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
    window_end_s: int,
    rng: np.random.Generator,
    out: RowBuffer,
) -> None:
    """Support tickets of accounts `idx` opened within [start_s, end_s)."""
    n_users = users.users_active(s.n, int(start_s.min()))[idx]
    storm = s.storm[idx] > 0
    counts = rng.poisson(0.2 + 0.03 * np.minimum(n_users, 50)) + np.where(
        storm, rng.poisson(5.0, len(idx)), 0
    )
    rep = np.repeat(np.arange(len(idx)), counts)
    n = len(rep)
    in_storm = storm[rep]
    opened = start_s[rep] + (rng.random(n) * np.maximum(1, end_s - start_s)[rep]).astype("int64")
    mean_close = np.where(in_storm, 6.0, 1.5) * DAY
    closed = opened + (rng.exponential(1.0, n) * mean_close).astype("int64") + 600
    csat = _pick(CSAT_P, in_storm, rng.random(n)) + 1
    csat = np.where((rng.random(n) < 0.45) & (closed <= window_end_s), csat, -1)
    out.add(
        account=idx[rep],
        opened_s=opened,
        closed_s=np.where(closed <= window_end_s, closed, -1),
        priority=_pick(PRIORITY_P, in_storm, rng.random(n)),
        category=_pick(CATEGORY_P, in_storm, rng.random(n)),
        csat=csat,
    )


def pick_active_users(
    users: UserStore, t_s: int, accounts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One random user active at `t_s` for each of `accounts` (-1 where none)."""
    active = np.flatnonzero(users.active_at(t_s))
    order = active[np.argsort(users.account[active], kind="stable")]
    sorted_acc = users.account[order]
    first = np.searchsorted(sorted_acc, accounts, side="left")
    count = np.searchsorted(sorted_acc, accounts, side="right") - first
    pos = first + (rng.random(len(accounts)) * count).astype("int64")
    return np.where(count > 0, order[np.minimum(pos, len(order) - 1)], -1)


def month_surveys(
    s: AccountState,
    users: UserStore,
    idx: np.ndarray,
    risk: RiskState,
    start_s: np.ndarray,
    end_s: np.ndarray,
    rng: np.random.Generator,
    out: RowBuffer,
) -> None:
    """NPS answers: polite on average, only weakly tied to the account's true health."""
    asked = rng.random(len(idx)) < 0.3
    counts = np.where(asked, 1 + (rng.random(len(idx)) < 0.4), 0)
    rep = np.repeat(np.arange(len(idx)), counts)
    n = len(rep)
    if n == 0:
        return
    trouble = observed_logit(risk)[rep] - BASE_LOGIT
    score = np.clip(np.round(8.2 - 0.45 * trouble + rng.normal(0.0, 1.7, n)), 0, 10)
    ts = start_s[rep] + (rng.random(n) * np.maximum(1, end_s - start_s)[rep]).astype("int64")
    who = pick_active_users(users, int(start_s.min()), idx[rep], rng)
    comment = np.where(rng.random(n) < 0.25, rng.integers(0, 6, n), -1)
    out.add(account=idx[rep], user=who, ts=ts, score=score.astype("int64"), comment=comment)
    sums = np.bincount(rep, weights=score, minlength=len(idx))
    s.last_nps[idx[asked]] = sums[asked] / counts[asked]


def month_outcomes(
    p: Profiles, s: AccountState, idx: np.ndarray, period_end_day: int, out: RowBuffer
) -> None:
    """One KPI row per account for the month ending `period_end_day` (ratio already drawn)."""
    target = p.kpi_target[idx]
    actual = np.round(target * s.kpi_ratio[idx, 2], 2)
    out.add(
        account=idx,
        period_end=np.full(len(idx), period_end_day, dtype="int64"),
        kpi=p.driver[idx],
        target=target,
        actual=actual,
    )
