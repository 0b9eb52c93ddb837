"""Ground truth by looking ahead: the expected renewal probability given the full state.

The renewal of a term is decided with the churn probability of the state in the term's final
month, after that month's touchpoints. Between a month start T and that month the state drifts:
key users leave or are replaced, adoption and engagement move, storms come and go (and deepen
or fade the support scar), KPIs land,
and the CS team keeps acting. `outlook` rolls every running account forward from T to its
decision month `draws` times, replaying the same latent dynamics and CS policy the world run
applies (people as head counts, no event or ticket rows), and averages:

* `churn`: the churn probability used at the next renewal decision, so
  `E[p_decision | state at T]` (term noise is fixed at term start and is part of the state;
  the external-churn share stays inside p, drawn only at decision time);
* `upsell`: the chance of an upsell label, an expansion starting in (T, T + 180 days] or a
  renewal with uplift starting then, as one minus the path's product of monthly no-upsell
  chances (the path itself draws its expansions, renewals and churn).

It draws from its own generator, so the world's tables do not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

import numpy as np

from features.contract import ACTION_CODES
from simulator import risk
from simulator.accounts import DAY, add_months
from simulator.cs_team import choose_actions
from simulator.dynamics import kpi_ratio, latent_month
from simulator.risk import RiskState

if TYPE_CHECKING:
    from simulator.world import _Run

UPSELL_DAYS = 180


class _Draws:
    """Random numbers for one call site of a look-ahead step, tied to paths, not positions.

    Every call draws for all paths from a generator of its own (look-ahead seed, step,
    site) and keeps the rows asked for, so path i gets the same numbers whatever happens on
    the other paths. Two look-aheads from the same seed, one with an action done first,
    then share each path's luck, and their difference is the action's effect rather than
    noise. Counts (binomial, Poisson) invert their CDF at one uniform per path, so a
    different count on one path does not move the others' draws. Look-aheads stacked in one
    run (`variants` of `paths` paths each) share the draws: row r gets path r % paths's.
    Methods mirror the `numpy.random.Generator` ones the dynamics use.
    """

    def __init__(self, seed: list[int], paths: int, rows: np.ndarray) -> None:
        self._rng = np.random.default_rng(seed)
        self._paths, self._rows = paths, rows % paths

    def _size(self, size: int | tuple[int, ...]) -> tuple[int, ...]:
        lead = size[:-1] if isinstance(size, tuple) else ()
        return (*lead, self._paths)

    def random(self, size: int | tuple[int, ...]) -> np.ndarray:
        return self._rng.random(self._size(size))[..., self._rows]

    def normal(self, loc: float, scale: float, size: int | tuple[int, ...]) -> np.ndarray:
        return loc + scale * self._rng.standard_normal(self._size(size))[..., self._rows]

    def uniform(self, low: float, high: float, size: int) -> np.ndarray:
        return low + (high - low) * self.random(size)

    def binomial(self, n: np.ndarray, p: float) -> np.ndarray:
        n = np.asarray(n, dtype=float)
        first = (1.0 - p) ** n
        counts = _invert(self.random(len(n)), first, lambda k: (n - k) / (k + 1) * p / (1 - p))
        return np.minimum(counts, n).astype("int64")

    def poisson(self, lam: np.ndarray) -> np.ndarray:
        lam = np.asarray(lam, dtype=float)
        return _invert(self.random(len(lam)), np.exp(-lam), lambda k: lam / (k + 1)).astype("int64")


def _invert(u: np.ndarray, first: np.ndarray, ratio: Callable[[int], np.ndarray]) -> np.ndarray:
    """The smallest k with CDF(k) >= u, for a pmf given by pmf(0) and pmf(k+1)/pmf(k)."""
    pmf, cdf = first.copy(), first.copy()
    count = np.zeros(len(u))
    above = u > cdf
    k = 0
    while above.any() and k < 10_000:
        pmf = pmf * ratio(k)
        cdf = cdf + pmf
        count += above
        k += 1
        above &= (u > cdf) & (pmf > 0)
    return count


@dataclass
class _Paths:
    """Latent state of `draws` copies of each account, flattened (copy-major)."""

    acc: np.ndarray
    key_gone: np.ndarray
    keys: np.ndarray
    staff: np.ndarray
    pending_keys: np.ndarray
    pending_staff: np.ndarray
    seats: np.ndarray
    modules: np.ndarray
    kpi: np.ndarray
    fv: np.ndarray
    storm: np.ndarray
    scar: np.ndarray
    engagement: np.ndarray
    noise: np.ndarray
    shift: np.ndarray
    boost: np.ndarray
    nps: np.ndarray
    term_start: np.ndarray
    term_end: np.ndarray

    def risk(self, rows: np.ndarray, today_day: int, fv_due: np.ndarray) -> RiskState:
        """The churn-relevant state of paths `rows` (mirrors `AccountState.risk`)."""
        kpi = self.kpi[rows]
        return RiskState(
            key_gone=self.key_gone[rows].astype(float),
            modules=self.modules[rows].copy(),
            kpi_shortfall=np.maximum(0.0, 1.0 - kpi).mean(axis=1),
            kpi_miss=(kpi.mean(axis=1) < 0.9).astype(float),
            no_first_value=((~self.fv[rows]) & (fv_due[rows] < today_day)).astype(float),
            storm=self.storm[rows].copy(),
            support_scar=self.scar[rows].copy(),
            engagement=self.engagement[rows].copy(),
            term_noise=self.noise[rows].copy(),
            term_shift=self.shift[rows].copy(),
        )


def _start_paths(run: _Run, idx: np.ndarray, t_s: int, draws: int) -> _Paths:
    """Copy the state of accounts `idx` at month start `t_s` into `draws` paths each."""
    s, users = run.s, run.users
    n = run.p.n
    live = (users.deactivated_s < 0) | (users.deactivated_s > t_s)
    now = live & (users.created_s <= t_s)
    later = live & (users.created_s > t_s)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(users.account[mask], minlength=n)[idx]

    def rep(values: np.ndarray) -> np.ndarray:
        return np.tile(values, (draws,) + (1,) * (values.ndim - 1))

    return _Paths(
        acc=rep(idx),
        key_gone=rep(s.key_gone[idx]),
        keys=rep(count(now & users.is_key)),
        staff=rep(count(now & ~users.is_key)),
        pending_keys=rep(count(later & users.is_key)),
        pending_staff=rep(count(later & ~users.is_key)),
        seats=rep(s.term_seats[idx].astype(float)),
        modules=rep(s.modules[idx]),
        kpi=rep(s.kpi_ratio[idx]),
        fv=rep(s.fv_achieved[idx]),
        storm=rep(s.storm[idx]),
        scar=rep(s.support_scar[idx]),
        engagement=rep(s.engagement[idx]),
        noise=rep(s.term_noise[idx]),
        shift=rep(s.term_shift[idx]),
        boost=rep(s.upsell_boost[idx]),
        nps=rep(s.last_nps[idx]),
        term_start=rep(s.term_start[idx]),
        term_end=rep(s.term_end[idx]),
    )


def _saturation(x: _Paths, rows: np.ndarray) -> np.ndarray:
    users = x.keys[rows] + x.staff[rows]
    return risk.saturation(users / np.maximum(1.0, x.seats[rows]), x.modules[rows])


def _act(
    run: _Run, x: _Paths, rows: np.ndarray, state: RiskState, code: str, fresh_keys: np.ndarray
) -> None:
    """Apply `code` to paths `rows` whose state is `state` (as `world._touchpoints` does)."""
    after = risk.apply_action(state, code, run.structure, run.p.size[x.acc[rows]])
    x.shift[rows] = after.term_shift
    x.modules[rows] = after.modules
    x.storm[rows] = after.storm
    x.scar[rows] = after.support_scar
    named = (state.key_gone > 0) & (after.key_gone == 0)
    fresh_keys[rows[named]] += 1
    x.key_gone[rows[named]] = False
    x.fv[rows[(state.no_first_value > 0) & (after.no_first_value == 0)]] = True
    if code == "upsell_offer":
        x.boost[rows[~risk.unhealthy(state)]] = run.structure.upsell_offer_boost


def _touchpoints(
    run: _Run,
    x: _Paths,
    rows: np.ndarray,
    t0: int,
    d0: int,
    fv_due: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The CS team's month on paths `rows`; returns key users named this month per path."""
    fresh_keys = np.zeros(len(x.acc), dtype="int64")
    acc = x.acc[rows]
    state = x.risk(rows, d0, fv_due)
    actions = choose_actions(
        state,
        _saturation(x, rows),
        x.nps[rows],
        run.p.created_s[acc] > t0 - 90 * DAY,
        run.csm_activity[acc],
        rng,
        run.structure.cs,
        run.p.size[acc],
    )
    for a, code in enumerate(ACTION_CODES):
        sel = np.flatnonzero(actions == a)
        if len(sel):
            _act(run, x, rows[sel], state.take(sel), code, fresh_keys)
    return fresh_keys


