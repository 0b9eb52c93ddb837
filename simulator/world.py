"""Run the simulated SaaS world month by month and hand back its tables and ground truth.

Each month m (start T = first day of the month) runs in this order:

1. ground truth at T for every account with a running term (`risk.py` gives the formulas);
2. accounts signed this month start (their first term, key users, staff);
3. the CS team picks touchpoints from what it can see and the actions change the state;
4. terms whose end date falls in (T, next month start] are decided with the churn
   probability of the state after step 3, renewing (maybe with an uplift) or churning;
5. other accounts may buy an expansion;
6. the month is lived: people leave and join, adoption, engagement, storms (and the
   support scar they leave), first value and KPIs move, and events, tickets, NPS answers
   and KPI rows are written.

The window runs from `start` to `start + months` (exclusive), the simulation's "today".
Nothing is dated after it. History tables (events, tickets, surveys, touchpoints, outcomes)
start at the window start; accounts signed earlier carry their `created_at`, earlier terms,
users and milestones from before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from features.contract import ACTION_CODES
from simulator import causes, contracts, dynamics, risk, shapes, signals, usage
from simulator import config as c
from simulator.accounts import DAY, Profiles, accounts_frame, make_profiles
from simulator.cs_team import choose_actions
from simulator.frames import contract_frames
from simulator.outlook import outlook
from simulator.state import AccountState, RowBuffer, UserStore
from simulator.structure import TODAY, Structure, structure_for

TRUTH_STREAM = 7_001  # second word of the look-ahead generator's seed: [seed, stream, month]

# A CS team other than the world's own: (accounts idx, month start t0 in seconds) -> the
# action index per account (into ACTION_CODES, -1 for none); `simulator.closed_loop` plugs
# in a team that follows the service's plan.
Team = Callable[[np.ndarray, int], np.ndarray]


@dataclass
class World:
    """A simulated world: contract tables, ground truth and its time window."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    start: datetime
    end: datetime
    stats: dict[str, int] = field(default_factory=dict)
    config: c.SimConfig = field(default_factory=c.SimConfig)
    structure: Structure = TODAY


@dataclass
class _Run:
    p: Profiles
    s: AccountState
    users: UserStore
    book: contracts.SubscriptionBook
    cfg: c.SimConfig
    rng: np.random.Generator
    csm_activity: np.ndarray
    window_end_s: int
    seed: int = 0
    structure: Structure = TODAY
    rows: dict[str, RowBuffer] = field(default_factory=dict)
    team: Team | None = None  # who picks the touchpoints; None: the world's CS team
    own_share: float = 0.0  # with a team: the world's own team's chance to act where it does not

    def buffer(self, name: str) -> RowBuffer:
        return self.rows.setdefault(name, RowBuffer())


def _saturation(run: _Run, idx: np.ndarray, t_s: int) -> np.ndarray:
    active = run.users.users_active(run.p.n, t_s)[idx]
    return risk.saturation(active / np.maximum(1, run.s.term_seats[idx]), run.s.modules[idx])


def _record_truth(run: _Run, idx: np.ndarray, t_s: int, day: int, month: int) -> None:
    """Churn and upsell probabilities and every action's effect at month start `t_s`.

    `churn` is the expected churn probability at the next renewal decision given the whole
    state at `t_s` (`outlook`, from its own random stream so the world's draws do not move);
    `churn_if_unchanged` is the renewal probability if the state at `t_s` held until then.
    An action's `effect` is the same look-ahead with the action done at `t_s` minus `churn`
    (same random stream for both, so the difference is the action's, not the draws'): it
    counts what the action sets in motion until the renewal (a named key user stops the
    engagement decay, adopted modules lift engagement and KPIs). `effect_if_unchanged` is
    the one-step figure, the action's change to the state at `t_s` held until the renewal.
    """
    s, monthly, ext = run.s, run.p.monthly_term[idx], run.cfg.external_churn
    state = s.risk(idx, day)
    world, size = run.structure, run.p.size[idx]
    p0 = risk.churn_probability(state, monthly, ext, world)

    seed = [run.seed, TRUTH_STREAM, month]
    churn, upsell = (row[0] for row in outlook(run, idx, t_s, seed, run.cfg.truth_draws))
    looks = outlook(run, idx, t_s, seed, run.cfg.effect_draws, (None, *ACTION_CODES))[0]
    stamp = np.full(len(idx), t_s, dtype="int64")
    causes.record(
        run.buffer("truth_causes"), idx, stamp, state, partial(risk.observed_logit, structure=world)
    )
    run.buffer("truth_churn").add(
        account=idx, as_of=stamp, churn=churn, upsell=upsell, churn_if_unchanged=p0
    )
    for a, code in enumerate(ACTION_CODES):
        after = risk.apply_action(state, code, world, size)
        one_step = risk.churn_probability(after, monthly, ext, world) - p0
        effect = looks[1 + a] - looks[0]
        run.buffer("truth_effects").add(
            account=idx,
            as_of=stamp,
            action=np.full(len(idx), a),
            effect=effect,
            effect_if_unchanged=one_step,
        )


