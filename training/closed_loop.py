"""The closed loop, proven on the simulator (issue 12): plan, act, record, retrain, month by month.

A world is simulated for `burn_in` months with its own CS team (the confounded history the
service is deployed on). From then on, for `months` months, each *arm* lives the same
world's future (`simulator.closed_loop.LiveWorld.fork`: same past, same seeds):

1. the models retrain on what is known at the month's start: the source's tables and
   touchpoints before the loop, and the touchpoints the team recorded through the service's
   store (`store.Store`) since, each once (`store.combine_touchpoints`), churn labels of
   renewals decided by then (`training.split.labelled_rows`); the uplift learner
   (`training.uplift.fit_uplift`, the shipped settings but `bags`) gives every running
   account's effects and, through its cross-fitted churn baseline, its churn risk tier;
2. the plan (`actions.plan.plan_week`, the shipped `plan.yaml`: hours per action, hours per
   CSM, caps, contact gap, no upsell pitch at high risk) is solved from candidate lines
   built as the service builds them (`serving.plan.candidate_lines`' rule), leaving out what
   an earlier month's control holds back until the account's renewal, and stored;
3. the team does each `planned` or `random` line with probability `follow` (a reproducible
   draw per account and month, the same in every arm), never a `control` line, and records
   what it did in the store, with the plan line it follows; a team may also stray for
   reasons the data does not show: with `sense` it does the lines of accounts whose true
   churn risk is higher more often, and with `own_team` the world's own CS team keeps
   acting, as it did before the service, on accounts the plan gives no line (controls too),
   recorded without a plan line (`lines_followed`);
4. the simulator lives the month with exactly those actions and their true effects.

Arms: `randomized` (the learned plan with its randomized slices: the plan file's control
and random shares, or those given), `not_randomized` (the same plan with both shares 0)
and `playbook` (the team follows the playbook alone: every candidate is a playbook
suggestion valued at the plan file's `assumed_effect`, the same hours and caps; its models
are fitted too, to show what its history teaches).

Per arm and month `training.closed_loop_score` reports the true saved ARR of what was
done (the simulator's true effect of each done action on the account's churn probability
at the month's start, x ARR, and net of the action's cost) and how far the learned effects
are from the true ones for every running account; at the end, the ARR under contract in
each arm's world.

Run: `retain closed-loop` (`retain/cli.py`); `make closed-loop`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from actions.plan import CANDIDATE_COLUMNS, plan_week
from actions.plan_config import PlanConfig, load_plan_config
from actions.plan_holdouts import uniform
from actions.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook
from actions.ranking import next_best_actions, pain_flags
from actions.tiers import risk_tiers
from features.contract import ACTION_CODES
from simulator.closed_loop import LiveWorld
from store import Plan, Store, Touchpoint, combine_touchpoints, plan_lines
from training.closed_loop_score import (
    ArmResult,
    LoopReport,
    MonthResult,
    line_claims,
    score_month,
)
from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.model import fit_uplift
from training.uplift.policy_eval import product_playbook

ARMS = ("randomized", "not_randomized", "playbook")
FOLLOW_PURPOSE = "closed-loop-follow"


@dataclass(frozen=True)
class LoopSettings:
    """The smallest world that shows the loop, and how the team and the models behave."""

    accounts: int = 300
    seed: int = 7
    structure_seed: int | None = None  # None: the demo world's structure
    burn_in: int = 12  # months of history with the world's own CS team
    months: int = 12  # months of the closed loop
    follow: float = 0.8  # chance the team does a planned (or random) line
    # how much that chance follows what CSMs sense and the data does not show: the log-odds
    # of doing a line rise by `sense` per unit of the account's true churn log-odds (0: none)
    sense: float = 0.0
    own_team: float = 0.0  # chance the world's own team also acts where the plan does not
    bags: int = 2  # the uplift learner's bags (the shipped 8 is 4x slower)
    control_share: float | None = None  # the randomized arm's shares; None: plan.yaml's
    random_share: float | None = None
    arms: tuple[str, ...] = ARMS

    def __post_init__(self) -> None:
        if self.accounts < 1 or self.burn_in < 2 or self.months < 1:
            raise ValueError("the loop needs accounts >= 1, burn_in >= 2 and months >= 1")
        if not 0.0 <= self.follow <= 1.0:
            raise ValueError(f"follow must be between 0 and 1, got {self.follow}")
        if not 0.0 <= self.own_team <= 1.0:
            raise ValueError(f"own_team must be between 0 and 1, got {self.own_team}")
        unknown = set(self.arms) - set(ARMS)
        if unknown:
            raise ValueError(f"unknown arms {sorted(unknown)}; known: {', '.join(ARMS)}")


def arm_plan_config(base: PlanConfig, arm: str, settings: LoopSettings) -> PlanConfig:
    """The plan settings of an arm: only the randomized arm keeps randomized slices."""
    experiments = base.experiments
    shares: dict[str, Any]
    if arm == "randomized":
        shares = {
            "control_share": experiments.control_share
            if settings.control_share is None
            else settings.control_share,
            "random_share": experiments.random_share
            if settings.random_share is None
            else settings.random_share,
        }
        if settings.control_share is not None:
            shares["control_share_by_action"] = {}
    else:
        shares = {"control_share": 0.0, "random_share": 0.0, "control_share_by_action": {}}
    checked = {**base.model_dump(), "experiments": {**experiments.model_dump(), **shares}}
    return PlanConfig.model_validate(checked)  # a share out of bounds is an error here


def run_closed_loop(
    settings: LoopSettings = LoopSettings(),
    folder: Path | None = None,
    plan_config: PlanConfig | None = None,
    uplift_config: UpliftConfig | None = None,
    report: Callable[[str], None] = print,
) -> LoopReport:
    """Run every arm of `settings` on one world (see the module docstring).

    `folder` keeps each arm's store (`<arm>.db`); default a temporary folder.
    """
    started = time.monotonic()
    plan_config = plan_config or load_plan_config()
    base_uplift = uplift_config or load_uplift_config()
    uplift = base_uplift.model_copy(update={"bags": settings.bags})
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    report(f"Simulating {settings.burn_in} months of history ...")
    configs = {arm: arm_plan_config(plan_config, arm, settings) for arm in settings.arms}
    world = LiveWorld.open(
        settings.accounts, settings.seed, settings.burn_in, settings.months, settings.structure_seed
    )
    results: dict[str, ArmResult] = {}
    with tempfile.TemporaryDirectory() as scratch:
        where = folder or Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        for arm in settings.arms:
            store_path = where / f"{arm}.db"
            store_path.unlink(missing_ok=True)
            with Store(f"sqlite:///{store_path.resolve()}") as store:
                results[arm] = run_arm(
                    world.fork(),
                    arm,
                    configs[arm],
                    uplift,
                    playbook,
                    store,
                    settings,
                    report,
                )
    return LoopReport(settings, results, time.monotonic() - started)


def run_arm(
    world: LiveWorld,
    arm: str,
    plan_config: PlanConfig,
    uplift: UpliftConfig,
    playbook: Playbook,
    store: Store,
    settings: LoopSettings,
    report: Callable[[str], None] = print,
) -> ArmResult:
    """Live `settings.months` months of `world` with the team following `arm`'s plans."""
    loop_start = world.now
    months: list[MonthResult] = []
    costs = {a: uplift.cost(a) for a in ACTION_CODES}
    for k in range(settings.months):
        now = world.now
        with tempfile.TemporaryDirectory() as folder:
            known = _known_at(world, loop_start, store, Path(folder))
        model = fit_uplift(
            known.labelled,
            known.touchpoints,
            playbook,
            uplift,
            seed=settings.seed,
            history=known.history,
            as_of=now,
        )
        scored = known.current
        risk = model.baseline_risk(scored)
        cuts = model.risk_cuts_
        effects = model.effects(scored)
        arr = scored["arr"].to_numpy(dtype=float)
        suggestions = product_playbook(scored, risk, cuts, playbook)
        tiers = list(risk_tiers(risk, cuts))
        used = {} if arm == "playbook" else effects
        ranked = next_best_actions(used, arr, costs, suggestions, tiers, pain_flags(scored))
        candidates = candidate_frame(scored, ranked, tiers, known, plan_config, costs)
        day = now.date()
        plan = plan_week(candidates, plan_config, now, store.holdouts(day), store.given(day))
        plan_id = f"{arm}-{now:%Y-%m-%d}"
        store.save_plan(stored_plan(plan_id, now, plan.lines, plan.value))
        lived = world.live_month(_team(plan.lines, settings, now), own_team=settings.own_team)
        followed = lines_followed(plan_id, plan.lines)
        for tp in lived.touchpoints.to_dict("records"):
            store.add_touchpoint(
                Touchpoint(
                    touchpoint_id=str(tp["touchpoint_id"]),
                    account_id=str(tp["account_id"]),
                    ts=tp["ts"],
                    type=str(tp["type"]),
                    owner=str(tp["owner"]),
                    plan_line_id=followed.get((str(tp["account_id"]), str(tp["type"]))),
                )
            )
        history = None  # the effects as history alone shows them, where a prior moved them
        if model.config.hidden_risk() > 0:
            history = {
                a: e if e.history is None else e._replace(effect=e.history)
                for a, e in effects.items()
            }
        month = score_month(
            arm, now, scored, effects, lived.effects, lived.touchpoints, costs, history
        )
        values = scored.set_index(scored["account_id"].astype(str))["arr"]
        claimed, stated, true = line_claims(
            plan.lines, lived.touchpoints, lived.effects, values, costs
        )
        month = replace(
            month,
            lines={str(a): int(n) for a, n in plan.lines["arm"].value_counts().items()},
            training_rows=len(known.labelled),
            fixes="; ".join(f"{f.action}:{f.cause} {f.rate:.2f}" for f in model.fixes_),
            claimed_arr_net=claimed,
            stated_arr_net=stated,
            lines_true_arr_net=true,
        )
        months.append(month)
        report(
            f"  {arm} {now:%Y-%m}: {month.done} done of {len(plan.lines)} lines, true saved"
            f" {month.saved_arr_net:,.0f} net; effect error {month.mae_pts:.2f} pts,"
            f" rank corr {month.rank_correlation:+.2f} ({k + 1}/{settings.months})"
        )
    result = ArmResult(arm, months, final_arr=_arr_under_contract(world))
    result.stored_touchpoints = len(store.touchpoints())
    result.stored_plans = len(store.plans())
    return result


