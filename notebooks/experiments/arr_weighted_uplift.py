"""Issue 11: the pooled uplift learner fitted with rows weighted by ARR, against unweighted.

    python notebooks/experiments/arr_weighted_uplift.py --seeds 1 2 3 4 5 6 \
        --cache data/pcache [--learner-seeds 2] [--alphas 0.5 1.0]

The policy's value is a sum over accounts of ARR x the true churn reduction - cost, so the
effects of the large accounts count most. Here each snapshot's bootstrap weight in both
stages of the pooled learner (`training.uplift.pooled.fit_pooled`: the churn baseline and
the shift regression) is multiplied by (ARR / median ARR)^alpha. Judged as the protocol
judges (`training.uplift.protocol.judge_world`: structure seed K, data seed 1000+K, 700
accounts, fitted on 70%, net share of the best choice on the other 30%'s at-risk
snapshots), with the learner seeds the protocol uses.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from per_world import print_per_world  # beside this script

import training.uplift.model as uplift_model
from training.uplift.protocol import judge_world, prepare_world, split_world


@contextmanager
def arr_weighted(fitting: pd.DataFrame, alpha: float) -> Iterator[None]:
    """Within the block, `fit_pooled` multiplies its weights by (ARR / median)^alpha.

    The rows `UpliftModel.fit` sees are `fitting`'s rows with a known churn label, in order
    (`fit_uplift`), so their ARR lines up with the weights it passes.
    """
    arr = fitting.loc[fitting["churn"].notna(), "arr"].to_numpy(dtype=float)
    factor = np.power(np.clip(arr, 1.0, None) / np.median(arr), alpha)
    original = uplift_model.fit_pooled

    def weighted(X: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        args = list(args)
        assert len(factor) == len(X), "the rows are not the labelled fitting rows"
        args[4] = args[4] * factor  # (X, T, A, y, groups, weights, ...): weights
        return original(X, *args, **kwargs)

    uplift_model.fit_pooled = weighted
    try:
        yield
    finally:
        uplift_model.fit_pooled = original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--learner-seeds", type=int, default=2)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--no-shipped", action="store_true", help="skip the unweighted fits")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        data = prepare_world(seed, 700, cache=args.cache)
        fitting = split_world(data)[0]
        for offset in range(0, 1000 * args.learner_seeds, 1000):
            found: dict[str, float] = {}
            if not args.no_shipped:
                found["shipped"] = judge_world(data, learner_seed=offset).net["uplift"]
            for alpha in args.alphas:
                with arr_weighted(fitting, alpha):
                    score = judge_world(data, learner_seed=offset)
                found[f"alpha{alpha:g}"] = score.net["uplift"]
            print(seed, offset, {k: round(100 * v, 1) for k, v in found.items()}, flush=True)
            rows.append({"seed": seed, "offset": offset, **found})
    print_per_world(rows)


if __name__ == "__main__":
    main()
