"""Issue 11: learned effects pooled by diagnosed cause against per-account ones (paired).

Does pooling each action's learned effect over accounts with the same diagnosed cause
choose better than the per-account effects? The same fitted models judge both.

    python notebooks/experiments/cause_pooled_effects.py --seeds 1 2 3 4 5 6 \
        --cache data/pcache [--learner-seeds 2] [--lams 0.5 1.0]

Per world (the protocol's: structure seed K, data seed 1000+K, 700 accounts, fitted on 70%,
judged on the other 30%'s at-risk snapshots against the true effects), per learned action:
each account's log-odds shift (after `selection_bias`) becomes lam x the mean shift over the
judged accounts sharing its most likely diagnosed cause + (1 - lam) x its own; the spread is
left as it is, so the gate still asks the effect to pay at the configured confidence.
Prints the net share of the best choice per world for the shipped effects and each lam.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from per_world import judged_world, print_per_world  # beside this script
from scipy.special import logit

from training.uplift.config import load_uplift_config
from training.uplift.model import LEARNED, ActionEffect
from training.uplift.pooled import sigmoid


def pooled_by_cause(
    learned: dict[str, ActionEffect], baseline: np.ndarray, groups: np.ndarray, lam: float
) -> dict[str, ActionEffect]:
    """Each learned effect moved `lam` of the way to its cause group's mean log-odds shift."""
    out: dict[str, ActionEffect] = {}
    base = np.clip(baseline, 1e-6, 1 - 1e-6)
    for action, found in learned.items():
        ok = found.basis == LEARNED
        if not ok.any():
            out[action] = found
            continue
        treated = np.clip(base + np.nan_to_num(found.effect), 1e-6, 1 - 1e-6)
        shift = logit(treated) - logit(base)
        means = pd.Series(shift[ok]).groupby(groups[ok]).mean()
        target = pd.Series(groups).map(means).to_numpy(dtype=float)
        moved = np.where(ok, lam * target + (1 - lam) * shift, shift)
        effect = np.where(ok, sigmoid(logit(base) + moved) - base, found.effect)
        out[action] = found._replace(  # the bounds keep their distance z x std
            effect=effect,
            pessimistic=effect + (found.pessimistic - found.effect),
            pessimistic_suggested=effect + (found.pessimistic_suggested - found.effect),
        )
    return out


def judge(seed: int, learner_seed: int, lams: list[float], cache: Path | None) -> dict[str, float]:
    # the settings of the run recorded in docs/results.md, before `surrogate_fixes`
    config = load_uplift_config().model_copy(update={"surrogate_fixes": False})
    world = judged_world(seed, learner_seed, config, cache)
    learned = world.model.effects(world.snapshots)
    causes = world.model._causes(world.snapshots)
    n = len(world.snapshots)
    groups = np.zeros(n, dtype=int) if causes is None else np.argmax(causes, axis=1)
    baseline, share = world.baseline, world.share

    out = {"shipped": share(learned)}
    for lam in lams:
        out[f"lam{lam:g}"] = share(pooled_by_cause(learned, baseline, groups, lam))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--learner-seeds", type=int, default=2)
    parser.add_argument("--lams", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for offset in range(0, 1000 * args.learner_seeds, 1000):
            found = judge(seed, offset, args.lams, args.cache)
            print(seed, offset, {k: round(100 * v, 1) for k, v in found.items()}, flush=True)
            rows.append({"seed": seed, "offset": offset, **found})
    print_per_world(rows)


if __name__ == "__main__":
    main()