@dataclass(frozen=True)
class Known:
    """What the service knows at a month's start."""

    labelled: pd.DataFrame  # snapshots with a churn label known by now
    history: pd.DataFrame  # every snapshot up to now, labelled or not (the fixes seen)
    current: pd.DataFrame  # every running account's features now, with arr
    touchpoints: pd.DataFrame  # the source's (before the loop) and the store's, each once
    last_touch: dict[str, datetime]
    owners: dict[str, str]


def _known_at(world: LiveWorld, loop_start: datetime, store: Store, folder: Path) -> Known:
    """Write the tables known now as a source, read it as training does, add the store's."""
    from features.compute import compute_features
    from features.dataset import build_dataset
    from features.labels import compute_labels
    from features.source import load_source
    from training.split import labelled_rows
    from training.uplift.data import load_touchpoints

    now = world.now
    tables = world.tables()
    touches = tables["touchpoints"]
    # the CRM's export ends where the loop starts: the team records through the service since
    tables["touchpoints"] = touches[pd.to_datetime(touches["ts"]) < loop_start]
    for name, table in tables.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
    first = _datetime(int(world.month_s[1]))
    with load_source(folder) as source:
        dataset = build_dataset(source.con, first, now)
        current = compute_features(source.con, [now]).merge(
            compute_labels(source.con, [now])[["account_id", "as_of", "arr", "renewal_date"]],
            on=["account_id", "as_of"],
        )
        from_source = load_touchpoints(source.con, now)
    combined = combine_touchpoints(from_source, store.touchpoints(), until=now)
    last = combined.groupby("account_id")["ts"].max()
    accounts = tables["accounts"]
    owners = dict(
        zip(accounts["account_id"].astype(str), accounts["csm_owner"].astype(str), strict=True)
    )
    current = current[current["arr"].notna()].reset_index(drop=True)
    return Known(
        labelled=labelled_rows(dataset, "churn", now).reset_index(drop=True),
        history=dataset,
        current=current,
        touchpoints=combined,
        last_touch={str(a): pd.Timestamp(t).to_pydatetime() for a, t in last.items()},
        owners=owners,
    )


