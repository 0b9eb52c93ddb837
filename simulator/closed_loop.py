"""A simulated world lived month by month while another CS team acts in it (issue 12).

`LiveWorld.open` simulates a world's first `burn_in` months with the world's own CS team
(the history a service is deployed on). Then, each month, whoever runs the loop reads the
contract tables known so far (`tables`), decides what the team does this month, and
`live_month` lives the month with those actions: the simulator applies each action's true
effect to the account, exactly as it does for its own team. The month's truth (every
action's true effect on each running account, as of the month's start) comes back with
the touchpoints done, so a loop can score what it chose and what it learned.

`fork` copies a world, so several teams can live the same future from the same past on
the same random draws (same seeds) until their actions make the worlds differ.

The simulator lives months, not weeks: one month's actions are one plan's lines.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from features.contract import ACTION_CODES
from simulator import config as c
from simulator.accounts import accounts_frame
from simulator.frames import contract_frames
from simulator.world import _Run, open_run, step_month

SNAPSHOT_STREAM = 7_301  # second word of the generator that draws a snapshot's milestones

# The team's choice for one month: account id -> action code (accounts left out: nothing).
Choice = Mapping[str, str]

# Who chooses: (month start, running account ids, each one's true churn probability at the
# start) -> the choice. The probability is what CSMs sense in their calls and the data does
# not show; a team that skips or adds lines on it deviates from a plan for hidden reasons.
Chooser = Callable[[datetime, np.ndarray, np.ndarray], Choice]


@dataclass(frozen=True)
class LivedMonth:
    """What happened in one month lived by `LiveWorld.live_month`.

    Attributes:
        start: the month's first moment (the plan's date).
        touchpoints: the actions done (touchpoint_id, account_id, ts, type, owner).
        effects: the true effect of every action on every running account at `start`
            (account_id, action, effect: change in churn probability, negative helps).
        churn: the true churn probability of every running account at `start`.
    """

    start: datetime
    touchpoints: pd.DataFrame
    effects: pd.DataFrame
    churn: pd.DataFrame


@dataclass
class LiveWorld:
    """A simulated world stepped one month at a time (see the module docstring)."""

    run: _Run
    month_s: np.ndarray
    month: int  # the next month to live (index into month_s)
    loop_start: int  # the first month lived by someone else's team

    @classmethod
    def open(
        cls,
        accounts: int,
        seed: int,
        burn_in: int,
        months: int,
        structure_seed: int | None = None,
        start: date = date(2024, 1, 1),
    ) -> LiveWorld:
        """Simulate `burn_in` months with the world's own team; `months` more may follow."""
        run, month_s = open_run(
            accounts, seed, burn_in + months, start, c.SimConfig(), structure_seed
        )
        world = cls(run, month_s, 0, burn_in)
        for _ in range(burn_in):
            step_month(world.run, world.month, world.month_s)
            world.month += 1
        return world

    def fork(self) -> LiveWorld:
        """An independent copy: the same past, the same random draws ahead."""
        return copy.deepcopy(self)

    @property
    def now(self) -> datetime:
        """The start of the next month to live: what is known is what happened before it."""
        return _datetime(int(self.month_s[self.month]))

    @property
    def months_left(self) -> int:
        return len(self.month_s) - 1 - self.month

    def tables(self) -> dict[str, pd.DataFrame]:
        """The nine contract tables as known at `now` (accounts signed before it).

        The touchpoints table holds every touchpoint done so far, the loop's included; a
        loop that records its team's touchpoints elsewhere keeps those before `loop_start`.
        """
        t = int(self.month_s[self.month])
        # milestones draw go-live dates: from their own generator, so the world's draws stay
        stream = np.random.default_rng([self.run.seed, SNAPSHOT_STREAM, self.month])
        known = dataclasses.replace(self.run, rng=stream, window_end_s=t)
        accounts = accounts_frame(self.run.p)[self.run.p.created_s < t].reset_index(drop=True)
        tables, _ = contract_frames(known, accounts, self.month)
        return tables

    def live_month(self, choose: Chooser, own_team: float = 0.0) -> LivedMonth:
        """Live the next month; `choose(start, running ids, true churn)` says what is done.

        An action chosen for an account that is not running this month is not done. An
        account that started this month has no true churn yet: NaN.
        `own_team`: the chance that the world's own CS team also acts, with its usual
        (confounded) choice, on a running account `choose` leaves out.
        """
        if not 0.0 <= own_team <= 1.0:
            raise ValueError(f"own_team must be between 0 and 1, got {own_team}")
        if self.months_left <= 0:
            raise ValueError("the world has no month left to live")
        start, t0 = self.now, int(self.month_s[self.month])
        ids = self.run.p.account_ids
        index = {code: i for i, code in enumerate(ACTION_CODES)}

        def team(idx: np.ndarray, month_start: int) -> np.ndarray:
            chosen = choose(_datetime(month_start), ids[idx], self._churn_now(idx, month_start))
            return np.array([index.get(chosen.get(a, ""), -1) for a in ids[idx]], dtype="int64")

        self.run.team, self.run.own_share = team, own_team
        done = self.run.rows.get("touchpoints")
        before = 0 if done is None else len(done)
        try:
            step_month(self.run, self.month, self.month_s)
        finally:
            self.run.team, self.run.own_share = None, 0.0
        self.month += 1
        return LivedMonth(start, self._touchpoints_since(before), *self._truth_at(t0))

    def _churn_now(self, idx: np.ndarray, t0: int) -> np.ndarray:
        """True churn probability of accounts `idx` as recorded at month start `t0` (NaN: none).

        The month's truth is recorded before the team acts (`simulator.world._month`).
        """
        churn = self.run.rows["truth_churn"]
        now = churn.column("as_of").astype("int64") == t0
        probability = np.full(self.run.p.n, np.nan)
        probability[churn.column("account").astype("int64")[now]] = churn.column("churn")[now]
        return probability[idx]

    def _touchpoints_since(self, first: int) -> pd.DataFrame:
        rows = self.run.rows.get("touchpoints")
        columns = ["touchpoint_id", "account_id", "ts", "type", "owner"]
        if rows is None or len(rows) <= first:
            return pd.DataFrame(columns=columns)
        account = rows.column("account").astype("int64")[first:]
        action = rows.column("action").astype("int64")[first:]
        ts = rows.column("ts").astype("int64")[first:]
        return pd.DataFrame(
            {
                "touchpoint_id": [f"tp_{i:07d}" for i in range(first, first + len(account))],
                "account_id": self.run.p.account_ids[account],
                "ts": pd.to_datetime(ts, unit="s"),
                "type": np.array(ACTION_CODES, dtype=object)[action],
                "owner": np.array(c.CSMS, dtype=object)[self.run.p.csm[account]],
            }
        )

    def _truth_at(self, t0: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        ids = self.run.p.account_ids
        effects, churn = self.run.rows["truth_effects"], self.run.rows["truth_churn"]
        at = effects.column("as_of").astype("int64") == t0
        effect_frame = pd.DataFrame(
            {
                "account_id": ids[effects.column("account").astype("int64")[at]],
                "action": np.array(ACTION_CODES, dtype=object)[
                    effects.column("action").astype("int64")[at]
                ],
                "effect": effects.column("effect")[at],
            }
        )
        now = churn.column("as_of").astype("int64") == t0
        churn_frame = pd.DataFrame(
            {
                "account_id": ids[churn.column("account").astype("int64")[now]],
                "churn_probability": churn.column("churn")[now],
            }
        )
        return effect_frame, churn_frame


def _datetime(seconds: int) -> datetime:
    return pd.Timestamp(seconds, unit="s").to_pydatetime()
