"""Issue 11 (eighth new-user audit): no growth ask while a pain fact is present (paired).

The audit's CSM read "The account's admin left on 3 Mar and nobody has taken their place"
beside a recommended referral invite: growth asks (`actions.ranking.GROWTH_ASKS`) are
withheld at high and medium churn risk only, and the cause rules fire only there, so a
low-risk account with an unreplaced key user or urgent tickets open is asked for growth.

Variant: besides `NO_PITCH_TIERS`, no growth ask for a snapshot with a pain fact, at any
risk tier: `key_users_lost_unreplaced_90d >= 1`, `open_tickets_urgent >= 1` or
`first_value_overdue == 1` (the facts of the playbook's rules "key user left and not
replaced", "urgent support issues open" and "first value overdue"). Nothing else moves.

Rule, written before any run (29 November 2026):
- tuning structure seeds 1-6, two learner seeds each, the shipped settings, the same fitted
  models judging both: the variant is kept only if its net mean share of the best choice is
  at most 0.5 points below the shipped ranking's and its worst world at most 2 points below;
- only then, once, fresh structure seeds 47-50 and 73-76 (never used), two learner seeds:
  shipped only if the same holds there. Reported either way in docs/results.md.

    python notebooks/experiments/growth_asks_at_pain.py --seeds 1 2 3 4 5 6 \
        --cache data/pcache [--learner-seeds 2]

Per world (the protocol's: structure seed K, data seed 1000+K, 700 accounts, fitted on 70%
of the accounts with the shipped settings exactly as `training.uplift.protocol.judge_world`
fits them, the history of the fitting accounts read for `surrogate_fixes` up to `AS_OF`;
judged on the other 30%'s at-risk snapshots against the true effects), the same fitted
model's effects ranked twice by `actions.ranking.next_best_actions`: `shipped` with each
snapshot's risk tier, `variant` with a snapshot that shows a pain fact given a tier of
`NO_PITCH_TIERS` instead. In `rank` (and so in `next_best_actions`) the tier is read only
to withhold `GROWTH_ASKS` from the suggestions and the learned effects; the playbook's
suggestions are fired beforehand with the true tier (`product_playbook`), so nothing else
moves. Prints per world the net share of the best choice, the share without costs
(`_gross`: ranked and valued without costs, as the protocol does), how many judged
snapshots show a pain fact (`pain`; `pain_low`: of them at low risk, the only ones the
variant can change) and how many net recommendations the variant changed (`changed`).

The rule held on both sets and the variant ships since 29 November 2026 (`pains` in
`next_best_actions`, `in_pain` in serving); `shipped` here is the ranking before it
(docs/results.md, "Growth asks at risk").
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from per_world import JudgedWorld, judged_world, print_per_world  # beside this script

from actions.ranking import NO_PITCH_TIERS, best_action, next_best_actions, pain_flags
from training.uplift.config import load_uplift_config


def judge(seed: int, learner_seed: int, cache: Path | None) -> dict[str, float]:
    world = judged_world(seed, learner_seed, load_uplift_config(), cache, history=True)
    pain = np.asarray(pain_flags(world.snapshots))  # the rule's facts, as shipped since
    tiers = [
        NO_PITCH_TIERS[0] if p and t not in NO_PITCH_TIERS else t
        for p, t in zip(pain, world.tiers, strict=True)
    ]
    variant = replace(world, tiers=tiers)
    learned = world.model.effects(world.snapshots)

    def picks(judged: JudgedWorld) -> list[str]:
        ranked = next_best_actions(
            learned, judged.arr, judged.costs, judged.suggestions, judged.tiers
        )
        return [best_action(r) for r in ranked]

    low = np.asarray(world.tiers) == "low"
    return {
        "shipped": world.share(learned),
        "variant": variant.share(learned),
        "shipped_gross": world.share(learned, gross=True),
        "variant_gross": variant.share(learned, gross=True),
        "snapshots": float(len(pain)),
        "pain": float(pain.sum()),
        "pain_low": float((pain & low).sum()),
        "changed": float(sum(a != b for a, b in zip(picks(world), picks(variant), strict=True))),
    }


def main() -> None:
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
            shown = {
                k: round(100 * float(v), 1)
                for k, v in found.items()
                if "shipped" in k or "variant" in k
            }
            counts = {k: int(v) for k, v in found.items() if k not in shown}
            print(seed, offset, shown, counts, f"{time.perf_counter() - start:.0f}s", flush=True)
            rows.append({"seed": seed, "offset": offset, **found})
    table = pd.DataFrame(rows)
    shares = ["shipped", "variant", "shipped_gross", "variant_gross"]
    print_per_world(table[["seed", "offset", *shares]].to_dict("records"))
    per_world = table.groupby("seed")
    print(per_world[["snapshots", "pain", "pain_low", "changed"]].mean().to_string())
    net = 100 * per_world[["shipped", "variant"]].mean()
    drop_mean = net["shipped"].mean() - net["variant"].mean()
    drop_worst = net["shipped"].min() - net["variant"].min()
    kept = drop_mean <= 0.5 and drop_worst <= 2.0
    print("largest drop in one world", round(float((net["shipped"] - net["variant"]).max()), 2))
    print(
        f"net mean {drop_mean:+.2f} pts below shipped, worst world {drop_worst:+.2f} pts below:"
        f" {'kept' if kept else 'not kept'}"
    )


if __name__ == "__main__":
    main()