def _live(
    run: _Run,
    x: _Paths,
    rows: np.ndarray,
    fresh_keys: np.ndarray,
    first: bool,
    d1: int,
    fv_due: np.ndarray,
    draw: Callable[[int], np.random.Generator],
) -> None:
    """Advance paths `rows` through a month (head counts instead of users; see `dynamics`).

    `draw(site)` gives the random numbers of one call site for paths `rows` (`_Draws`).
    """
    p, k = run.p, len(rows)
    fit = p.fit[x.acc[rows]]
    keys = x.keys[rows] - draw(10).binomial(x.keys[rows], 0.025) + fresh_keys[rows]
    staff = x.staff[rows] - draw(11).binomial(x.staff[rows], 0.015)
    if first:
        keys += x.pending_keys[rows]
        staff += x.pending_staff[rows]
    gone = keys == 0
    renamed = gone & (draw(12).random(k) < 0.08)
    keys += renamed
    gone &= ~renamed
    target = x.seats[rows] * (0.45 + 0.5 * x.modules[rows] / 8.0)
    staff += draw(13).poisson(np.maximum(0.0, target - keys - staff) * 0.35)
    x.keys[rows], x.staff[rows], x.key_gone[rows] = keys, staff, gone

    modules, eng, x.storm[rows], x.scar[rows], reach = latent_month(
        fit, gone, x.modules[rows], x.engagement[rows], x.storm[rows], x.scar[rows], draw(14)
    )
    fv = x.fv[rows] | reach
    x.kpi[rows, :2] = x.kpi[rows, 1:]
    x.kpi[rows, 2] = kpi_ratio(fit, modules, eng, fv, draw(15))
    x.modules[rows], x.engagement[rows], x.fv[rows] = modules, eng, fv

    nps = draw(16)
    asked = nps.random(k) < 0.3
    answers = 1 + (nps.random(k) < 0.4)
    trouble = risk.observed_logit(x.risk(rows, d1, fv_due)) - risk.BASE_LOGIT
    noise = nps.normal(0.0, 1.7, (2, k))
    scores = np.clip(np.round(8.2 - 0.45 * trouble + noise), 0, 10)
    mean = np.where(answers == 2, scores.mean(axis=0), scores[0])
    x.nps[rows] = np.where(asked, mean, x.nps[rows])


