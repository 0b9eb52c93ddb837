"""The honest protocol: next-best-action judged on simulated worlds it was not tuned on.

Each world is drawn from a structure seed (`simulator.structure`): its own causes of churn,
action mechanisms, CS-team habits and account mix. Settings (`uplift.yaml`) are chosen on
the `TUNING` seeds only; the figures that count are on the `UNTOUCHED` seeds, mean and worst.

Per world: simulate, build the training set, fit the uplift model on 70% of the accounts
with what was known at the training date, and judge the policies on the other 30%'s at-risk
snapshots against the world's true effects. Value = sum over accounts of (true churn
reduction x ARR - the action's cost); the best choice takes the best action or none per
account. Shares are of the best choice's value, net of cost and without costs (there the
learned policy ranks with zero costs). Policies: `uplift` (the learned one, through
`actions.ranking.rank`), `playbook` (the shipped file alone), `cs_team` (what the CS team
did in the window after the snapshot, or nothing), `most_common` (always the team's most
common action), `random`, and `true_cause` (a perfect diagnosis: the world's remedy for the
account's dominant cause, `_truth/causes.parquet`, or none when it has no remedy).

Run: `python -m training.uplift.protocol [--accounts 700] [--tuning 1 2 3] [--untouched 11 ...]
[--cache DIR] [--learner-seeds N] [--mlflow URI] [--record]`; about 5 minutes a world on 2
busy cores (1-2 with `--cache` once the world is kept), N times that with `--learner-seeds
N` (each world's figure is then its mean over N learner seeds). `--record`
writes the figures with the settings they were measured with to `protocol.json` beside this
file (`protocol_record.py`); `retain train` prints them and logs them to MLflow while those
settings are the ones in use.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from actions.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook
from actions.ranking import NO_ACTION, best_action, next_best_actions, pain_flags
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from simulator.structure import Structure
from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.model import LEARNED, ActionEffect, UpliftModel, fit_uplift
from training.uplift.offpolicy import cs_team_actions
from training.uplift.offpolicy_run import evaluate_on_history, policies_on
from training.uplift.policy_eval import (
    best_values,
    most_common_action,
    product_playbook,
    true_cause_actions,
    true_effects,
    values,
)
from training.uplift.protocol_record import RECORD, record_protocol
from training.uplift.run import HELD_OUT_SHARE, at_risk, held_out_accounts

TUNING: tuple[int, ...] = (1, 2, 3)
UNTOUCHED: tuple[int, ...] = (11, 12, 13, 14, 15, 16, 17, 18)
POLICIES = ("uplift", "playbook", "cs_team", "most_common", "random", "true_cause")
AS_OF = datetime(2026, 1, 1)  # a 24-month world from 2024-01-01 ends here


@dataclass
class WorldScore:
    """One world's shares of the best choice per policy, and how well effects were learned."""

    structure_seed: int
    accounts: int
    gross: dict[str, float]
    net: dict[str, float]
    net_value: dict[str, float]
    rank_correlation: dict[str, float] = field(default_factory=dict)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    picks: dict[str, int] = field(default_factory=dict)
    offpolicy: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    learner_seed: int = 0  # added to the structure seed to seed the learner (`judge_world`)
    # at the recommended learned actions, the ARR-weighted mean absolute error (pts) of the
    # effect as it ranks (`ranking`) and as stated to the CSM (`history`) against the truth
    stated_error: dict[str, float] = field(default_factory=dict)

    def covered(self) -> dict[str, bool]:
        """Per policy: whether the off-policy interval holds the true value."""
        return {p: low <= true <= high for p, (_, low, high, true) in self.offpolicy.items()}


@dataclass
class WorldData:
    """What the protocol needs of one simulated world: history, truth and structure."""

    structure_seed: int
    dataset: pd.DataFrame
    touchpoints: pd.DataFrame
    truth: dict[str, pd.DataFrame]
    structure: Structure


