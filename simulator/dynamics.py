"""How accounts live month by month.

People join and leave, adoption grows or stalls, engagement decays without a key user,
support storms come and go (each storm month deepens a support scar that fades slowly, see
`risk.scar_after_month`), and KPIs land on or off target.
"""

from __future__ import annotations

import numpy as np

from simulator.accounts import DAY, Profiles, add_months
from simulator.config import KEY_ROLES
from simulator.risk import SCAR_PER_STORM_MONTH, scar_after_month, sigmoid
from simulator.state import AccountState, UserStore

N_KEY_ROLES = len(KEY_ROLES)


def kpi_ratio(
    fit: np.ndarray,
    modules: np.ndarray,
    engagement: np.ndarray,
    first_value: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Actual / target of each account's value KPI for the month being lived."""
    reached = 0.62 + 0.075 * modules + 0.35 * fit + 0.15 * (engagement - 0.75)
    ratio = np.where(first_value, reached, 0.5 + 0.3 * fit) + rng.normal(0.0, 0.10, len(fit))
    return np.maximum(0.0, ratio)


def latent_month(
    fit: np.ndarray,
    key_gone: np.ndarray,
    modules: np.ndarray,
    engagement: np.ndarray,
    storm: np.ndarray,
    scar: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One month of the latent state: the world run and the look-ahead truth both use it.

    Adoption grows with fit and engagement and stalls without a key user, engagement
    follows adoption or decays without a key user, storms start and end (deepening or
    fading the support scar), and first value may be reached.

    Returns:
        modules, engagement, storm, scar after the month, and whether the account would
        reach first value this month if it has not yet.
    """
    k = len(fit)
    grow = sigmoid(-2.6 + 1.5 * fit + 1.5 * (engagement - 0.7)) * np.where(key_gone, 0.3, 1.0)
    modules = modules + (rng.random(k) < grow * (modules < 8))
    pull = 0.45 + 0.6 * modules / 8.0 + 0.2 * fit
    engagement = np.where(key_gone, engagement * 0.8, engagement + 0.4 * (pull - engagement))
    engagement = np.clip(engagement + rng.normal(0.0, 0.04, k), 0.05, 1.3)
    ends = rng.random(k) < 0.45
    starts = rng.random(k) < sigmoid(-3.4 - 0.5 * fit)
    storm = np.where(storm > 0, ~ends, starts).astype(float)
    scar = scar_after_month(scar, storm)
    reach = rng.random(k) < sigmoid(-0.8 + 1.2 * fit + 0.5 * (modules - 1))
    return modules, engagement, storm, scar, reach


def hire(
    users: UserStore,
    accounts: np.ndarray,
    counts: np.ndarray,
    lo_s: np.ndarray,
    hi_s: np.ndarray,
    rng: np.random.Generator,
    key: bool,
) -> None:
    """Create `counts[i]` users for `accounts[i]`, created uniformly in [lo_s, hi_s)."""
    rep = np.repeat(np.arange(len(accounts)), counts)
    if len(rep) == 0:
        return
    span = np.maximum(1, hi_s[rep] - lo_s[rep])
    created = lo_s[rep] + (rng.random(len(rep)) * span).astype("int64")
    if key:
        role = rng.integers(0, N_KEY_ROLES, len(rep))
    else:
        role = N_KEY_ROLES + (rng.random(len(rep)) < 0.7).astype("int64")
    activity = np.exp(rng.normal(0.0, 0.5, len(rep))) * np.where(key, 1.4, 1.0)
    users.add(accounts[rep], created, np.full(len(rep), key), role, activity)


def start_accounts(
    p: Profiles,
    s: AccountState,
    users: UserStore,
    idx: np.ndarray,
    window_start_s: int,
    rng: np.random.Generator,
) -> None:
    """Set up accounts `idx` at signature; those signed before the window arrive mature."""
    if len(idx) == 0:
        return
    k = len(idx)
    created = p.created_s[idx]
    age_months = np.maximum(0.0, (window_start_s - created) / (30.4 * DAY))
    mature = np.clip(age_months / 12.0, 0.0, 1.0)
    adopt_p = np.clip(0.35 + 0.2 * p.fit[idx], 0.05, 0.95) * mature
    s.modules[idx] = 1.0 + rng.binomial(7, adopt_p)
    s.engagement[idx] = np.where(mature > 0, 0.45 + 0.6 * s.modules[idx] / 8.0, 0.55)
    s.fv_due_day[idx] = add_months(p.created_day[idx], rng.integers(1, 4, k))
    due_s = s.fv_due_day[idx] * DAY
    reached_before = (age_months > 3) & (rng.random(k) < sigmoid(1.5 + p.fit[idx]))
    s.fv_achieved[idx] = reached_before
    s.storm[idx] = ((age_months > 0) & (rng.random(k) < 0.05)).astype(float)
    s.support_scar[idx] = SCAR_PER_STORM_MONTH * s.storm[idx]
    for j in range(3):
        s.kpi_ratio[idx, j] = np.where(
            age_months > 0,
            kpi_ratio(p.fit[idx], s.modules[idx], s.engagement[idx], s.fv_achieved[idx], rng),
            1.0,
        )
    s.term_noise[idx] = rng.normal(0.0, 0.35, k)
    s.alive[idx] = True

    achieved = created + (rng.uniform(0.5, 1.3, k) * (due_s - created)).astype("int64")
    fv_at = np.where(reached_before, np.minimum(achieved, window_start_s - DAY), -1)
    end_onboard = np.where(age_months > 0, window_start_s, created + 21 * DAY)
    n_keys = 1 + (rng.random(k) < 0.5).astype("int64")
    hire(users, idx, n_keys, created, created + 7 * DAY, rng, key=True)
    gone_before = (age_months > 2) & (rng.random(k) < 0.12)
    if gone_before.any():
        lost = np.isin(users.account, idx[gone_before]) & users.is_key
        span = np.maximum(DAY, window_start_s - users.created_s[lost])
        users.deactivated_s[lost] = window_start_s - (rng.random(lost.sum()) * span).astype("int64")
        s.key_gone[idx[gone_before]] = True
    staff = np.round(p.seats[idx] * rng.uniform(0.3, 0.6, k) * (1 + mature * 0.4)).astype("int64")
    hire(users, idx, staff, created, end_onboard, rng, key=False)
    s.fv_at_s[idx] = fv_at


def evolve_month(
    p: Profiles,
    s: AccountState,
    users: UserStore,
    idx: np.ndarray,
    t0: int,
    t1: int,
    end_s: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Advance accounts `idx` through the month [t0, t1).

    Args:
        p: account profiles.
        s: account state, updated in place.
        users: all users, updated in place (leavers, hires, new key users).
        idx: the accounts that are customers during the month (sorted).
        t0: month start, seconds since epoch.
        t1: next month start, seconds since epoch.
        end_s: per account in `idx`, the second the account stops being a customer this
            month (t1 when it stays).
        rng: the world's random generator.
    """
    k = len(idx)
    start_s = np.maximum(t0, p.created_s[idx])
    span = np.maximum(1, end_s - start_s)

    # People leave; key users more often than others.
    active = users.active_at(t0) & np.isin(users.account, idx)
    leave_p = np.where(users.is_key, 0.025, 0.015)
    leaving = active & (rng.random(len(users.account)) < leave_p)
    pos = np.searchsorted(idx, users.account[leaving])
    users.deactivated_s[leaving] = start_s[pos] + (rng.random(leaving.sum()) * span[pos]).astype(
        "int64"
    )
    keys_left = users.key_users_active(p.n, t1 - 1)[idx]
    gone = keys_left == 0
    # Some customers name a new key user on their own.
    renamed = gone & (rng.random(k) < 0.08)
    hire(
        users,
        idx[renamed],
        np.ones(renamed.sum(), "int64"),
        start_s[renamed],
        end_s[renamed],
        rng,
        key=True,
    )
    gone &= ~renamed
    s.key_gone[idx] = gone

    # Hiring toward a seat target that grows with adoption.
    active_now = users.users_active(p.n, t1 - 1)[idx]
    target = s.term_seats[idx] * (0.45 + 0.5 * s.modules[idx] / 8.0)
    hires = rng.poisson(np.maximum(0.0, target - active_now) * 0.35)
    hire(users, idx, hires, start_s, end_s, rng, key=False)

    modules, engagement, storm, scar, reach = latent_month(
        p.fit[idx], gone, s.modules[idx], s.engagement[idx], s.storm[idx], s.support_scar[idx], rng
    )
    s.modules[idx], s.engagement[idx] = modules, engagement
    s.storm[idx], s.support_scar[idx] = storm, scar
    reach &= ~s.fv_achieved[idx]
    s.fv_achieved[idx[reach]] = True
    s.fv_at_s[idx[reach]] = start_s[reach] + (rng.random(reach.sum()) * span[reach]).astype("int64")

    s.kpi_ratio[idx, :2] = s.kpi_ratio[idx, 1:]
    s.kpi_ratio[idx, 2] = kpi_ratio(
        p.fit[idx], s.modules[idx], s.engagement[idx], s.fv_achieved[idx], rng
    )
