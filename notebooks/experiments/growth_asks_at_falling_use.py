"""Issue 11 (tenth new-user audit): no growth ask while use collapses or NPS says detractor.

The tenth audit's week sent growth asks (`actions.ranking.GROWTH_ASKS`: upsell offers,
referral invitations, the reference programme) to low-risk accounts whose product use had
fallen by half and to NPS detractors: only three pain facts withhold them (`PAIN_FACTS`: an
unreplaced key user, an urgent ticket open, first value overdue).

Variant: two more pain facts (a CS judgment, not fitted): `events_change_30d <= -1/3`
(events in the last 30 days at most half of the 30 before, on the symmetric change scale)
and `nps_latest <= 6` (the latest answer a detractor's). Nothing else moves: the same fitted
model's effects are ranked twice by `next_best_actions`, with the shipped pains and with the
variant's.

Rule, written before any run (29 November 2026, seventh session):
- tuning structure seeds 1-6, two learner seeds each, the shipped settings: the variant is
  kept only if its net mean share of the best choice is at most 0.5 points below the
  shipped ranking's and its worst world at most 2 points below;
- only then, once, fresh structure seeds 125-132 (never used), two learner seeds: shipped
  only if the same holds there. Reported either way in docs/results.md.

    python notebooks/experiments/growth_asks_at_falling_use.py --seeds 1 2 3 4 5 6

Prints per world the net share of each arm, how many judged at-risk snapshots the new facts
flag beyond the shipped ones (`new_pain`), and how many recommendations changed.

The rule held on both sets and the facts ship since 29 November 2026 (`PAIN_FACTS`); run
again now, the shipped pains hold them too and both arms are the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from per_world import each_fit, judged_world, print_per_world, rule_holds  # beside this script

from actions.ranking import best_action, next_best_actions, pain_flags
from training.uplift.policy_eval import best_values, values

NEW_FACTS = {"events_change_30d": -1.0 / 3.0, "nps_latest": 6.0}  # at most


def new_pains(frame: pd.DataFrame) -> np.ndarray:
    """The variant's extra facts: each one's value at most its bound (unknown: absent)."""
    hit = np.zeros(len(frame), dtype=bool)
    for name, most in NEW_FACTS.items():
        if name in frame.columns:
            hit |= np.nan_to_num(frame[name].to_numpy(dtype=float), nan=np.inf) <= most
    return hit


def judge(seed: int, learner_seed: int, cache: Path | None) -> dict[str, float]:
    from training.uplift.config import load_uplift_config

    world = judged_world(seed, learner_seed, load_uplift_config(), cache, history=True)
    learned = world.model.effects(world.snapshots)
    shipped = np.asarray(pain_flags(world.snapshots))
    variant = shipped | new_pains(world.snapshots)

    def picks(pains: np.ndarray) -> list[str]:
        ranked = next_best_actions(
            learned, world.arr, world.costs, world.suggestions, world.tiers, pains.tolist()
        )
        return [best_action(r) for r in ranked]

    def share(chosen: list[str]) -> float:
        _, net = values(chosen, world.effects_true, world.arr, world.costs)
        _, best = best_values(world.effects_true, world.arr, world.costs)
        return net / best if best > 0 else 0.0

    before, after = picks(shipped), picks(variant)
    return {
        "shipped": share(before),
        "variant": share(after),
        "snapshots": float(len(shipped)),
        "new_pain": float((variant & ~shipped).sum()),
        "changed": float(sum(a != b for a, b in zip(before, after, strict=True))),
    }


def main() -> None:
    table = each_fit(judge, ["shipped", "variant"])
    print_per_world(table[["seed", "offset", "shipped", "variant"]].to_dict("records"))
    per_world = table.groupby("seed")
    print(per_world[["snapshots", "new_pain", "changed"]].mean().to_string())
    net = 100 * per_world[["shipped", "variant"]].mean()
    print("kept" if rule_holds(net["shipped"], net["variant"]) else "not kept")


if __name__ == "__main__":
    main()
