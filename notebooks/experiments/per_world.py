"""What the issue-11 experiment scripts print at the end: net share per world, mean, worst."""

from __future__ import annotations

import pandas as pd


def print_per_world(rows: list[dict[str, float]]) -> None:
    """Rows of (seed, offset, variant -> net share): per world the mean over learner seeds."""
    table = pd.DataFrame(rows)
    per_world = 100 * table.drop(columns="offset").groupby("seed").mean()
    print(per_world.round(1).to_string())
    print("mean", per_world.mean().round(1).to_dict())
    print("worst", per_world.min().round(1).to_dict())
