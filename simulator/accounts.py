"""Customer accounts: who they are, when they signed, what they bought and why.

Times inside the simulator are int64: days since 1970-01-01 for dates and seconds since
1970-01-01 for timestamps (naive UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator import config as c
from simulator.structure import TODAY, AccountMix

DAY = 86_400


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Shift dates (days since epoch, day of month <= 28) by whole months."""
    as_date = np.asarray(days, dtype="int64").astype("datetime64[D]")
    month = as_date.astype("datetime64[M]")
    offset = (as_date - month.astype("datetime64[D]")).astype("int64")
    shifted = (month + np.asarray(months, dtype="int64")).astype("datetime64[D]")
    return shifted.astype("int64") + offset


@dataclass
class Profiles:
    """Fixed attributes of every account (arrays indexed by account position)."""

    account_ids: np.ndarray
    size: np.ndarray  # 0 small, 1 mid-market, 2 enterprise
    employees: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    driver: np.ndarray
    csm: np.ndarray
    plan: np.ndarray
    price_per_seat: np.ndarray
    seats: np.ndarray
    fit: np.ndarray  # latent product fit, N(0, 1); never written out
    created_day: np.ndarray
    created_s: np.ndarray
    monthly_term: np.ndarray
    term_months: np.ndarray
    kpi_target: np.ndarray
    module_order: np.ndarray  # (n, 8) module indices in adoption order, reports first

    @property
    def n(self) -> int:
        return len(self.account_ids)


def make_profiles(
    n: int,
    rng: np.random.Generator,
    start_day: int,
    months: int,
    cfg: c.SimConfig,
    mix: AccountMix = TODAY.mix,
) -> Profiles:
    """Draw `n` accounts; a share signed before the window so renewals happen throughout.

    `mix` gives the shares of account sizes and their seat ranges (the world's structure).
    """
    size = rng.choice(3, size=n, p=list(mix.size_shares))
    employees = np.round(np.exp(rng.normal(np.log([60.0, 600.0, 6000.0])[size], 0.5))).astype(
        "int64"
    )
    seat_lo = np.array(mix.seat_lo)[size]
    seat_hi = np.array(mix.seat_hi)[size]
    seats = rng.integers(seat_lo, seat_hi)
    plan = np.minimum(2, size + (rng.random(n) < 0.2)).astype("int64")
    price = np.array(c.PRICE_PER_SEAT)[plan] * rng.uniform(0.85, 1.15, n)

    before = rng.random(n) < cfg.pre_window_share
    first_month = np.where(before, rng.integers(-36, 0, n), rng.integers(0, max(1, months - 1), n))
    window_month = np.datetime64(int(start_day), "D").astype("datetime64[M]")
    month_day = (window_month + first_month).astype("datetime64[D]").astype("int64")
    created_day = month_day + rng.integers(0, 28, n)
    created_s = created_day * DAY + rng.integers(8 * 3600, 18 * 3600, n)

    monthly = rng.random(n) < cfg.monthly_term_share
    driver = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])
    base_target = np.array([8.0, 0.0, 0.0])[driver]
    hours = seats * rng.uniform(3.0, 6.0, n)
    cost = seats * price * rng.uniform(0.25, 0.5, n) / 12.0
    kpi_target = np.where(driver == 0, base_target * rng.uniform(0.6, 1.6, n), 0.0)
    kpi_target = np.where(driver == 1, np.round(hours), kpi_target)
    kpi_target = np.where(driver == 2, np.round(cost, -1), kpi_target)

    later = np.argsort(rng.random((n, 7)), axis=1) + 1
    module_order = np.concatenate([np.zeros((n, 1), dtype="int64"), later], axis=1)
    return Profiles(
        account_ids=np.array([f"acc_{i:05d}" for i in range(n)], dtype=object),
        size=size,
        employees=employees,
        industry=rng.integers(0, len(c.INDUSTRIES), n),
        region=rng.choice(len(c.REGIONS), size=n, p=list(c.REGION_WEIGHTS)),
        driver=driver,
        csm=rng.integers(0, len(c.CSMS), n),
        plan=plan,
        price_per_seat=price,
        seats=seats.astype("int64"),
        fit=rng.normal(0.0, 1.0, n),
        created_day=created_day,
        created_s=created_s,
        monthly_term=monthly,
        term_months=np.where(monthly, 1, 12),
        kpi_target=kpi_target,
        module_order=module_order,
    )


def accounts_frame(p: Profiles) -> pd.DataFrame:
    """The `accounts` contract table."""
    prefixes = np.array(["Northwind", "Blue", "Summit", "Acme", "Vertex", "Harbor", "Pioneer"])
    suffixes = np.array(["Labs", "Group", "Systems", "Retail", "Partners", "Works"])
    idx = np.arange(p.n)
    names = [
        f"{a} {b} {i}"
        for a, b, i in zip(prefixes[idx % 7], suffixes[(idx // 7) % 6], idx, strict=True)
    ]
    return pd.DataFrame(
        {
            "account_id": p.account_ids,
            "name": names,
            "industry": np.array(c.INDUSTRIES, dtype=object)[p.industry],
            "region": np.array(c.REGIONS, dtype=object)[p.region],
            "employees": p.employees,
            "created_at": p.created_s.astype("datetime64[s]").astype("datetime64[us]"),
            "csm_owner": np.array(c.CSMS, dtype=object)[p.csm],
            "value_driver": np.array(c.VALUE_DRIVERS, dtype=object)[p.driver],
        }
    )
