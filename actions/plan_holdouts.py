"""Randomized holdouts: the deliberate random share of the plan that teaches true effects.

Two draws, both reproducible (a hash of the seed, the week and the account, so planning the
same week again gives the same arms):

* `draw_random_lines`: before the plan is solved, each account the rules allow is drawn
  with probability q = (random lines wanted / accounts allowed), so that about
  `random_share` of the solved plan's lines are random; a drawn account gets one of its
  allowed actions chosen uniformly (arm `random`, probability q / k for k allowed actions),
  whatever the models think of it. These lines take their CSM's hours first.
  The lines wanted are sized on the solved plan (`random_lines_wanted`), not on the greedy
  one: the greedy plan spends the hours on long, valuable actions and held about half the
  optimiser's lines (the fifth audit's random share came out at half the configured one).
* `hold_back`: after the plan is solved, each planned line is held back with its action's
  `control_share` (arm `control`, probability `control_share`); the others are arm
  `planned` with probability `1 - control_share`. A line whose account an earlier plan
  already gave that action in the current term (a planned or random line before the same
  renewal, `store.Store.given`) is never held back: arm `planned`, probability 1.0. Held
  back, it would not measure the action's absence (the account had it) and would pull
  the measured effect toward zero (the fifth audit: 56 of 267 controls). The comparison
  uses only lines that could have been held back (probability below 1). A control is held
  back until the account's next renewal (the line's `holdout_until`): later plans do not
  give the account that action before it (`actions.plan.eligible`). Held back for one week
  only, most controls would be planned the next week and done, and their renewal would
  measure a week's delay instead of the action's absence.

Planned lines that could have been held back and control lines of one action come from the
same accounts by a coin flip, so the difference in their churn at the renewal is the
action's effect on the accounts the plan picks, free of the CS team's choices
(`actions.plan_experiments`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from actions.plan_config import Experiments

ARMS = ("planned", "control", "random")


def uniform(seed: int, week: datetime, keys: Sequence[str], purpose: str) -> np.ndarray:
    """A reproducible uniform draw in [0, 1) per key, for this seed, week and purpose."""
    prefix = f"{seed}|{week:%Y-%m-%d}|{purpose}|"
    draws = [
        int.from_bytes(hashlib.blake2b((prefix + str(k)).encode(), digest_size=8).digest(), "big")
        for k in keys
    ]
    return np.asarray(draws, dtype=np.float64) / 2.0**64


def random_lines_wanted(
    allowed: pd.DataFrame, share: float, planned_lines: float, planned_hours: float
) -> float:
    """How many random lines make `share` of the plan once the optimiser fills the rest.

    `planned_lines` and `planned_hours` describe the plan solved without random lines (its
    LP relaxation holds within a few lines of the MILP's count, for a fraction of the
    time). A random line's action is drawn uniformly, so it usually takes longer than the
    optimiser's lines (which favour value per hour) and displaces more than one of them:
    R random lines of h hours leave about `planned_lines - R * (h / per_line - 1)` lines
    in all, and R is solved so that R is `share` of that.
    """
    if share <= 0 or planned_lines <= 0:
        return 0.0
    per_line = planned_hours / planned_lines
    random_hours = float(allowed.groupby("account_id")["hours"].mean().mean())
    displaced = max(random_hours / per_line, 1.0) if per_line > 0 else 1.0
    return share * planned_lines / (1.0 + share * (displaced - 1.0))


def draw_random_lines(
    allowed: pd.DataFrame,
    experiments: Experiments,
    week: datetime,
    capacity: Mapping[str, float],
    caps: Mapping[str, int],
    wanted: float,
) -> pd.DataFrame:
    """The lines assigned at random this week (arm `random`, with their probability).

    `wanted`: how many random lines the week should hold (`random_lines_wanted`).

    A drawn line is dropped when its CSM's hours or its action's cap are used up by drawn
    lines before it (in draw order); its probability is then lower than stated, which the
    share's size (a few percent) keeps rare.
    """
    columns = [*allowed.columns, "arm", "probability"]
    accounts = pd.Index(allowed["account_id"].unique())
    share = min(wanted / max(len(accounts), 1), 1.0)
    if share <= 0:
        return pd.DataFrame(columns=columns)
    u = uniform(experiments.seed, week, list(accounts), "random")
    drawn = accounts[u < share]
    order = np.argsort(u[u < share], kind="stable")
    pick = uniform(experiments.seed, week, list(drawn), "random-action")
    hours_left, caps_left = dict(capacity), dict(caps)
    rows = []
    for i in order:
        options = allowed[allowed["account_id"] == drawn[i]].sort_values("action")
        line = options.iloc[int(pick[i] * len(options))]
        csm, action = str(line["csm"]), str(line["action"])
        if line["hours"] > hours_left.get(csm, 0.0) + 1e-9 or caps_left.get(action, 1) <= 0:
            continue
        hours_left[csm] = hours_left.get(csm, 0.0) - float(line["hours"])
        if action in caps_left:
            caps_left[action] -= 1
        rows.append({**line.to_dict(), "arm": "random", "probability": share / len(options)})
    return pd.DataFrame(rows, columns=columns)


def hold_back(
    planned: pd.DataFrame,
    experiments: Experiments,
    week: datetime,
    given: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each planned line's arm (`planned` or `control`) and the probability of that arm.

    `given`: (account_id, action) pairs earlier plans gave in the account's current term;
    those lines cannot be controls (probability 1.0 of `planned`).
    """
    share = planned["action"].map(experiments.control).to_numpy(dtype=float)
    if given is not None and not given.empty:
        had = set(zip(given["account_id"].astype(str), given["action"].astype(str), strict=True))
        keys = zip(planned["account_id"].astype(str), planned["action"].astype(str), strict=True)
        share = np.where([key in had for key in keys], 0.0, share)
    u = uniform(experiments.seed, week, list(planned["account_id"]), "control")
    control = u < share
    arm = np.where(control, "control", "planned")
    return arm, np.where(control, share, 1.0 - share)
