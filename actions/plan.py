"""The CS team's week: at most one action per account, the most expected saved ARR that fits.

A pure function of candidate lines and the plan settings (`actions.plan_config`):
`plan_week(candidates, config, week)` leaves out what the rules forbid (an account
contacted within `contact_gap_days` of its last touchpoint, an upsell pitch to an account
at high churn risk, an action with no hours or no owner, an action an earlier plan held the
account back from as a control until its renewal), draws the randomized lines
(`actions.plan_holdouts`), then chooses lines maximising expected saved ARR subject to each
CSM's hours and the organisation-wide caps per action, exactly, with `scipy.optimize.milp`
(HiGHS). The problem is pruned first (the best `PER_ACCOUNT` actions of each account, the
best `per CSM` accounts by value and by value per hour); the bound reported is the LP
relaxation of the unpruned problem, so the value is proven within it. The greedy plan (by
value) is solved on the same problem, to show what the optimiser adds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix

from actions.plan_config import UPSELL_ACTION, PlanConfig
from actions.plan_holdouts import draw_random_lines, hold_back, random_lines_wanted
from actions.plan_words import why_line

# Candidate columns: who, what, its value net of cost, and what the rules need.
CANDIDATE_COLUMNS = (
    "account_id", "csm", "action", "saved_arr", "risk_tier", "last_touch", "reason",
)  # fmt: skip
LINE_COLUMNS = (
    "week", "account_id", "csm", "action", "arm", "probability", "hours", "saved_arr",
    "expected_saved_arr", "expected_effect", "basis", "risk_tier", "why", "holdout_until",
    "renewal_date",
)  # fmt: skip
PER_ACCOUNT = 3  # best actions kept per account before solving
PER_CSM = 60  # at least this many best accounts kept per CSM before solving


@dataclass(frozen=True)
class WeekPlan:
    """The plan for one week and how good it is.

    Attributes:
        lines: one row per planned account (`LINE_COLUMNS`); `arm` is `planned`, `control`
            (held back at random: not done this week) or `random` (assigned at random),
            `probability` the chance of that assignment.
        value: saved ARR of the optimiser's lines (controls included) at the values the
            plan was chosen at (`saved_arr`: the stated ones by default; with `choose_at`
            "ranking", learned effects with the hidden selection CSMs make taken out, which
            overstates what they save; `actions.ranking`).
        greedy_value: the same for the greedy plan (best value first) on the same problem.
        bound: no plan can be worth more (the LP relaxation of the unpruned problem).
        excluded: candidate lines left out, by rule.
        expected_value: what the lines to do (planned and random, not controls) are
            expected to save net of cost, at their stated effects (`expected_saved_arr`:
            history alone), the figure to quote.
        unreached: accounts with an action worth doing (valued to save ARR net of its
            cost) that no line reaches: the week's hours and caps ran out before them.
        unreached_value: the value of those accounts' best actions.
    """

    week: datetime
    lines: pd.DataFrame
    value: float
    greedy_value: float
    bound: float
    random_value: float
    status: str
    seconds: float
    excluded: dict[str, int] = field(default_factory=dict)
    expected_value: float = 0.0
    unreached: int = 0
    unreached_value: float = 0.0

    @property
    def gap(self) -> float:
        """How far the value could be below the best plan, as a share of the bound."""
        return 0.0 if self.bound <= 0 else max(self.bound - self.value, 0.0) / self.bound


def eligible(
    candidates: pd.DataFrame,
    config: PlanConfig,
    week: datetime,
    holdouts: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Candidate lines the rules allow, with their `hours`; and how many each rule left out.

    `holdouts`: (account_id, action) pairs an earlier plan held back as controls until the
    account's renewal (`store.Store.holdouts`); those pairs are not planned.
    """
    frame = candidates.reset_index(drop=True)
    last = pd.to_datetime(frame["last_touch"])
    held = pd.Series(False, index=frame.index)
    if holdouts is not None and not holdouts.empty:
        pairs = set(
            zip(holdouts["account_id"].astype(str), holdouts["action"].astype(str), strict=True)
        )
        keys = zip(frame["account_id"].astype(str), frame["action"].astype(str), strict=True)
        held = pd.Series([key in pairs for key in keys], index=frame.index)
    renewal = (
        pd.to_datetime(frame["renewal_date"])
        if "renewal_date" in frame
        else pd.Series(pd.NaT, index=frame.index)
    )
    rules = {
        # decided before anyone could act (monthly terms renewing between the data's end
        # and the week's Monday)
        "renewal before the week starts": renewal.notna() & (renewal < week),
        "held back as a control until the renewal": held,
        "no hours set for the action": ~frame["action"].isin(list(config.hours)),
        "no CSM owner": frame["csm"].isna() | (frame["csm"].astype(str) == ""),
        "contacted within the contact gap": last.notna()
        & (last > week - timedelta(days=config.contact_gap_days)),
        "no upsell pitch at this churn risk": (frame["action"] == UPSELL_ACTION)
        & frame["risk_tier"].isin(list(config.no_upsell_tiers)),
    }
    keep = np.ones(len(frame), dtype=bool)
    excluded: dict[str, int] = {}
    for rule, broken in rules.items():
        hit = broken.to_numpy(dtype=bool) & keep
        excluded[rule] = int(hit.sum())
        keep &= ~hit
    frame = frame[keep].copy()
    frame["hours"] = frame["action"].map(config.hours).astype(float)
    hours_left = frame["csm"].map(config.csm_hours.of).astype(float)
    no_time = (hours_left < frame["hours"]).to_numpy()
    excluded["the CSM has no hours for it"] = int(no_time.sum())
    return frame[~no_time].reset_index(drop=True), excluded


