"""Issues 11 and 12 (tenth new-user audit): no churn credit for growth asks (paired).

The audit (an expansion-led company) got a weekly plan of 219 lines, 152 of them referral
invitations, ranked on a learned churn effect of about -2.5 points ("learned from the team's
history: churn -2.5 pts"), spurious in that world. The playbook already assumes a growth ask
cuts no churn (README "The weekly plan"), but a learned growth ask keeps the churn effect
history shows, and CS teams make these asks to healthy-looking accounts, so history makes them
look protective. In the simulator's structure family (`simulator/structure.py`)
referral_invite and benchmark_program never reduce churn and upsell_offer at most by 0.1 on
healthy accounts.

Variant: for each action in `actions.ranking.GROWTH_ASKS`, its learned churn effect that
ranks (`ActionEffect.effect`) and its bounds (`pessimistic`, `pessimistic_suggested`, what the
confidence gate reads) are clipped at 0, so it never claims to cut churn (harm kept); its
expansion gain (`expansion`) is kept as is. Nothing else moves.

Rule, written before any run (29 November 2026, sixth session):
- tuning structure seeds 1-6, two learner seeds each (`--learner-seeds 2`), the shipped
  settings, the same fitted models judging both: the variant is kept only if its net mean
  share of the best choice is at most 0.5 points below the shipped ranking's and its worst
  world at most 2 points below;
- only if that holds: once, fresh structure seeds 109-116 (never used for this protocol), two
  learner seeds, the same test. Both sets reported either way, per world (net and without
  costs), with how many recommendations the variant changed per fit.

    python notebooks/experiments/growth_asks_no_churn_credit.py --seeds 1 2 3 4 5 6 \
        --cache data/pcache [--learner-seeds 2]

Per world (the protocol's: structure seed K, data seed 1000+K, 700 accounts, fitted on 70%
of the accounts with the shipped settings exactly as `training.uplift.protocol.judge_world`
fits them, the history of the fitting accounts read up to `AS_OF`; judged on the other
30%'s at-risk snapshots against the true effects), the same fitted model's effects ranked
twice by `actions.ranking.next_best_actions` with each snapshot's risk tier and pain facts
as shipped (`pain_flags`; a snapshot in pain is given a tier of `NO_PITCH_TIERS`, which
`rank` reads exactly as `pain`): `shipped` with the learned effects, `variant` with the
growth asks' churn effects and bounds clipped at 0. Prints per world the net share of the
best choice, the share without costs (`_gross`: ranked and valued without costs, as the
protocol does), how many net recommendations the variant changed (`changed`; `changed_gross`
without costs) and how many net picks were growth asks under each (`growth_shipped`,
`growth_variant`).

The rule held on both sets (net mean / worst world, shipped -> variant: tuning 1-6 66.68 /
41.90% -> 66.93 / 43.41%, fresh 109-116 72.35 / 28.65% -> 72.36 / 28.65%; it changed 0-13
of 328-1,406 recommendations in a fit, none in 21 of 28 fits), and it ships since 29
November 2026 (`actions.ranking.no_churn_credit`), which also clips the stated effect
(`history`: the weekly plan is chosen at it), which the protocol does not read
(docs/results.md, "Growth asks at risk").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from per_world import (  # beside this script
    JudgedWorld,
    each_fit,
    judged_world,
    print_per_world,
    rule_holds,
)

from actions.ranking import GROWTH_ASKS, NO_PITCH_TIERS, best_action, next_best_actions, pain_flags
from training.uplift.config import load_uplift_config
from training.uplift.model import ActionEffect


def _no_cut(values: np.ndarray | None) -> np.ndarray | None:
    """Churn effects clipped at 0 (NaN kept): a cut becomes 0, harm is kept."""
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    return np.where(values < 0, 0.0, values)


def no_churn_credit(learned: dict[str, ActionEffect]) -> dict[str, ActionEffect]:
    """The variant: growth asks' ranking effect and bounds never claim to cut churn."""
    return {
        action: (
            found._replace(
                effect=_no_cut(found.effect),
                pessimistic=_no_cut(found.pessimistic),
                pessimistic_suggested=_no_cut(found.pessimistic_suggested),
            )
            if action in GROWTH_ASKS
            else found
        )
        for action, found in learned.items()
    }


def judge(seed: int, learner_seed: int, cache: Path | None) -> dict[str, float]:
    world = judged_world(seed, learner_seed, load_uplift_config(), cache, history=True)
    pain = np.asarray(pain_flags(world.snapshots))  # shipped: no growth ask in pain
    tiers = [
        NO_PITCH_TIERS[0] if p and t not in NO_PITCH_TIERS else t
        for p, t in zip(pain, world.tiers, strict=True)
    ]
    shipped = replace(world, tiers=tiers)
    learned = world.model.effects(world.snapshots)
    clipped = no_churn_credit(learned)

    def picks(judged: JudgedWorld, effects: dict[str, ActionEffect], gross: bool) -> list[str]:
        prices = {} if gross else judged.costs
        ranked = next_best_actions(effects, judged.arr, prices, judged.suggestions, judged.tiers)
        return [best_action(r) for r in ranked]

    net_a, net_b = picks(shipped, learned, False), picks(shipped, clipped, False)
    gross_a, gross_b = picks(shipped, learned, True), picks(shipped, clipped, True)
    return {
        "shipped": shipped.share(learned),
        "variant": shipped.share(clipped),
        "shipped_gross": shipped.share(learned, gross=True),
        "variant_gross": shipped.share(clipped, gross=True),
        "snapshots": float(len(pain)),
        "changed": float(sum(a != b for a, b in zip(net_a, net_b, strict=True))),
        "changed_gross": float(sum(a != b for a, b in zip(gross_a, gross_b, strict=True))),
        "growth_shipped": float(sum(a in GROWTH_ASKS for a in net_a)),
        "growth_variant": float(sum(a in GROWTH_ASKS for a in net_b)),
    }


def main() -> None:
    shares = ["shipped", "variant", "shipped_gross", "variant_gross"]
    table = each_fit(judge, shares)
    print_per_world(table[["seed", "offset", *shares]].to_dict("records"))
    per_world = table.groupby("seed")
    counts = ["snapshots", "changed", "changed_gross", "growth_shipped", "growth_variant"]
    print(per_world[counts].mean().to_string())
    net = 100 * per_world[["shipped", "variant"]].mean()
    gross = 100 * per_world[["shipped_gross", "variant_gross"]].mean()
    print("per world, unrounded (net, then without costs):")
    print(pd.concat([net, gross], axis=1).to_string())
    print("net mean", net.mean().to_dict(), "worst", net.min().to_dict())
    print("gross mean", gross.mean().to_dict(), "worst", gross.min().to_dict())
    print("kept" if rule_holds(net["shipped"], net["variant"]) else "not kept")


if __name__ == "__main__":
    main()