def prepare_world(
    structure_seed: int,
    accounts: int = 700,
    data_seed: int | None = None,
    cache: Path | None = None,
) -> WorldData:
    """Simulate the world of `structure_seed` and build its training set (kept in `cache`)."""
    from features.dataset import build_dataset
    from features.source import load_source
    from simulator.world import simulate_to_dir

    seed = 1000 + structure_seed if data_seed is None else data_seed
    path = None if cache is None else cache / f"world-{structure_seed}-{seed}-{accounts}.pkl"
    if path is not None and path.exists():
        return load_world(path)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "world"
        world = simulate_to_dir(out, accounts, seed, structure_seed=structure_seed)
        with load_source(str(out)) as source:
            dataset = build_dataset(source.con, "2024-02-01", "2025-12-01")
            touchpoints = source.con.execute("SELECT account_id, ts, type FROM touchpoints").df()
    data = WorldData(structure_seed, dataset, touchpoints, world.truth, world.structure)
    if path is not None:
        save_world(path, data)
    return data


def save_world(path: Path, data: WorldData) -> None:
    """Keep a prepared world in the cache as a plain dict of its fields.

    Not the `WorldData` object: run as `python -m training.uplift.protocol` its class is
    `__main__.WorldData`, and a pickle naming that class could be read back by no other
    entry point (`run_protocol` from `retain train`, a notebook, a script).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump({f.name: getattr(data, f.name) for f in fields(WorldData)}, handle)


def load_world(path: Path) -> WorldData:
    """A world kept by `save_world`."""
    with open(path, "rb") as handle:
        try:
            kept = pickle.load(handle)
        except AttributeError:  # an older cache's `__main__.WorldData`
            kept = None
    if not isinstance(kept, dict):
        raise ValueError(f"{path} is not a world kept by this version; delete it to simulate again")
    return WorldData(**kept)


def split_world(data: WorldData) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, set[str]]:
    """(fitting rows, judged at-risk snapshots, labelled rows, held-out accounts) of a world.

    Fitting: 70% of the accounts' snapshots whose churn label was known at `AS_OF`; judged:
    the other 30%'s at-risk snapshots before `AS_OF`.
    """
    from training.split import labelled_rows

    dataset = data.dataset
    held_out = held_out_accounts(dataset["account_id"], HELD_OUT_SHARE, data.structure_seed)
    labelled = labelled_rows(dataset, "churn", AS_OF)
    fitting = labelled[~labelled["account_id"].astype(str).isin(held_out)]
    judged = dataset[
        dataset["account_id"].astype(str).isin(held_out)
        & (pd.to_datetime(dataset["as_of"]) < pd.Timestamp(AS_OF))
    ]
    return fitting, at_risk(judged, data.truth["churn"]), labelled, held_out


def judge_world(
    data: WorldData,
    config: UpliftConfig | None = None,
    model: UpliftModel | None = None,
    learner_seed: int = 0,
) -> WorldScore:
    """Fit on 70% of the world's accounts with what was known at `AS_OF`, judge on the rest.

    `model`: a model already fitted on this world's 70% (to judge other ranking settings of
    `config`, such as `confidence`, without refitting). `learner_seed`: added to the
    structure seed that seeds the learner's bootstraps and folds (`protocol.json` holds the
    mean of the fits at 0 and 1000).
    """
    config = config or load_uplift_config()
    costs = {a: config.cost(a) for a in ACTION_CODES}
    structure_seed, touchpoints, truth = data.structure_seed, data.touchpoints, data.truth
    fitting, snapshots, labelled, held_out = split_world(data)
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    if model is None:
        history = data.dataset[~data.dataset["account_id"].astype(str).isin(held_out)]
        model = fit_uplift(
            fitting,
            touchpoints,
            playbook,
            config,
            seed=structure_seed + learner_seed,
            history=history,
            as_of=AS_OF,
        )
    model.config = config
    effects_true = true_effects(truth["action_effects"], snapshots)
    arr = snapshots["arr"].to_numpy(dtype=float)
    risk = model.baseline_risk(snapshots)
    suggestions = product_playbook(snapshots, risk, model.risk_cuts_)
    learned = model.effects(snapshots)
    tiers = [risk_tier(float(p), model.risk_cuts_) for p in risk]
    pains = pain_flags(snapshots)

    def learned_policy(price: dict[str, float]) -> list[str]:
        ranked = next_best_actions(learned, arr, price, suggestions, tiers, pains)
        return [best_action(r) for r in ranked]

    rng = np.random.default_rng(structure_seed)
    fixed = {
        "playbook": [s[0].action if s else NO_ACTION for s in suggestions],
        "cs_team": cs_team_actions(snapshots, touchpoints, config.window_days),
        "most_common": [most_common_action(touchpoints)] * len(snapshots),
        "random": list(rng.choice(ACTION_CODES, size=len(snapshots))),
    }
    cause_policy = true_cause_actions(snapshots, truth.get("causes"), data.structure)
    if cause_policy is not None:
        fixed["true_cause"] = cause_policy
    best_gross, best_net = best_values(effects_true, arr, costs)
    gross, net, net_value = {}, {}, {}
    with_costs = learned_policy(costs)
    for name, chosen in {"uplift": with_costs, **fixed}.items():
        g, n = values(chosen, effects_true, arr, costs)
        net[name], net_value[name] = n / best_net if best_net > 0 else 0.0, n
        gross[name] = g / best_gross if best_gross > 0 else 0.0
    free = values(learned_policy({}), effects_true, arr, costs)[0]
    gross["uplift"] = free / best_gross if best_gross > 0 else 0.0
    correlation, calibration = _effect_quality(learned, effects_true)
    stated_error = _stated_error(learned, with_costs, effects_true, arr)
    picks = {str(a): int(n) for a, n in pd.Series(with_costs).value_counts().items()}
    held_labelled = labelled[labelled["account_id"].astype(str).isin(held_out)]
    offpolicy = _offpolicy_against_truth(model, held_labelled, touchpoints, truth, playbook)
    return WorldScore(
        structure_seed,
        len(snapshots),
        gross,
        net,
        net_value,
        correlation,
        calibration,
        picks,
        offpolicy,
        learner_seed,
        stated_error,
    )


def _stated_error(
    learned: dict[str, ActionEffect], chosen: Sequence[str], truth: np.ndarray, arr: np.ndarray
) -> dict[str, float]:
    """ARR-weighted mean absolute error (pts) at the recommended learned actions.

    `ranking`: the effect that ranks (hidden selection taken out); `history`: the effect as
    history alone shows it, pooled by diagnosed cause, which the CSM reads
    (`ActionEffect.history`).
    """
    rows: dict[str, list[float]] = {"ranking": [], "history": [], "weight": []}
    for i, action in enumerate(chosen):
        found = learned.get(action)
        if found is None or found.basis[i] != LEARNED or action not in ACTION_CODES:
            continue
        true = truth[i, ACTION_CODES.index(action)]
        history = found.effect if found.history is None else found.history
        if not np.isfinite(true):
            continue
        rows["ranking"].append(abs(float(found.effect[i]) - true))
        rows["history"].append(abs(float(history[i]) - true))
        rows["weight"].append(float(arr[i]))
    weight = np.asarray(rows["weight"])
    if not weight.size or weight.sum() <= 0:
        return {}
    return {k: float(np.average(rows[k], weights=weight) * 100) for k in ("ranking", "history")}


def _offpolicy_against_truth(
    model: UpliftModel,
    rows: pd.DataFrame,
    touchpoints: pd.DataFrame,
    truth: dict[str, pd.DataFrame],
    playbook: Playbook,
) -> dict[str, tuple[float, float, float, float]]:
    """`evaluate-policy`'s estimate on held-out history next to each policy's true value."""
    rows = rows[rows["arr"].notna()].reset_index(drop=True)
    estimates = evaluate_on_history(rows, touchpoints, model, playbook, AS_OF)
    costs = {a: model.config.cost(a) for a in ACTION_CODES}
    taken = cs_team_actions(rows, touchpoints, model.config.window_days)
    chosen = policies_on(model, rows, taken, playbook, costs)
    effects = true_effects(truth["action_effects"], rows)
    arr = rows["arr"].to_numpy(dtype=float)
    return {
        e.policy: (e.value, e.low, e.high, values(chosen[e.policy], effects, arr, costs)[1])
        for e in estimates
    }


def _effect_quality(
    learned: dict[str, ActionEffect], truth: np.ndarray
) -> tuple[dict[str, float], pd.DataFrame]:
    """Per action Spearman correlation of learned with true effects; estimated vs true pairs."""
    correlation, pairs = {}, []
    for j, action in enumerate(ACTION_CODES):
        found = learned.get(action)
        if found is None:
            continue
        effect = np.asarray(found.effect, dtype=float)
        ok = ~np.isnan(effect) & ~np.isnan(truth[:, j])
        if ok.sum() > 10 and np.std(effect[ok]) > 0 and np.std(truth[ok, j]) > 0:
            correlation[action] = float(spearmanr(effect[ok], truth[ok, j]).statistic)
        pairs.append(
            pd.DataFrame({"action": action, "estimated": effect[ok], "true": truth[ok, j]})
        )
    frame = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame()
    return correlation, frame


def calibration_table(pairs: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Mean estimated and true effect (percentage points) by decile of the estimate."""
    decile = pd.qcut(pairs["estimated"].rank(method="first"), bins, labels=False)
    table = pairs.groupby(decile)[["estimated", "true"]].mean() * 100
    table.index.name = "decile"
    return table.round(2)