def _prune(frame: pd.DataFrame, per_account: int, capacity: Mapping[str, float]) -> pd.DataFrame:
    """Keep each account's best actions, then each CSM's best accounts (by value, per hour)."""
    frame = frame.assign(per_hour=frame["saved_arr"] / frame["hours"].clip(lower=1e-9))
    by_value = frame.sort_values("saved_arr", ascending=False, kind="stable")
    by_hour = frame.sort_values("per_hour", ascending=False, kind="stable")
    top = by_value.groupby("account_id", sort=False).cumcount() < per_account
    top_per_hour = by_hour.groupby("account_id", sort=False).cumcount() < per_account
    frame = frame.loc[top[top].index.union(top_per_hour[top_per_hour].index)]
    best = frame.groupby("account_id", sort=False).agg(
        csm=("csm", "first"), value=("saved_arr", "max"), hours=("hours", "min")
    )
    best["per_hour"] = best["value"] / best["hours"].clip(lower=1e-9)
    keep = []
    for csm, accounts in best.groupby("csm", sort=False):
        room = int(math.ceil(capacity.get(str(csm), 0.0) / accounts["hours"].min())) * 2
        count = max(PER_CSM, room)
        keep.append(accounts["value"].nlargest(count).index)
        keep.append(accounts["per_hour"].nlargest(count).index)
    kept = pd.Index([]).append(keep).unique() if keep else pd.Index([])
    return frame[frame["account_id"].isin(kept)].drop(columns="per_hour").reset_index(drop=True)


def _constraints(
    frame: pd.DataFrame, capacity: Mapping[str, float], caps: Mapping[str, int]
) -> tuple[csr_matrix, np.ndarray]:
    """Rows: one action per account, hours per CSM, the cap of each capped action."""
    n = len(frame)
    account, _ = pd.factorize(frame["account_id"])
    csm, csms = pd.factorize(frame["csm"])
    n_accounts, n_csms = int(account.max(initial=-1)) + 1, len(csms)
    capped = [a for a in caps if (frame["action"] == a).any()]
    rows = [account, n_accounts + csm]
    cols = [np.arange(n), np.arange(n)]
    data = [np.ones(n), frame["hours"].to_numpy(dtype=float)]
    for k, action in enumerate(capped):
        hit = np.flatnonzero(frame["action"].to_numpy() == action)
        rows.append(np.full(len(hit), n_accounts + n_csms + k))
        cols.append(hit)
        data.append(np.ones(len(hit)))
    shape = (n_accounts + n_csms + len(capped), n)
    matrix = coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape)
    upper = np.concatenate(
        [
            np.ones(n_accounts),
            [capacity.get(str(c), 0.0) for c in csms],
            [float(caps[a]) for a in capped],
        ]
    )
    return matrix.tocsr(), upper


