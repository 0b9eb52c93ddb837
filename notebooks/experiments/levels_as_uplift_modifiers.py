"""Experiment (November 2026, not kept): cause levels as the uplift learner's cause modifiers.

The record is in docs/results.md ("Clearing the CS team's hidden read of risk", the last
attempt). The learner's cause modifiers are the shipped cause reader's chances that each cause
is the dominant one; here they are replaced by (`levels`) or joined with (`both`) each cause's
level, from the regressors of `structural_cause_reader.py` fitted on the reader's tuning worlds.
`shipped` refits the shipped settings in the same harness (it gave the record's 63.4%).

    python notebooks/experiments/levels_as_uplift_modifiers.py --worlds DIR --fit 101-124 \
        --variant levels --seed 1 --learner-seed 0

DIR/K is a world of `retain simulate --accounts 500 --months 18 --structure-seed K --seed
1000+K`; the protocol's worlds come from `data/pcache` (`training.uplift.protocol`). Prints
the learned policy's net and gross share of the best choice on that world.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from structural_cause_reader import NAMES, fit_levels, levels, seeds, snapshots

import training.uplift.model as uplift_model
from training.diagnosis import CauseReader, load_reader
from training.uplift.config import load_uplift_config
from training.uplift.protocol import judge_world, prepare_world


class LevelModifiers:
    """The shipped reader, but `cause_probabilities` gives the levels (or both)."""

    def __init__(self, base: CauseReader, boosters: list[Any], both: bool) -> None:
        self.base, self.boosters, self.both = base, boosters, both
        self.feature_names, self.causes = base.feature_names, base.causes

    def matrix(self, features: Any, names: Any) -> np.ndarray:
        return self.base.matrix(features, names)

    def cause_probabilities(self, X: np.ndarray) -> np.ndarray:
        found = levels(self.boosters, X)
        return np.hstack([self.base.cause_probabilities(X), found]) if self.both else found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=Path, required=True)
    parser.add_argument("--fit", default="101-124", help="reader tuning seeds lo-hi")
    parser.add_argument("--variant", choices=("shipped", "levels", "both"), required=True)
    parser.add_argument("--seed", type=int, required=True, help="the protocol's structure seed")
    parser.add_argument("--learner-seed", type=int, default=0)
    args = parser.parse_args()
    shipped = load_reader()
    assert shipped is not None and list(shipped.feature_names) == NAMES
    if args.variant != "shipped":
        frames = [snapshots(args.worlds / str(k)) for k in seeds(args.fit)]
        reader = LevelModifiers(
            shipped, fit_levels(pd.concat(frames, ignore_index=True)), args.variant == "both"
        )
        uplift_model.load_reader = lambda *_args, **_kwargs: reader  # type: ignore[assignment]
    data = prepare_world(args.seed, 700, cache=Path("data/pcache"))
    score = judge_world(data, load_uplift_config(), learner_seed=args.learner_seed)
    print(
        f"{args.variant} seed {args.seed} learner seed {args.learner_seed}:"
        f" net {score.net['uplift']:.4f}, gross {score.gross['uplift']:.4f}"
    )


if __name__ == "__main__":
    main()