def outlook(
    run: _Run,
    idx: np.ndarray,
    t_s: int,
    seed: list[int],
    draws: int,
    first_actions: Sequence[str | None] = (None,),
) -> tuple[np.ndarray, np.ndarray]:
    """Expected decision-time churn probability and upsell chance of accounts `idx` at `t_s`.

    Args:
        run: the world run, at month start `t_s` before anything of that month happened.
        idx: running accounts to look ahead for.
        t_s: month start, seconds since epoch.
        seed: the look-ahead's own random seed (the world's draws do not move); the same
            seed gives every path the same luck (`_Draws`)
        draws: paths per account.
        first_actions: one look-ahead per entry, run together on paths that share their
            draws: an action code is done on every path at `t_s`, before the CS team's
            usual month ("do it now"); None is the usual behaviour only.

    Returns:
        `(churn, upsell)`, each (len(first_actions), len(idx)): one row per look-ahead.
    """
    p, cfg = run.p, run.cfg
    n, looks = len(idx), len(first_actions)
    x = _start_paths(run, idx, t_s, draws * looks)
    paths = draws * n  # per look-ahead; look-ahead v holds rows [v * paths, (v + 1) * paths)
    fv_due = run.s.fv_due_day[x.acc]
    monthly = p.monthly_term[x.acc]
    t_day = t_s // DAY
    decision = np.full(len(x.acc), np.nan)
    no_upsell = np.ones(len(x.acc))
    going = np.ones(len(x.acc), dtype=bool)
    month = np.datetime64(t_s, "s").astype("datetime64[M]")
    step = 0
    while True:
        t0 = int((month + step).astype("datetime64[s]").astype("int64"))
        t1 = int((month + step + 1).astype("datetime64[s]").astype("int64"))
        d0, d1 = t0 // DAY, t1 // DAY
        rows = np.flatnonzero(going)
        if len(rows) == 0:
            break
        forced = np.zeros(len(x.acc), dtype="int64")
        for v, code in enumerate(first_actions if step == 0 else ()):
            if code is not None:
                mine = rows[rows // paths == v]
                _act(run, x, mine, x.risk(mine, d0, fv_due), code, forced)

        def draw(site: int, rows: np.ndarray, step: int = step) -> np.random.Generator:
            # duck-typed: _Draws has the Generator methods the dynamics call
            return cast(np.random.Generator, _Draws([*seed, step, site], paths, rows))

        fresh = _touchpoints(run, x, rows, t0, d0, fv_due, draw(1, rows)) + forced
        state = x.risk(rows, d0, fv_due)
        sat = _saturation(x, rows)
        deciding = x.term_end[rows] <= d1
        dec, rest = rows[deciding], rows[~deciding]
        p_churn = risk.churn_probability(
            state.take(np.flatnonzero(deciding)), monthly[dec], cfg.external_churn, run.structure
        )
        decision[dec] = np.where(np.isnan(decision[dec]), p_churn, decision[dec])
        u = risk.uplift_probability(
            state.take(np.flatnonzero(deciding)), sat[deciding], monthly[dec], run.structure
        )
        counts = (x.term_end[dec] > t_day) & (x.term_end[dec] <= t_day + UPSELL_DAYS)
        no_upsell[dec] *= 1.0 - counts * (1.0 - p_churn) * u
        churn = draw(2, dec).random(len(dec)) < p_churn
        uplift = draw(3, dec).random(len(dec)) < u
        going[dec[churn]] = False
        stay = dec[~churn]
        factor = np.where(uplift[~churn], draw(4, stay).uniform(1.05, 1.25, len(stay)), 1.0)
        x.seats[stay] = np.ceil(x.seats[stay] * factor)
        x.term_start[stay] = x.term_end[stay]
        x.term_end[stay] = add_months(x.term_end[stay], p.term_months[x.acc[stay]])
        x.noise[stay] = draw(5, stay).normal(0.0, 0.35, len(stay))
        x.shift[stay] = 0.0

        rest_state = state.take(np.flatnonzero(~deciding))
        q = risk.expansion_probability(rest_state, sat[~deciding], x.boost[rest], run.structure)
        lo = np.maximum(d0, x.term_start[rest] + 1)
        hi = np.minimum(d1, x.term_end[rest])
        inside = np.clip(
            np.minimum(hi, t_day + UPSELL_DAYS + 1) - np.maximum(lo, t_day + 1), 0, None
        )
        no_upsell[rest] *= 1.0 - q * inside / np.maximum(1, hi - lo)
        buys = rest[draw(6, rest).random(len(rest)) < q]
        x.seats[buys] += np.ceil(x.seats[buys] * draw(7, buys).uniform(0.1, 0.35, len(buys)))
        x.boost[rows] *= 0.5

        alive = rows[going[rows]]
        _live(run, x, alive, fresh, step == 0, d1, fv_due, partial(draw, rows=alive))
        going &= np.isnan(decision) | (d1 <= t_day + UPSELL_DAYS)
        step += 1
    churn_p = decision.reshape(looks, draws, n).mean(axis=1)
    upsell = 1.0 - no_upsell.reshape(looks, draws, n).mean(axis=1)
    return churn_p, upsell
