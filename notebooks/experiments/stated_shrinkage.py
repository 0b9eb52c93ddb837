"""Issues 11 and 12: the effect stated to the CSM, shrunk toward its action's average.

Since "What an action is stated to do" (docs/results.md) the CSM reads history's effect
(`ActionEffect.history`), not the ranking's. At the recommended actions it is still off by
about 9 pts on average (ARR-weighted), the size of the true effects, and the weekly plan,
which picks the lines with the largest ranking values, quotes about twice what they truly
save: a winner's curse, since the per-account estimates that win are the ones noise lifted.
Shrinking each account's stated log-odds shift toward its action's average is the usual
answer. The ranking and the gate stay as they are: only what is stated changes.

    python notebooks/experiments/stated_shrinkage.py --seeds 1 2 3 4 5 6 --cache data/pcache

Per world (the protocol's: structure seed K, data seed 1000+K, 700 accounts; the shipped
learner, with the fixes history shows, fitted on 70% of the accounts with learner seed 0;
judged on the other 30%'s at-risk snapshots), at each snapshot's recommended action where
it is learned: the ARR-weighted mean absolute error (pts) of the stated effect against the
true effect, and the ratio of the summed stated ARR effect to the true one.

Candidates: the stated log-odds shift d (history's, against the account's baseline) becomes
m + lam x (d - m), lam in {0.75, 0.5, 0.25, 0}, with m the mean of d over the fitting
snapshots the model puts at medium or high risk where the action is learned (what a fitted
model can keep), either per action (`act`) or per action and most likely diagnosed cause
(`cause`, the action's mean where a cause has fewer than 20 such snapshots). lam 1 is the
shipped statement.

The rule, written before any run (28 November 2026): pick on tuning seeds 1-6 the candidate
with the lowest mean over worlds of the ARR-weighted error; run it and the shipped one once
on the untouched seeds 11-18; state it only if its error is lower than the shipped one's on
at least 6 of the 8 worlds and on their mean. If the shipped one is lowest on the tuning
seeds, nothing changes and the untouched seeds are not run.

Measured (28 November 2026), mean over worlds, error in pts (summed ratio):

| stated | tuning 1-6 | untouched 11-18 | lower than shipped (untouched) |
|---|---|---|---|
| shipped (each account's own) | 8.73 (1.03) | 9.09 (1.26) | |
| cause, lam 0 (the pick) | 7.89 (0.90) | 8.57 (1.13) | 7 of 8 |
| cause, lam 0.25 / 0.5 / 0.75 | 7.96 / 8.14 / 8.40 | 8.58 / 8.66 / 8.82 | 7 / 8 / 8 |
| act, lam 0 / .25 / .5 / .75 | 8.49 / 8.3 / 8.3 / 8.46 | 9.52 / 9.32 / 9.12 / 9.01 | 3/4/4/4 |

The pick passed, so it is stated (`stated_shrink: 0`, `training/uplift/stated.py`); the
script fits with `stated_shrink: 1`, so "shipped" stays each account's own statement.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from stated_effects import fitted_world, per_world  # beside this script

from actions.ranking import best_action, next_best_actions
from actions.tiers import risk_tiers
from features.contract import ACTION_CODES
from training.uplift.config import load_uplift_config
from training.uplift.model import LEARNED, ActionEffect, UpliftModel
from training.uplift.policy_eval import product_playbook, true_effects
from training.uplift.stated import StatedMean, pooled_statement

LAMS = (0.75, 0.5, 0.25, 0.0)


def _groups(model: UpliftModel, X: pd.DataFrame) -> np.ndarray:
    causes = model._causes(X)
    return np.zeros(len(X), dtype=int) if causes is None else np.argmax(causes, axis=1)


def shrunk(
    found: ActionEffect,
    baseline: np.ndarray,
    groups: np.ndarray,
    means: StatedMean,
    lam: float,
    by_cause: bool,
) -> np.ndarray:
    """The stated effect with its log-odds shift moved (1 - lam) of the way to the mean."""
    assert found.history is not None
    mean = means if by_cause else StatedMean(means.overall, {})
    return pooled_statement(np.nan_to_num(found.history), baseline, groups, mean, lam)


def stated_pairs(seed: int, cache: Path | None) -> pd.DataFrame:
    """The recommended learned actions of one world: stated effect per candidate, truth, ARR."""
    # each account's own statement, as shipped before: the candidates are pooled from it
    config = load_uplift_config().model_copy(update={"stated_shrink": 1.0})
    costs = {a: config.cost(a) for a in ACTION_CODES}
    data, fitting, snapshots, model = fitted_world(seed, cache, config)
    means = model.stated_means(fitting)  # the means the product keeps (`stated_means_`)
    truth = true_effects(data.truth["action_effects"], snapshots)
    arr = snapshots["arr"].to_numpy(dtype=float)
    baseline = model.baseline_risk(snapshots)
    tiers = list(risk_tiers(baseline, model.risk_cuts_))
    suggestions = product_playbook(snapshots, baseline, model.risk_cuts_)
    learned = model.effects(snapshots)
    groups = _groups(model, snapshots)
    chosen = np.asarray(
        [best_action(r) for r in next_best_actions(learned, arr, costs, suggestions, tiers)]
    )
    frames = []
    for j, action in enumerate(ACTION_CODES):
        found = learned.get(action)
        if found is None or action not in means:
            continue
        ok = (chosen == action) & (found.basis == LEARNED) & ~np.isnan(truth[:, j])
        if not ok.any():
            continue
        assert found.history is not None
        columns = {"s_shipped": found.history[ok]}
        for by_cause in (False, True):
            for lam in LAMS:
                name = f"s_{'cause' if by_cause else 'act'}{lam:g}"
                columns[name] = shrunk(found, baseline, groups, means[action], lam, by_cause)[ok]
        frames.append(
            pd.DataFrame(
                {"seed": seed, "action": action, "true": truth[ok, j], "arr": arr[ok], **columns}
            )
        )
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    frames = []
    for seed in args.seeds:
        frames.append(stated_pairs(seed, args.cache))
        print(per_world(frames[-1]).round(2).to_string(), flush=True)
    table = per_world(pd.concat(frames, ignore_index=True))
    print(table.round(2).to_string())
    errors = table[[c for c in table.columns if c.startswith("error_")]]
    print("mean error", errors.mean().round(2).sort_values().to_dict())
    ratios = table[[c for c in table.columns if c.startswith("ratio_")]]
    print("mean ratio", ratios.mean().round(2).to_dict())
    print("lower than shipped on", (errors.lt(errors["error_s_shipped"], axis=0)).sum().to_dict())


if __name__ == "__main__":
    main()
