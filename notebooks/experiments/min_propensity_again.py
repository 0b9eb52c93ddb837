"""Issue 11: learn an action's effect for accounts CSMs rarely gave it, again (30 November 2026).

The learner states an effect only where the chance that CSMs did the action lies in
[`min_propensity`, 1 - `min_propensity`] (0.005); elsewhere the action is a playbook
suggestion, ranked after every learned action that pays. On structure seed 146 (fresh set
141-148, the learned policy's worst world there, 45.5%) an executive call is the best action
for most at-risk snapshots (true effect -22 pts on average) and is learned (-32 pts) for 279
of 1,061 of them; the rest read "CSMs almost never did exec_sponsor_call for accounts like
this" (true effect there -21 pts), and health checks, learned for 1,052, take their place.
At prediction time on the same fit (learner seed 0) the net share was 47.5% at 0.005, 52.2%
at 0.001 and 56.2% at 0. The propensities are the in-sample LightGBM chances
(`UpliftModel.propensity_`), which run to the extremes for rare actions, while the pooled
learner's shift extrapolates smoothly (a ridge log-odds shift). 0.001 and 0 were tried long
ago on tuning seeds 1-6 (63.6% and 62.4% against 63.4%, worst 39.1% and 38.2% against 40.6%)
before `surrogate_fixes`, `playbook_confidence`, the renewal rule and `abstain_auc`; this
runs them again on today's settings. Seed 146 informed the question, so it is not judged.

Variants, each on the same fitted model (the threshold is read at prediction time):
`shipped` (0.005), `p001` (0.001), `p0` (0: every account learned).

Rule, written before any run:
- tuning structure seeds 1-6, two learner seeds each: of `p001` and `p0`, the one with the
  higher net mean is the candidate; kept only if `per_world.rule_holds` holds on net (at
  most 0.5 points below shipped on average, its worst world at most 2 below);
- only then, once, fresh structure seeds 157-164 (never used), two learner seeds: shipped
  (as `min_propensity` in `uplift.yaml`) only if there its net mean is above shipped's, its
  worst world at most 2 points below, and its mean without costs not below shipped's.
  Reported either way in docs/results.md.

`main` names a candidate from the seeds it is given, so on the fresh seeds its "candidate"
line is that set's higher mean (0.001 there); the rule's candidate is the tuning seeds' (0),
and docs/results.md judges that one.

    python notebooks/experiments/min_propensity_again.py --seeds 1 2 3 4 5 6 --cache data/pcache
"""

from __future__ import annotations

from pathlib import Path

from per_world import each_fit, judged_world, print_per_world, rule_holds  # beside this script

from actions.ranking import best_action
from training.uplift.config import load_uplift_config

VARIANTS = {"shipped": 0.005, "p001": 0.001, "p0": 0.0}
SHARES = (*VARIANTS, *(f"{name}_gross" for name in VARIANTS))


def judge(seed: int, learner_seed: int, cache: Path | None) -> dict[str, float]:
    world = judged_world(seed, learner_seed, load_uplift_config(), cache, history=True)
    model = world.model
    found: dict[str, float] = {}
    for name, threshold in VARIANTS.items():
        model.config = model.config.model_copy(update={"min_propensity": threshold})
        effects = model.effects(world.snapshots)
        for suffix, ranked in world.rankings(effects):
            found[name + suffix] = world.value_share([best_action(r) for r in ranked], bool(suffix))
        found[f"{name}_learned_rows"] = float(
            sum(int((e.basis == "learned").sum()) for e in effects.values())
        )
    return found


def main() -> None:
    table = each_fit(judge, SHARES)
    print_per_world(table[["seed", "offset", *SHARES]].to_dict("records"))
    rows = [f"{name}_learned_rows" for name in VARIANTS]
    print(table.groupby("seed")[rows].mean().round(0).to_string())
    net = 100 * table.groupby("seed")[list(VARIANTS)].mean()
    gross = 100 * table.groupby("seed")[[f"{name}_gross" for name in VARIANTS]].mean()
    candidate = "p001" if net["p001"].mean() >= net["p0"].mean() else "p0"
    print("candidate (higher net mean):", candidate)
    holds = rule_holds(net["shipped"], net[candidate])
    above = float(net[candidate].mean() - net["shipped"].mean())
    worst = float(net["shipped"].min() - net[candidate].min())
    free = float(gross[f"{candidate}_gross"].mean() - gross["shipped_gross"].mean())
    fresh = above > 0 and worst <= 2.0 and free >= 0
    print(
        f"{candidate}: paired rule {'holds' if holds else 'fails'}; net mean {above:+.2f} pts"
        f" against shipped, worst world {worst:+.2f} pts below, without costs {free:+.2f}"
        f" (the fresh seeds' rule: {'holds' if fresh else 'fails'})"
    )


if __name__ == "__main__":
    main()
