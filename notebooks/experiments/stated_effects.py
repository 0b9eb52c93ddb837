"""Issue 11 and 12: which effect to state to the CSM, when the ranking's overstates it.

The learned effects rank with `selection_bias` (1.2 churn log-odds) taken out: CSMs act on
accounts riskier than the features show, and taking it out picks better actions
(uplift.yaml). But the effects a CSM reads (`expected_effect`, `expected_saved_arr`) and
the weekly plan's figure were those same effects, and at the recommended actions they were
about twice the truth. Should what is *stated* assume a smaller hidden selection `s`, the
ranking and the gate staying at 1.2?

    python notebooks/experiments/stated_effects.py --seeds 1 2 3 4 5 6 --cache data/pcache

Per world (the protocol's: structure seed K, data seed 1000+K, 700 accounts; the shipped
learner, with the fixes history shows, fitted on 70% of the accounts with learner seed 0;
judged on the other 30%'s at-risk snapshots), at each snapshot's recommended action where
it is learned: the ARR-weighted mean absolute error (pts) of the effect stated at `s`
against the true effect, and the ratio of the summed stated ARR effect to the true one.

The rule, written before any untouched world was run (November 2026): candidates s in
{0, 0.3, 0.6, 0.9, 1.2 (shipped)}; pick on tuning seeds 1-6 the s with the lowest mean over
worlds of the ARR-weighted error; run it and 1.2 once on the untouched seeds 11-18; state
it (not rank by it) only if its error is lower than 1.2's on at least 6 of the 8 worlds and
on their mean.

Measured (November 2026), mean over worlds, error in pts (summed ratio):

| s | tuning 1-6 | untouched 11-18 |
|---|---|---|
| 0 (history alone) | 8.7 (1.03) | 9.1 (1.26) |
| 0.3 | 9.9 (1.52) | 10.8 (1.56) |
| 0.6 | 11.9 (1.94) | 13.0 (1.83) |
| 0.9 | 14.1 (2.32) | 15.2 (2.05) |
| 1.2 (shipped ranking) | 16.2 (2.65) | 17.2 (2.25) |

s = 0 was picked and was lower on all 8 untouched worlds, so the effects stated are
history's own (`ActionEffect.history`, `RankedAction.expected_effect`); the ranking keeps
1.2 (`ranking_effect`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from actions.ranking import best_action, next_best_actions
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.model import LEARNED, UpliftModel, fit_uplift
from training.uplift.policy_eval import product_playbook, true_effects
from training.uplift.protocol import AS_OF, WorldData, prepare_world, split_world

BIASES = (0.0, 0.3, 0.6, 0.9)


def fitted_world(
    seed: int, cache: Path | None, config: UpliftConfig | None = None
) -> tuple[WorldData, pd.DataFrame, pd.DataFrame, UpliftModel]:
    """(world, fitting rows, judged snapshots, the learner fitted with learner seed 0).

    `config`: the learner's settings (default the shipped ones).
    """
    data = prepare_world(seed, 700, cache=cache)
    fitting, snapshots, _, held_out = split_world(data)
    history = data.dataset[~data.dataset["account_id"].astype(str).isin(held_out)]
    model = fit_uplift(
        fitting,
        data.touchpoints,
        load_playbook(DEFAULT_PLAYBOOK),
        config or load_uplift_config(),
        seed=seed,
        history=history,
        as_of=AS_OF,
    )
    return data, fitting, snapshots, model


def stated_pairs(seed: int, cache: Path | None) -> pd.DataFrame:
    """The recommended learned actions of one world: stated effect per s, true effect, ARR."""
    config = load_uplift_config()
    costs = {a: config.cost(a) for a in ACTION_CODES}
    data, _, snapshots, model = fitted_world(seed, cache)
    truth = true_effects(data.truth["action_effects"], snapshots)
    arr = snapshots["arr"].to_numpy(dtype=float)
    baseline = model.baseline_risk(snapshots)
    tiers = [risk_tier(float(p), model.risk_cuts_) for p in baseline]
    suggestions = product_playbook(snapshots, baseline, model.risk_cuts_)
    ranking = model.effects(snapshots)
    stated = {}
    for bias in BIASES:
        model.config = config.model_copy(update={"selection_bias": bias})
        stated[bias] = model.effects(snapshots)
    model.config = config
    chosen = np.asarray(
        [best_action(r) for r in next_best_actions(ranking, arr, costs, suggestions, tiers)]
    )
    frames = []
    for j, action in enumerate(ACTION_CODES):
        if action not in ranking:
            continue
        ok = (chosen == action) & (ranking[action].basis == LEARNED) & ~np.isnan(truth[:, j])
        frames.append(
            pd.DataFrame(
                {
                    "seed": seed,
                    "action": action,
                    "true": truth[ok, j],
                    "arr": arr[ok],
                    "s1.2": ranking[action].effect[ok],
                    **{f"s{b:g}": stated[b][action].effect[ok] for b in BIASES},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def per_world(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per world and s: ARR-weighted mean absolute error (pts) and summed ratio to the truth."""
    columns = [c for c in pairs.columns if c.startswith("s") and c != "seed"]
    rows = []
    for seed, group in pairs.groupby("seed"):
        weight = group["arr"] / group["arr"].sum()
        true = float((group["true"] * group["arr"]).sum())
        row: dict[str, float] = {"seed": float(seed)}  # type: ignore[arg-type]
        for c in columns:
            row[f"error_{c}"] = float((weight * (group[c] - group["true"]).abs()).sum() * 100)
            row[f"ratio_{c}"] = float((group[c] * group["arr"]).sum() / true)
        rows.append(row)
    return pd.DataFrame(rows).set_index("seed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    pairs = pd.concat([stated_pairs(seed, args.cache) for seed in args.seeds], ignore_index=True)
    table = per_world(pairs)
    print(table.round(2).to_string())
    print("mean", table.mean().round(2).to_dict())


if __name__ == "__main__":
    main()