def candidate_frame(
    scored: pd.DataFrame,
    ranked: Sequence[Sequence[Any]],
    tiers: Sequence[str],
    known: Known,
    config: PlanConfig,
    costs: dict[str, float],
) -> pd.DataFrame:
    """Candidate lines as the service builds them (`serving.plan.candidate_lines`' rule).

    A learned action carries the saved ARR net of cost it is ranked at and its stated one
    (history's, pooled by diagnosed cause), which the plan is chosen at by default
    (`choose_at`); a playbook suggestion history cannot judge, the plan file's
    `assumed_effect` x ARR minus its cost. (The
    service adds an upsell pitch's expected expansion from the upsell model; the loop
    trains no upsell model, so a playbook upsell pitch is valued on churn alone.)
    """
    rows = []
    values = scored["arr"].to_numpy(dtype=float)
    renewals = pd.to_datetime(scored["renewal_date"]).to_numpy()
    for i, account in enumerate(scored["account_id"].astype(str)):
        arr = float(values[i])
        for action in ranked[i]:
            stated = action.expected_saved_arr
            if action.basis == "learned" and action.ranking_saved_arr is not None:
                saved = float(action.ranking_saved_arr)
            else:
                saved = stated = config.assumed_effect * arr - costs.get(action.action, 0.0)
            rows.append(
                {
                    "account_id": account,
                    "csm": known.owners.get(account),
                    "action": action.action,
                    "saved_arr": saved,
                    "expected_saved_arr": stated,
                    "risk_tier": tiers[i],
                    "last_touch": known.last_touch.get(account),
                    "reason": action.reason,
                    "expected_effect": action.expected_effect,
                    "basis": action.basis,
                    "arr": arr,
                    "renewal_date": renewals[i],
                }
            )
    frame = pd.DataFrame(rows, columns=None if rows else list(CANDIDATE_COLUMNS))
    frame["last_touch"] = pd.to_datetime(frame["last_touch"])
    return frame