def _touchpoints(run: _Run, idx: np.ndarray, t0: int, t1: int, day: int) -> None:
    """Let the CS team act on accounts `idx` during [t0, t1) and apply the effects."""
    p, s, rng = run.p, run.s, run.rng

    def own_team() -> np.ndarray:
        return choose_actions(
            s.risk(idx, day),
            _saturation(run, idx, t0),
            s.last_nps[idx],
            p.created_s[idx] > t0 - 90 * DAY,
            run.csm_activity[idx],
            rng,
            run.structure.cs,
            p.size[idx],
        )

    if run.team is None:
        actions = own_team()
    else:
        actions = run.team(idx, t0)
        if run.own_share > 0:  # the world's own team also acts where the other does not
            usual = own_team()
            adds = (actions < 0) & (rng.random(len(idx)) < run.own_share)
            actions = np.where(adds, usual, actions)
    lo = np.maximum(t0, p.created_s[idx])
    hi = np.where(s.term_end[idx] * DAY <= t1, s.term_end[idx] * DAY, t1)
    ts = lo + (rng.random(len(idx)) * np.maximum(1, hi - lo)).astype("int64")
    touched = actions >= 0
    run.buffer("touchpoints").add(account=idx[touched], ts=ts[touched], action=actions[touched])
    for a, code in enumerate(ACTION_CODES):
        sel = np.flatnonzero(actions == a)
        if len(sel) == 0:
            continue
        ids = idx[sel]
        before = s.risk(ids, day)
        after = risk.apply_action(before, code, run.structure, p.size[ids])
        s.term_shift[ids] = after.term_shift
        s.modules[ids] = after.modules
        s.storm[ids] = after.storm
        s.support_scar[ids] = after.support_scar
        later = np.minimum(hi[sel] - 1, ts[sel] + rng.integers(DAY, 7 * DAY, len(sel)))
        named = (before.key_gone > 0) & (after.key_gone == 0)
        if named.any():
            s.key_gone[ids[named]] = False
            dynamics.hire(
                run.users,
                ids[named],
                np.ones(named.sum(), "int64"),
                ts[sel][named],
                later[named] + 1,
                rng,
                key=True,
            )
        reached = (before.no_first_value > 0) & (after.no_first_value == 0)
        s.fv_achieved[ids[reached]] = True
        s.fv_at_s[ids[reached]] = later[reached]
        if code == "upsell_offer":
            s.upsell_boost[ids[~risk.unhealthy(before)]] = run.structure.upsell_offer_boost


def _month(run: _Run, m: int, t0: int, t1: int, window_start_day: int) -> None:
    p, s, rng, cfg = run.p, run.s, run.rng, run.cfg
    d0, d1 = t0 // DAY, t1 // DAY
    running = np.flatnonzero(s.alive)
    _record_truth(run, running, t0, d0, m)

    born = np.flatnonzero((p.created_day >= d0) & (p.created_day < d1))
    dynamics.start_accounts(p, s, run.users, born, t0, rng)
    contracts.open_first_terms(p, s, run.book, born, window_start_day)
    alive = np.flatnonzero(s.alive)
    _touchpoints(run, alive, t0, t1, d0)

    deciding = s.term_end[alive] <= d1
    decide = alive[deciding]
    state = s.risk(decide, d0)
    sat = _saturation(run, decide, t0)
    churn = rng.random(len(decide)) < risk.churn_probability(
        state, p.monthly_term[decide], cfg.external_churn, run.structure
    )
    uplift = rng.random(len(decide)) < risk.uplift_probability(
        state, sat, p.monthly_term[decide], run.structure
    )
    uplift &= cfg.expansions != "none"
    contracts.renew(p, s, run.book, decide, churn, uplift, rng)

    others = alive[~deciding]
    q = risk.expansion_probability(
        s.risk(others, d0), _saturation(run, others, t0), s.upsell_boost[others], run.structure
    )
    buys = others[rng.random(len(others)) < q] if cfg.expansions != "none" else others[:0]
    lo_day = np.maximum(d0, s.term_start[buys] + 1)
    contracts.expand(
        p, s, run.book, buys, lo_day, np.minimum(d1, s.term_end[buys]), rng,
        billed_at_renewal=cfg.expansions == "renewal",
    )  # fmt: skip
    s.upsell_boost *= 0.5

    end_s = np.where(s.churned_day[alive] >= 0, s.churned_day[alive] * DAY, t1)
    dynamics.evolve_month(p, s, run.users, alive, t0, t1, end_s, rng)
    lost = np.flatnonzero(s.churned_day >= 0)
    lost_s = np.full(p.n, np.iinfo("int64").max)
    lost_s[lost] = s.churned_day[lost] * DAY
    users = run.users
    still = (users.deactivated_s < 0) | (users.deactivated_s > lost_s[users.account])
    cut = still & (lost_s[users.account] < t1)
    users.deactivated_s[cut] = lost_s[users.account[cut]]

    usage.month_events(
        p, s, users, t0, t1, lost_s, cfg.events_per_user_month, rng, run.buffer("events")
    )
    start_s = np.maximum(t0, p.created_s[alive])
    signals.month_tickets(s, users, alive, start_s, end_s, t1, rng, run.buffer("tickets"))
    signals.month_surveys(
        s, users, alive, s.risk(alive, d1), start_s, end_s, rng, run.buffer("surveys")
    )
    reporting = alive[end_s >= t1]
    signals.month_outcomes(p, s, reporting, d1 - 1, run.buffer("outcomes"))
    s.alive[s.churned_day >= 0] = False


