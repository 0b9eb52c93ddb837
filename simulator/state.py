"""Mutable state of the simulated world: accounts, users and the rows written so far."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulator.risk import RiskState


class RowBuffer:
    """Collects a table column-wise as numpy chunks, one `add` per month."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.chunks.setdefault(name, []).append(np.asarray(values))

    def column(self, name: str) -> np.ndarray:
        parts = self.chunks.get(name, [])
        return np.concatenate(parts) if parts else np.array([])

    def __len__(self) -> int:
        first = next(iter(self.chunks.values()), [])
        return int(sum(len(part) for part in first))


@dataclass
class AccountState:
    """Per-account state arrays (length n) that evolve month by month."""

    n: int
    alive: np.ndarray = field(init=False)
    key_gone: np.ndarray = field(init=False)
    churned_day: np.ndarray = field(init=False)
    term_start: np.ndarray = field(init=False)
    term_end: np.ndarray = field(init=False)
    term_sub: np.ndarray = field(init=False)
    term_arr: np.ndarray = field(init=False)
    term_seats: np.ndarray = field(init=False)
    modules: np.ndarray = field(init=False)
    kpi_ratio: np.ndarray = field(init=False)  # (n, 3) last three months, newest last
    fv_achieved: np.ndarray = field(init=False)
    fv_due_day: np.ndarray = field(init=False)
    fv_at_s: np.ndarray = field(init=False)  # -1 while first value is not reached
    storm: np.ndarray = field(init=False)
    support_scar: np.ndarray = field(init=False)  # lasting mark of past storms (risk.py)
    engagement: np.ndarray = field(init=False)
    term_noise: np.ndarray = field(init=False)
    term_shift: np.ndarray = field(init=False)
    upsell_boost: np.ndarray = field(init=False)
    last_nps: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.n
        self.alive = np.zeros(n, dtype=bool)
        self.key_gone = np.zeros(n, dtype=bool)
        self.churned_day = np.full(n, -1, dtype="int64")
        self.term_start = np.zeros(n, dtype="int64")
        self.term_end = np.zeros(n, dtype="int64")
        self.term_sub = np.full(n, -1, dtype="int64")
        self.term_arr = np.zeros(n)
        self.term_seats = np.zeros(n, dtype="int64")
        self.modules = np.ones(n)
        self.kpi_ratio = np.ones((n, 3))
        self.fv_achieved = np.zeros(n, dtype=bool)
        self.fv_due_day = np.zeros(n, dtype="int64")
        self.fv_at_s = np.full(n, -1, dtype="int64")
        self.storm = np.zeros(n)
        self.support_scar = np.zeros(n)
        self.engagement = np.full(n, 0.6)
        self.term_noise = np.zeros(n)
        self.term_shift = np.zeros(n)
        self.upsell_boost = np.zeros(n)
        self.last_nps = np.full(n, 8.0)

    def risk(self, idx: np.ndarray, today_day: int) -> RiskState:
        """The churn-relevant state of accounts `idx` at day `today_day`."""
        shortfall = np.maximum(0.0, 1.0 - self.kpi_ratio[idx]).mean(axis=1)
        mean_ratio = self.kpi_ratio[idx].mean(axis=1)
        no_fv = (~self.fv_achieved[idx]) & (self.fv_due_day[idx] < today_day)
        return RiskState(
            key_gone=self.key_gone[idx].astype(float),
            modules=self.modules[idx].copy(),
            kpi_shortfall=shortfall,
            kpi_miss=(mean_ratio < 0.9).astype(float),
            no_first_value=no_fv.astype(float),
            storm=self.storm[idx].copy(),
            support_scar=self.support_scar[idx].copy(),
            engagement=self.engagement[idx].copy(),
            term_noise=self.term_noise[idx].copy(),
            term_shift=self.term_shift[idx].copy(),
        )


class UserStore:
    """All users ever created; arrays grow as accounts hire and name key users."""

    def __init__(self) -> None:
        self.account = np.zeros(0, dtype="int64")
        self.created_s = np.zeros(0, dtype="int64")
        self.deactivated_s = np.zeros(0, dtype="int64")  # -1 while active
        self.is_key = np.zeros(0, dtype=bool)
        self.role = np.zeros(0, dtype="int64")  # index into KEY_ROLES + OTHER_ROLES
        self.activity = np.zeros(0)

    def add(
        self,
        account: np.ndarray,
        created_s: np.ndarray,
        is_key: np.ndarray,
        role: np.ndarray,
        activity: np.ndarray,
        deactivated_s: np.ndarray | None = None,
    ) -> None:
        count = len(account)
        gone = np.full(count, -1, dtype="int64") if deactivated_s is None else deactivated_s
        self.account = np.concatenate([self.account, account.astype("int64")])
        self.created_s = np.concatenate([self.created_s, created_s.astype("int64")])
        self.deactivated_s = np.concatenate([self.deactivated_s, gone.astype("int64")])
        self.is_key = np.concatenate([self.is_key, is_key.astype(bool)])
        self.role = np.concatenate([self.role, role.astype("int64")])
        self.activity = np.concatenate([self.activity, activity.astype(float)])

    def active_at(self, t_s: int) -> np.ndarray:
        """Mask of users active at second `t_s`."""
        return (self.created_s <= t_s) & ((self.deactivated_s < 0) | (self.deactivated_s > t_s))

    def key_users_active(self, n_accounts: int, t_s: int) -> np.ndarray:
        """How many key users each account has active at second `t_s`."""
        mask = self.active_at(t_s) & self.is_key
        return np.bincount(self.account[mask], minlength=n_accounts)

    def users_active(self, n_accounts: int, t_s: int) -> np.ndarray:
        """How many users each account has active at second `t_s`."""
        return np.bincount(self.account[self.active_at(t_s)], minlength=n_accounts)


def timestamps(seconds: np.ndarray) -> pd.Series:
    """Seconds since epoch (-1 = null) as naive UTC microsecond timestamps."""
    values = np.asarray(seconds, dtype="int64")
    stamps = pd.Series(values.astype("datetime64[s]").astype("datetime64[us]"))
    return stamps.where(values >= 0)


def dates(days: np.ndarray) -> pd.Series:
    """Days since epoch as midnight timestamps (the pandas form of a DATE column)."""
    values = np.asarray(days, dtype="int64")
    return pd.Series(values.astype("datetime64[D]").astype("datetime64[s]"))