def _per_world(scores: Sequence[WorldScore], kind: str, policy: str) -> list[float]:
    """`policy`'s share (`kind`: net or gross) per world, averaged over its learner seeds."""
    by_world: dict[int, list[float]] = {}
    for score in scores:
        shares = getattr(score, kind)
        if policy in shares:
            by_world.setdefault(score.structure_seed, []).append(shares[policy])
    return [float(np.mean(values)) for values in by_world.values()]


@dataclass
class ProtocolReport:
    """Scores of every world, split into tuning and untouched seeds."""

    tuning: list[WorldScore]
    untouched: list[WorldScore]

    def summary(self, scores: Sequence[WorldScore]) -> pd.DataFrame:
        """Mean and worst share per policy, net and without costs, over worlds.

        A world judged with several learner seeds counts once, with its mean over them.
        """
        rows = {}
        for policy in POLICIES:
            net = _per_world(scores, "net", policy)
            gross = _per_world(scores, "gross", policy)
            if net:
                rows[policy] = {
                    "net_mean": np.mean(net),
                    "net_worst": np.min(net),
                    "gross_mean": np.mean(gross),
                    "gross_worst": np.min(gross),
                }
        return pd.DataFrame(rows).T

    def metrics(self) -> dict[str, float]:
        """Flat metrics for MLflow (prefix `protocol_`), on the untouched seeds."""
        table = self.summary(self.untouched)
        found = {
            f"protocol_{policy}_{column}": float(value)
            for policy, row in table.iterrows()
            for column, value in row.items()
        }
        stated = self.stated_error(self.untouched)
        found.update({f"protocol_stated_error_{k}_pts": v for k, v in stated.items()})
        return found

    @staticmethod
    def stated_error(scores: Sequence[WorldScore]) -> dict[str, float]:
        """`WorldScore.stated_error` averaged over worlds (each world's fits averaged first)."""
        frame = pd.DataFrame(
            [{"seed": s.structure_seed, **s.stated_error} for s in scores if s.stated_error]
        )
        if frame.empty:
            return {}
        return {str(k): float(v) for k, v in frame.groupby("seed").mean().mean().items()}

    def describe(self) -> str:
        lines = []
        for name, scores in (("tuning", self.tuning), ("untouched", self.untouched)):
            if not scores:
                continue
            seeds = ", ".join(dict.fromkeys(str(s.structure_seed) for s in scores))
            lines.append(f"{name} structure seeds ({seeds}): share of the best choice")
            lines.append((self.summary(scores) * 100).round(1).to_string())
            lines.append("  per world (net of cost, learned | playbook | CS team):")
            for s in scores:
                learner = f" (learner seed +{s.learner_seed})" if s.learner_seed else ""
                lines.append(
                    f"    seed {s.structure_seed}{learner}: {100 * s.net['uplift']:.0f}% |"
                    f" {100 * s.net['playbook']:.0f}% | {100 * s.net['cs_team']:.0f}%"
                    f"  ({s.accounts} snapshots; picks {s.picks})"
                )
        if self.untouched:
            corr = pd.DataFrame([s.rank_correlation for s in self.untouched]).mean()
            lines.append("untouched: mean rank correlation of learned with true effects")
            lines.append("  " + ", ".join(f"{a} {c:+.2f}" for a, c in corr.items()))
            covered = pd.DataFrame([s.covered() for s in self.untouched])
            if not covered.empty:
                lines.append(
                    "untouched: evaluate-policy's 90% interval holds the true value in "
                    + ", ".join(f"{p} {100 * c:.0f}%" for p, c in covered.mean().items())
                    + " of worlds"
                )
            stated = self.stated_error(self.untouched)
            if stated:
                lines.append(
                    "untouched: at the recommended actions, the effect stated to the CSM (history"
                    f" alone) is off by {stated['history']:.1f} pts on average (ARR-weighted),"
                    f" the effect that ranks by {stated['ranking']:.1f} pts"
                )
            pairs = pd.concat([s.calibration for s in self.untouched], ignore_index=True)
            if len(pairs) >= 10:
                lines.append("untouched: calibration, effect in pts by decile of the estimate")
                lines.append(calibration_table(pairs).to_string())
        return "\n".join(lines)