def open_run(
    n_accounts: int,
    seed: int,
    months: int,
    start: date,
    cfg: c.SimConfig,
    structure_seed: int | None,
) -> tuple[_Run, np.ndarray]:
    """A world's run before its first month, and its month starts (seconds, months + 1)."""
    structure = structure_for(structure_seed)
    rng = np.random.default_rng(seed)
    first = np.datetime64(start, "M")
    month_s = (first + np.arange(months + 1)).astype("datetime64[s]").astype("int64")
    window_start_day = int(month_s[0] // DAY)
    p = make_profiles(n_accounts, rng, window_start_day, months, cfg, structure.mix)
    s = AccountState(n_accounts)
    run = _Run(
        p,
        s,
        UserStore(),
        contracts.SubscriptionBook(),
        cfg,
        rng,
        rng.normal(0.0, 0.3, len(c.CSMS))[p.csm],
        int(month_s[-1]),
        seed,
        structure,
    )
    before = np.flatnonzero(p.created_day < window_start_day)
    dynamics.start_accounts(p, s, run.users, before, int(month_s[0]), rng)
    contracts.open_first_terms(p, s, run.book, before, window_start_day)
    return run, month_s


def step_month(run: _Run, m: int, month_s: np.ndarray) -> None:
    """Live month `m` of the window (`month_s` from `open_run`)."""
    _month(run, m, int(month_s[m]), int(month_s[m + 1]), int(month_s[0] // DAY))


def simulate(
    n_accounts: int,
    seed: int,
    months: int = 24,
    start: date = date(2024, 1, 1),
    config: c.SimConfig | None = None,
    progress: bool = False,
    structure_seed: int | None = None,
) -> World:
    """Simulate `n_accounts` customers over `months` months from `start`.

    Args:
        n_accounts: number of customer accounts.
        seed: random seed; the same arguments always give the same world.
        months: length of the window in months; its end is the simulation's "today".
        start: first day of the window (the first of a month is advised).
        config: knobs such as event volume per user (`SimConfig`).
        progress: show a progress bar on stderr.
        structure_seed: draws the world's causal structure (`simulator.structure`): which
            causes drive churn, what each action does, how the CS team chooses, the account
            mix. None is the one structure of the demo world; `seed` then only draws data.

    Returns:
        The `World` with contract tables in `tables` and ground truth in `truth`.
    """
    cfg = config or c.SimConfig()
    run, month_s = open_run(n_accounts, seed, months, start, cfg, structure_seed)
    for m in tqdm(range(months), desc="simulating months", disable=not progress):
        step_month(run, m, month_s)
    p, rng, structure = run.p, run.rng, run.structure
    tables, truth = contract_frames(run, accounts_frame(p), months)
    truth["causes"] = causes.truth_frame(run.rows.get("truth_causes"), p.account_ids)
    shapes.reshape(tables, truth, cfg.tables, cfg.id_style, cfg.timestamps, rng)
    world_start = pd.Timestamp(month_s[0], unit="s").to_pydatetime()
    world_end = pd.Timestamp(month_s[-1], unit="s").to_pydatetime()
    stats = {"events": len(tables["events"])}
    return World(tables, truth, world_start, world_end, stats, config=cfg, structure=structure)


def simulate_to_dir(
    out: Path | str,
    n_accounts: int,
    seed: int,
    months: int = 24,
    fmt: str = "parquet",
    progress: bool = False,
    config: c.SimConfig | None = None,
    structure_seed: int | None = None,
) -> World:
    """Simulate a world and write its tables (`fmt` parquet or csv) and `_truth/` to `out`."""
    from simulator.writer import write_world

    world = simulate(
        n_accounts,
        seed,
        months=months,
        config=config,
        progress=progress,
        structure_seed=structure_seed,
    )
    write_world(world, Path(out), fmt=fmt, progress=progress)
    return world
