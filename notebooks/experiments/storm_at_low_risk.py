"""Issue 11 (ninth new-user audit): urgent tickets get a support escalation at any risk (paired).

The ninth audit's storms (3-8 urgent or high bug tickets open for weeks) were often scored
at low churn risk, and both playbook rules for `support_escalation` fire at high and medium
risk only: 12 of the 27 accounts with a storm open had no escalation listed. An urgent
ticket open is the support team's emergency whatever the churn score says.

Variant: the shipped playbook with the rule "urgent support issues open"
(`open_tickets_urgent >= 1`) firing at every risk tier; "support issues dragging on" keeps
its gate. The uplift learner reads rules only for their conditions (its symptoms), never their
risk gate, so the same fitted model serves both arms; only the playbook's suggestions move.

Rule, written before any run (29 November 2026, seventh session):
- tuning structure seeds 1-6, two learner seeds each, the shipped settings, the same fitted
  models judging both arms: the variant is kept only if, for the learned policy and for
  the playbook alone each, its net mean share of the best choice is at most 0.5 points below
  the shipped playbook's arm and its worst world at most 2 points below;
- only then, once, fresh structure seeds 117-124 (never used), two learner seeds: shipped
  only if the same holds there. Reported either way in docs/results.md.

    python notebooks/experiments/storm_at_low_risk.py --seeds 1 2 3 4 5 6 \
        --cache data/pcache [--learner-seeds 2]

Per world (`per_world.judged_world`, as the protocol fits and judges it) prints the net share
of the best choice of the learned policy (`learned_*`) and of the playbook alone
(`playbook_*`, its first suggestion or none), how many judged at-risk snapshots have an
urgent ticket open (`urgent`), of them at low model risk (`urgent_low`, the only ones the
variant can change) and how many recommendations of each policy the variant changed.

The rule held on both sets and the variant ships since 29 November 2026
(`actions/playbook.yaml`); `shipped` here is the playbook before it (docs/results.md, the
ninth audit's section). Run again now, both arms are the same.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from per_world import (  # beside this script
    JudgedWorld,
    each_fit,
    judged_world,
    print_per_world,
    rule_holds,
)

from actions.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook
from actions.ranking import NO_ACTION, best_action, next_best_actions, pain_flags
from actions.tiers import RISK_TIERS
from training.uplift.config import load_uplift_config
from training.uplift.policy_eval import best_values, product_playbook, values

RULE = "urgent support issues open"


def variant_playbook() -> Playbook:
    """The shipped playbook with `RULE` firing at every risk tier."""
    shipped = load_playbook(DEFAULT_PLAYBOOK)
    rules = tuple(
        r.model_copy(update={"risk": tuple(RISK_TIERS)}) if r.name == RULE else r
        for r in shipped.rules
    )
    assert sum(r.name == RULE for r in shipped.rules) == 1
    return shipped.model_copy(update={"rules": rules})


def playbook_share(world: JudgedWorld) -> tuple[float, list[str]]:
    """The playbook alone: each account's first suggestion or none, net share of the best."""
    chosen = [s[0].action if s else NO_ACTION for s in world.suggestions]
    _, net = values(chosen, world.effects_true, world.arr, world.costs)
    _, best = best_values(world.effects_true, world.arr, world.costs)
    return (net / best if best > 0 else 0.0), chosen


def judge(seed: int, learner_seed: int, cache: Path | None) -> dict[str, float]:
    world = judged_world(seed, learner_seed, load_uplift_config(), cache, history=True)
    suggestions = product_playbook(
        world.snapshots, world.baseline, world.model.risk_cuts_, variant_playbook()
    )
    variant = replace(world, suggestions=suggestions)
    learned = world.model.effects(world.snapshots)
    pains = pain_flags(world.snapshots)

    def picks(judged: JudgedWorld) -> list[str]:
        ranked = next_best_actions(
            learned, judged.arr, judged.costs, judged.suggestions, judged.tiers, pains
        )
        return [best_action(r) for r in ranked]

    def learned_share(judged: JudgedWorld) -> float:
        found = values(picks(judged), judged.effects_true, judged.arr, judged.costs)
        _, best = best_values(judged.effects_true, judged.arr, judged.costs)
        return found[1] / best if best > 0 else 0.0

    shipped_playbook, shipped_chosen = playbook_share(world)
    variant_playbook_share, variant_chosen = playbook_share(variant)
    urgent = world.snapshots["open_tickets_urgent"].fillna(0).to_numpy(dtype=float) >= 1
    low = np.asarray(world.tiers) == "low"
    return {
        "learned_shipped": learned_share(world),
        "learned_variant": learned_share(variant),
        "playbook_shipped": shipped_playbook,
        "playbook_variant": variant_playbook_share,
        "snapshots": float(len(urgent)),
        "urgent": float(urgent.sum()),
        "urgent_low": float((urgent & low).sum()),
        "learned_changed": float(
            sum(a != b for a, b in zip(picks(world), picks(variant), strict=True))
        ),
        "playbook_changed": float(
            sum(a != b for a, b in zip(shipped_chosen, variant_chosen, strict=True))
        ),
    }


def main() -> None:
    arms = ["learned_shipped", "learned_variant", "playbook_shipped", "playbook_variant"]
    table = each_fit(judge, arms)
    print_per_world(table[["seed", "offset", *arms]].to_dict("records"))
    per_world = table.groupby("seed")
    counts = ["snapshots", "urgent", "urgent_low", "learned_changed", "playbook_changed"]
    print(per_world[counts].mean().to_string())
    net = 100 * per_world[arms].mean()
    kept = [
        rule_holds(net[f"{policy}_shipped"], net[f"{policy}_variant"], policy)
        for policy in ("learned", "playbook")
    ]
    print("kept" if all(kept) else "not kept")


if __name__ == "__main__":
    main()