def lines_followed(plan_id: str, lines: pd.DataFrame) -> dict[tuple[str, str], str]:
    """The stored plan line that an (account, action) done this month follows.

    Only a line's own action for its account follows it, and never a control's line: with
    `own_team` the world's own team also acts, with its usual choice, on control accounts
    and on lines the team skipped. Those are the team's own choices; the store refuses them
    as following a line (`store.Store.add_touchpoint`: the loop stopped there), and
    `own_choice_share` must count them as the team's own, not the plan's.
    """
    return {
        (str(row["account_id"]), str(row["action"])): line.plan_line_id
        for row, line in zip(
            lines.to_dict("records"), plan_lines(plan_id, lines.to_dict("records")), strict=True
        )
        if line.arm != "control"
    }


def stored_plan(plan_id: str, week: datetime, lines: pd.DataFrame, value: float) -> Plan:
    """The month's plan as the store keeps it, one line per account."""
    return Plan(
        plan_id=plan_id,
        week=week.date(),
        lines=plan_lines(plan_id, lines.to_dict("records")),
        model_version="closed-loop",
        summary={"value": round(value, 2)},
    )


def follow_plan(
    lines: pd.DataFrame,
    follow: float,
    seed: int,
    month: datetime,
    sensed: Mapping[str, float] | None = None,
    sense: float = 0.0,
) -> dict[str, str]:
    """What the team does: each planned or random line with probability `follow`, no control.

    The draw is per account and month (not per arm), so arms that plan the same line for
    the same account do it or skip it alike. With `sense`, the chance follows what CSMs
    sense and the data does not show (`sensed`: account -> true churn probability): its
    log-odds are `follow`'s plus `sense` x (the account's churn log-odds - the lines'
    median), so the team skips the accounts it feels are fine and does the troubled ones.
    """
    doable = lines[lines["arm"].isin(["planned", "random"])]
    accounts = [str(a) for a in doable["account_id"]]
    chance = np.full(len(accounts), follow)
    if sense and sensed is not None and 0.0 < follow < 1.0 and accounts:
        churn = np.clip([sensed.get(a, np.nan) for a in accounts], 1e-6, 1 - 1e-6)
        felt = np.log(churn / (1 - churn))
        felt = np.nan_to_num(felt - np.nanmedian(felt)) if np.isfinite(felt).any() else 0.0
        chance = 1.0 / (1.0 + np.exp(-(np.log(follow / (1 - follow)) + sense * felt)))
    does = uniform(seed, month, accounts, FOLLOW_PURPOSE) < chance
    return dict(zip(np.asarray(accounts)[does], doable["action"].astype(str)[does], strict=True))


def _team(
    lines: pd.DataFrame, settings: LoopSettings, month: datetime
) -> Callable[[datetime, np.ndarray, np.ndarray], dict[str, str]]:
    """The team of a month: it follows the plan's lines as `follow_plan` says."""

    def choose(_start: datetime, running: np.ndarray, churn: np.ndarray) -> dict[str, str]:
        sensed = dict(zip((str(a) for a in running), churn, strict=True))
        return follow_plan(lines, settings.follow, settings.seed, month, sensed, settings.sense)

    return choose


def _arr_under_contract(world: LiveWorld) -> float:
    """The ARR of every running account at the loop's end (`features.labels`' arr)."""
    from features.labels import compute_labels
    from features.source import load_source

    with tempfile.TemporaryDirectory() as folder:
        for name, table in world.tables().items():
            table.to_parquet(Path(folder) / f"{name}.parquet", index=False)
        with load_source(folder) as source:
            labels = compute_labels(source.con, [world.now])
    return float(labels["arr"].sum())


def _datetime(seconds: int) -> datetime:
    return pd.Timestamp(seconds, unit="s").to_pydatetime()
