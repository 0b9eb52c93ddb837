"""Product usage events, drawn per month for all active users at once."""

from __future__ import annotations

import numpy as np

from simulator.accounts import Profiles
from simulator.state import AccountState, RowBuffer, UserStore

ROLE_INTENSITY = np.array([1.3, 0.7, 1.5, 1.2, 0.9])  # admin, executive, champion, analyst, member
MEAN_DURATION_S = np.array([25.0, 80.0, 180.0])  # view, action, value


def month_events(
    p: Profiles,
    s: AccountState,
    users: UserStore,
    t0: int,
    t1: int,
    account_end_s: np.ndarray,
    events_per_user_month: float,
    rng: np.random.Generator,
    out: RowBuffer,
) -> int:
    """Draw the events of the month [t0, t1) and add them to `out`, sorted by time.

    Args:
        p: account profiles.
        s: account state.
        users: all users.
        t0: month start, seconds since epoch.
        t1: next month start, seconds since epoch.
        account_end_s: per account, the second it stops being a customer (large if never).
        events_per_user_month: mean events of a fully engaged user per month.
        rng: the world's random generator.
        out: buffer the events are added to.

    Returns:
        The number of events drawn.
    """
    acc = users.account
    deact = np.where(users.deactivated_s < 0, t1, users.deactivated_s)
    lo = np.maximum(t0, users.created_s)
    hi = np.minimum(np.minimum(t1, deact), account_end_s[acc])
    live = np.flatnonzero((hi > lo) & s.alive[acc])
    if len(live) == 0:
        return 0
    acc_l = acc[live]
    share = (hi[live] - lo[live]) / (t1 - t0)
    rate = (
        events_per_user_month
        * s.engagement[acc_l]
        * users.activity[live]
        * ROLE_INTENSITY[users.role[live]]
        * share
    )
    counts = rng.poisson(rate)
    rep = np.repeat(live, counts)
    n = len(rep)
    ea = acc[rep]
    ts = lo[rep] + (rng.random(n) * (hi[rep] - lo[rep])).astype("int64")
    rank = (rng.random(n) * s.modules[ea]).astype("int64")
    module = p.module_order[ea, rank]
    feature = module * 4 + rng.integers(0, 4, n)
    value_share = 0.03 + 0.10 * np.clip(s.kpi_ratio[ea, 2], 0.0, 1.5) / 1.5
    u = rng.random(n)
    event_type = np.where(u < 0.6, 0, np.where(u < 1.0 - value_share, 1, 2))
    duration = np.round(MEAN_DURATION_S[event_type] * np.exp(rng.normal(0.0, 0.6, n)), 1)
    order = np.argsort(ts, kind="stable")
    out.add(
        ts=ts[order],
        account=ea[order],
        user=rep[order],
        module=module[order],
        feature=feature[order],
        event_type=event_type[order],
        duration_s=duration[order],
    )
    return n