def solve(
    frame: pd.DataFrame, capacity: Mapping[str, float], caps: Mapping[str, int]
) -> tuple[np.ndarray, str]:
    """The lines of `frame` that maximise saved ARR within the limits (exact MILP)."""
    if frame.empty:
        return np.zeros(0, dtype=bool), "nothing to plan"
    matrix, upper = _constraints(frame, capacity, caps)
    result = milp(
        -frame["saved_arr"].to_numpy(dtype=float),
        integrality=np.ones(len(frame)),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(matrix, -np.inf, upper),
        options={"mip_rel_gap": 1e-6, "time_limit": 60},
    )
    if result.x is None:
        raise RuntimeError(f"the plan could not be solved: {result.message}")
    return result.x > 0.5, str(result.message)


def lp_bound(frame: pd.DataFrame, capacity: Mapping[str, float], caps: Mapping[str, int]) -> float:
    """The LP relaxation's value: no plan within the limits is worth more."""
    return relaxation(frame, capacity, caps)[0]


def relaxation(
    frame: pd.DataFrame, capacity: Mapping[str, float], caps: Mapping[str, int]
) -> tuple[float, np.ndarray]:
    """The LP relaxation's value and its (mostly 0/1) share of each line.

    Its lines add up to within a few of the MILP's count (the capacity rows leave only a
    handful fractional), which sizes the random share without a second MILP.
    """
    if frame.empty:
        return 0.0, np.zeros(0)
    matrix, upper = _constraints(frame, capacity, caps)
    result = linprog(
        -frame["saved_arr"].to_numpy(dtype=float),
        A_ub=matrix,
        b_ub=upper,
        bounds=(0, 1),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the plan's bound could not be computed: {result.message}")
    return float(-result.fun), np.asarray(result.x, dtype=float)


def greedy(
    frame: pd.DataFrame, capacity: Mapping[str, float], caps: Mapping[str, int]
) -> np.ndarray:
    """Best value first, taking a line while its account is free and its CSM and cap have room."""
    chosen = np.zeros(len(frame), dtype=bool)
    hours_left = dict(capacity)
    caps_left = dict(caps)
    taken: set[str] = set()
    order = np.argsort(-frame["saved_arr"].to_numpy(dtype=float), kind="stable")
    accounts = frame["account_id"].to_numpy()
    csms = frame["csm"].astype(str).to_numpy()
    actions = frame["action"].to_numpy()
    hours = frame["hours"].to_numpy(dtype=float)
    for i in order:
        account, csm, action = accounts[i], csms[i], actions[i]
        if account in taken or hours[i] > hours_left.get(csm, 0.0) + 1e-9:
            continue
        if caps_left.get(action, 1) <= 0:
            continue
        chosen[i] = True
        taken.add(account)
        hours_left[csm] -= hours[i]
        if action in caps_left:
            caps_left[action] -= 1
    return chosen


def _capacity(frame: pd.DataFrame, config: PlanConfig) -> dict[str, float]:
    return {str(c): config.csm_hours.of(str(c)) for c in frame["csm"].unique()}


def _after(
    capacity: dict[str, float], caps: dict[str, int], taken: pd.DataFrame
) -> tuple[dict[str, float], dict[str, int]]:
    """Hours and caps left once `taken` lines are in the plan."""
    hours = dict(capacity)
    left = dict(caps)
    for csm, used in taken.groupby("csm")["hours"].sum().items():
        hours[str(csm)] = hours.get(str(csm), 0.0) - float(used)
    for action, count in taken["action"].value_counts().items():
        if action in left:
            left[str(action)] -= int(count)
    return hours, left


def _random_wanted(allowed: pd.DataFrame, config: PlanConfig) -> float:
    """How many random lines make `random_share` of the solved plan (`random_lines_wanted`)."""
    share = config.experiments.random_share
    paying = allowed[allowed["saved_arr"] > 0]
    if share <= 0 or paying.empty:
        return 0.0
    _, taken = relaxation(paying, _capacity(allowed, config), dict(config.caps))
    hours = float(taken @ paying["hours"].to_numpy(dtype=float))
    return random_lines_wanted(allowed, share, float(taken.sum()), hours)


def plan_week(
    candidates: pd.DataFrame,
    config: PlanConfig,
    week: datetime,
    holdouts: pd.DataFrame | None = None,
    given: pd.DataFrame | None = None,
) -> WeekPlan:
    """The week's plan (see the module docstring); `candidates` has `CANDIDATE_COLUMNS`.

    `saved_arr` is each line's value as the ranking has it; with `config.choose_at` "stated"
    (the default) the plan is chosen at `expected_saved_arr` instead where a line has one,
    and the lines' `saved_arr` is that value.
    Optional candidate columns carried to the lines and their words: `expected_saved_arr`
    (the stated value, `saved_arr` where missing), `expected_effect`, `basis`,
    `churn_probability`, `upsell_probability`, `arr`, `days_to_renewal`, `driver`,
    `caution`, `expansion_arr`, and `renewal_date` (a control line is held back until it:
    `holdout_until`). `holdouts`: pairs still held back by earlier plans' controls (see
    `eligible`). `given`: pairs earlier plans gave in
    the account's current term (`store.Store.given`), never drawn as controls (`hold_back`).
    """
    started = time.process_time()
    if config.choose_at == "stated" and "expected_saved_arr" in candidates:
        stated = pd.to_numeric(candidates["expected_saved_arr"], errors="coerce")
        candidates = candidates.assign(saved_arr=stated.fillna(candidates["saved_arr"]))
    allowed, excluded = eligible(candidates, config, week, holdouts)
    capacity, caps = _capacity(allowed, config), dict(config.caps)
    randomized = draw_random_lines(
        allowed, config.experiments, week, capacity, caps, _random_wanted(allowed, config)
    )
    pays = allowed[
        (allowed["saved_arr"] > 0) & ~allowed["account_id"].isin(randomized["account_id"])
    ]
    excluded["expected to save no ARR net of its cost"] = int((allowed["saved_arr"] <= 0).sum())
    capacity, caps = _after(capacity, caps, randomized)
    pruned = _prune(pays, PER_ACCOUNT, capacity)
    chosen, status = solve(pruned, capacity, caps)
    optimal = pruned[chosen]
    greedy_value = float(pays["saved_arr"][greedy(pays, capacity, caps)].sum())
    bound = lp_bound(pays, capacity, caps)
    arm, probability = hold_back(optimal, config.experiments, week, given)
    lines = pd.concat(
        [optimal.assign(arm=arm, probability=probability), randomized], ignore_index=True
    )
    lines["week"] = week
    for column, default in (("expected_effect", np.nan), ("basis", "playbook")):
        if column not in lines:
            lines[column] = default
    if "expected_saved_arr" not in lines:
        lines["expected_saved_arr"] = np.nan
    stated = pd.to_numeric(lines["expected_saved_arr"], errors="coerce")
    lines["expected_saved_arr"] = stated.fillna(lines["saved_arr"])
    renewal = pd.to_datetime(lines["renewal_date"]) if "renewal_date" in lines else pd.NaT
    lines["renewal_date"] = pd.Series(renewal, index=lines.index)
    lines["holdout_until"] = lines["renewal_date"].where(lines["arm"] == "control")
    lines["why"] = [why_line(row, config) for row in lines.to_dict("records")]  # type: ignore[arg-type]
    lines = lines.sort_values(["csm", "saved_arr"], ascending=[True, False], kind="stable")
    best = pays.groupby("account_id")["saved_arr"].max()
    left = best[~best.index.isin(lines["account_id"])]
    return WeekPlan(
        week=week,
        lines=lines[list(LINE_COLUMNS)].reset_index(drop=True),
        value=float(optimal["saved_arr"].sum()),
        greedy_value=greedy_value,
        bound=bound,
        random_value=float(randomized["saved_arr"].sum()),
        status=status,
        seconds=time.process_time() - started,
        excluded=excluded,
        expected_value=float(lines.loc[lines["arm"] != "control", "expected_saved_arr"].sum()),
        unreached=len(left),
        unreached_value=float(left.sum()),
    )
