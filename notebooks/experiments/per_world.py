"""What the issue-11 experiment scripts share: a fitted, judged world and the per-world print."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from actions.ranking import best_action, next_best_actions, pain_flags
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from training.uplift.config import UpliftConfig
from training.uplift.model import ActionEffect, UpliftModel, fit_uplift
from training.uplift.policy_eval import best_values, product_playbook, true_effects, values
from training.uplift.protocol import AS_OF, WorldData, prepare_world, split_world


@dataclass
class JudgedWorld:
    """A protocol world (700 accounts) fitted on 70% of its accounts, judged on the rest."""

    data: WorldData
    fitting: pd.DataFrame
    snapshots: pd.DataFrame  # the held-out accounts' at-risk snapshots
    held_out: set[str]
    model: UpliftModel
    costs: dict[str, float]
    effects_true: np.ndarray
    arr: np.ndarray
    baseline: np.ndarray
    suggestions: list
    tiers: list[str]

    def share(self, effects: dict[str, ActionEffect], gross: bool = False) -> float:
        """Net share of the best choice; `gross`: ranked and valued without costs."""
        prices = {} if gross else self.costs
        ranked = next_best_actions(effects, self.arr, prices, self.suggestions, self.tiers)
        return self.value_share([best_action(r) for r in ranked], gross)

    def rankings(self, effects: dict[str, ActionEffect]) -> list[tuple[str, list]]:
        """The protocol's two rankings, as `judge_world` ranks (tiers, pains).

        `""` with costs, `"_gross"` without.
        """
        pains = pain_flags(self.snapshots)
        return [
            (suffix, next_best_actions(effects, self.arr, p, self.suggestions, self.tiers, pains))
            for suffix, p in (("", self.costs), ("_gross", {}))
        ]

    def value_share(self, chosen: list[str], gross: bool = False) -> float:
        """The share of the best choice `chosen` saves: net of cost, or on churn alone."""
        found = values(chosen, self.effects_true, self.arr, self.costs)
        best_gross, best_net = best_values(self.effects_true, self.arr, self.costs)
        best = best_gross if gross else best_net
        return found[0 if gross else 1] / best if best > 0 else 0.0


def judged_world(
    seed: int, learner_seed: int, config: UpliftConfig, cache: Path | None, history: bool = False
) -> JudgedWorld:
    """Structure seed `seed`'s world (data seed 1000 + seed), the learner fitted with `config`.

    The learner reads no history beyond its labelled rows, as before `surrogate_fixes`,
    unless `history`: then it reads the fitting accounts' whole history up to `AS_OF`, as
    `training.uplift.protocol.judge_world` fits the shipped settings.
    """
    data = prepare_world(seed, 700, cache=cache)
    fitting, snapshots, _, held_out = split_world(data)
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    read = data.dataset[~data.dataset["account_id"].astype(str).isin(held_out)]
    model = fit_uplift(
        fitting,
        data.touchpoints,
        playbook,
        config,
        seed=seed + learner_seed,
        **({"history": read, "as_of": AS_OF} if history else {}),
    )
    baseline = model.baseline_risk(snapshots)
    return JudgedWorld(
        data,
        fitting,
        snapshots,
        held_out,
        model,
        {a: config.cost(a) for a in ACTION_CODES},
        true_effects(data.truth["action_effects"], snapshots),
        snapshots["arr"].to_numpy(dtype=float),
        baseline,
        product_playbook(snapshots, baseline, model.risk_cuts_),
        [risk_tier(float(p), model.risk_cuts_) for p in baseline],
    )


def print_per_world(rows: list[dict[str, float]]) -> None:
    """Rows of (seed, offset, variant -> net share): per world the mean over learner seeds."""
    table = pd.DataFrame(rows)
    per_world = 100 * table.drop(columns="offset").groupby("seed").mean()
    print(per_world.round(1).to_string())
    print("mean", per_world.mean().round(1).to_dict())
    print("worst", per_world.min().round(1).to_dict())


def each_fit(
    judge: Callable[[int, int, Path | None], dict[str, float]], shares: Sequence[str]
) -> pd.DataFrame:
    """Run `judge(seed, learner_offset, cache)` for each fit the command line asks for.

    `--seeds`, `--learner-seeds` and `--cache` as every paired script takes them; each fit is
    printed as it ends (the `shares` in percent, every other figure as a count). One row per
    fit.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--learner-seeds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for offset in range(0, 1000 * args.learner_seeds, 1000):
            start = time.perf_counter()
            found = judge(seed, offset, args.cache)
            shown = {k: round(100 * float(v), 2) for k, v in found.items() if k in shares}
            counts = {k: int(v) for k, v in found.items() if k not in shown}
            print(seed, offset, shown, counts, f"{time.perf_counter() - start:.0f}s", flush=True)
            rows.append({"seed": seed, "offset": offset, **found})
    return pd.DataFrame(rows)


def rule_holds(shipped: pd.Series, variant: pd.Series, label: str = "net") -> bool:
    """The paired scripts' rule, printed: the variant at most 0.5 points below on average.

    Per-world shares in points; the worst world may fall at most 2 points.
    """
    drop_mean = shipped.mean() - variant.mean()
    drop_worst = shipped.min() - variant.min()
    holds = bool(drop_mean <= 0.5 and drop_worst <= 2.0)
    print(
        f"{label}: mean {drop_mean:+.2f} pts below shipped, worst world {drop_worst:+.2f} pts"
        f" below, largest drop in one world {float((shipped - variant).max()):+.2f}:"
        f" {'holds' if holds else 'fails'}"
    )
    return holds