def run_protocol(
    tuning: Sequence[int] = TUNING,
    untouched: Sequence[int] = UNTOUCHED,
    accounts: int = 700,
    config: UpliftConfig | None = None,
    report: Callable[[str], None] = print,
    cache: Path | None = None,
    learner_seeds: int = 1,
) -> ProtocolReport:
    """Judge the uplift settings on every tuning and untouched structure seed.

    `learner_seeds`: fit and judge each world this many times, the learner seeded with the
    structure seed + 0, 1000, 2000...; a world's figure is then its mean over them. One
    fit's figure moves by up to 24 points with the seed alone (docs/results.md), so settings are
    compared more surely on two or more.
    """
    scores: dict[str, list[WorldScore]] = {"tuning": [], "untouched": []}
    for name, seeds in (("tuning", tuning), ("untouched", untouched)):
        for seed in seeds:
            data = prepare_world(seed, accounts, cache=cache)
            for offset in range(0, 1000 * learner_seeds, 1000):
                score = judge_world(data, config, learner_seed=offset)
                report(
                    f"  {name} seed {seed} (learner seed +{offset}):"
                    f" net {100 * score.net['uplift']:.0f}% of the best"
                )
                scores[name].append(score)
    return ProtocolReport(scores["tuning"], scores["untouched"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=700)
    parser.add_argument("--tuning", type=int, nargs="*", default=list(TUNING))
    parser.add_argument("--untouched", type=int, nargs="*", default=list(UNTOUCHED))
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=None, help="keep simulated worlds here")
    parser.add_argument(
        "--learner-seeds",
        type=int,
        default=1,
        help="fit each world this many times with different learner seeds; average per world",
    )
    parser.add_argument("--mlflow", default=None, help="log the figures to this tracking URI")
    parser.add_argument("--record", action="store_true", help=f"write {RECORD}")
    args = parser.parse_args()
    config = load_uplift_config(args.config)
    result = run_protocol(
        args.tuning, args.untouched, args.accounts, config, print, args.cache, args.learner_seeds
    )
    print(result.describe())
    if args.record:
        seeds = (  # each world once, however many learner seeds judged it
            list(dict.fromkeys(s.structure_seed for s in result.tuning)),
            list(dict.fromkeys(s.structure_seed for s in result.untouched)),
        )
        record_protocol(
            result.metrics(), config, args.accounts, *seeds, learner_seeds=args.learner_seeds
        )
    if args.mlflow:
        import mlflow

        from training.tracking import configure_mlflow

        configure_mlflow(args.mlflow)
        with mlflow.start_run(run_name="uplift-protocol"):
            mlflow.log_params({"tuning": args.tuning, "untouched": args.untouched})
            mlflow.log_params({"accounts": args.accounts, "confidence": config.confidence})
            mlflow.log_params({"learner_seeds": args.learner_seeds})
            mlflow.log_metrics(result.metrics())
            mlflow.log_text(result.describe(), "uplift/protocol.txt")


if __name__ == "__main__":
    main()
