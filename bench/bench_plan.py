"""Weekly plan: 5,000 accounts x every action code x 40 CSMs, exact MILP vs the greedy plan.

Prints the whole `plan_week` (rules, randomized lines, pruning, MILP, greedy, LP bound,
words) against the greedy plan alone timed in the same run, the MILP on the unpruned
problem, and the values: target under 3 s for the whole plan on this 2-core machine.
"""

from __future__ import annotations

import time
from datetime import datetime

import numpy as np
import pandas as pd

from actions.plan import PER_ACCOUNT, _capacity, _prune, eligible, greedy, plan_week, solve
from actions.plan_config import load_plan_config
from features.contract import ACTION_CODES

ACCOUNTS, CSMS, REPEATS = 5_000, 40, 3
WEEK = datetime(2026, 6, 1)


def candidates(seed: int = 0) -> pd.DataFrame:
    """Every action code for every account: effects, ARR, tiers, touchpoints as in a book."""
    rng = np.random.default_rng(seed)
    k = len(ACTION_CODES)
    arr = np.repeat(rng.lognormal(10.3, 0.9, ACCOUNTS), k)
    effect = rng.gamma(2.0, 0.012, ACCOUNTS * k) * np.repeat(rng.uniform(0.3, 1.5, ACCOUNTS), k)
    last = WEEK - pd.to_timedelta(rng.integers(1, 120, ACCOUNTS), unit="D")
    return pd.DataFrame(
        {
            "account_id": np.repeat([f"acct-{i:05d}" for i in range(ACCOUNTS)], k),
            "csm": np.repeat([f"csm-{i % CSMS:02d}" for i in range(ACCOUNTS)], k),
            "action": np.tile(ACTION_CODES, ACCOUNTS),
            "saved_arr": effect * arr - 250,
            "risk_tier": np.repeat(rng.choice(["high", "medium", "low"], ACCOUNTS), k),
            "last_touch": np.repeat(last, k),
            "reason": "The playbook's reason.",
            "expected_effect": -effect,
            "basis": "learned",
            "arr": arr,
        }
    )


def timed(fn, *args):  # type: ignore[no-untyped-def]
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    config = load_plan_config()
    frame = candidates()
    print(f"{ACCOUNTS:,} accounts x {len(ACTION_CODES)} action codes x {CSMS} CSMs "
          f"({len(frame):,} candidate lines), {REPEATS} runs")  # fmt: skip
    plans, greedy_walls, full_walls = [], [], []
    for _ in range(REPEATS):
        plan, wall, cpu = timed(plan_week, frame, config, WEEK)
        plans.append((wall, cpu, plan))
        allowed, _ = eligible(frame, config, WEEK)
        paying = allowed[allowed["saved_arr"] > 0]
        capacity, caps = _capacity(paying, config), dict(config.caps)
        _, g_wall, _ = timed(greedy, paying, capacity, caps)
        greedy_walls.append(g_wall)
        (chosen, _), f_wall, _ = timed(solve, paying, capacity, caps)
        full_walls.append(f_wall)
        pruned = _prune(paying, PER_ACCOUNT, capacity)
    wall = float(np.median([p[0] for p in plans]))
    cpu = float(np.median([p[1] for p in plans]))
    plan = plans[-1][2]
    g_wall = float(np.median(greedy_walls))
    f_wall = float(np.median(full_walls))
    print(f"plan_week (exact, pruned):  {wall:.2f} s wall, {cpu:.2f} s CPU (median; target < 3 s)")
    print(f"greedy plan alone:          {g_wall:.3f} s  -> the plan takes {wall / g_wall:.0f}x")
    print(f"MILP on the unpruned lines: {f_wall:.2f} s  ({len(paying):,} lines vs "
          f"{len(pruned):,} pruned)")  # fmt: skip
    print(f"value {plan.value:,.0f}; greedy {plan.greedy_value:,.0f} "
          f"({plan.value / plan.greedy_value - 1:+.1%} for the optimum); bound {plan.bound:,.0f} "
          f"(optimum within {plan.gap:.3%})")  # fmt: skip
    whole = paying["saved_arr"][chosen].sum()
    print(f"without randomized lines the optimum is {whole:,.0f}: exploring costs "
          f"{1 - (plan.value + plan.random_value) / whole:.1%} of the week's value")  # fmt: skip
    arms = plan.lines["arm"].value_counts().to_dict()
    print(f"{len(plan.lines):,} lines {arms}; {plan.status}")
    if wall > 3:
        print("SLOWER THAN THE 3 s TARGET")


if __name__ == "__main__":
    main()
