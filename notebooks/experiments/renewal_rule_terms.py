"""Issue 11 (eighth new-user audit): "renewal close and at risk" only on terms of 6 months or more.

The audit's book was 80% monthly terms: the playbook's rule "renewal close and at risk"
(`days_to_renewal <= 120`, high risk -> business review, "The renewal decision is 12 days
away ...") fired for 91% of its high-risk accounts, since a monthly account's renewal is
always less than a month away. Variant: the same rule with `term_length_days >= 180` added;
nothing else in `actions/playbook.yaml` moves. The playbook is read by the learner too (an
action's symptoms), so each variant is fitted on its own; `judge_world` judges both as the
protocol reports.

Rule, written before any run (29 November 2026, second session); the change is for what a
CSM reads, so it must not cost value:
- tuning structure seeds 1-6, two learner seeds: kept only if the variant's net mean share of
  the best choice is at most 0.5 points below the shipped playbook's and its worst world at
  most 2 points below;
- only then, once, fresh structure seeds 77-84 (never used), the same test; shipped only if it
  holds there too (then `protocol.json` is recorded again). Reported either way.

    python notebooks/experiments/renewal_rule_terms.py --seeds 1 2 3 4 5 6 --cache data/pcache

Result: tuning 1-6 net mean 66.5% -> 66.7%, worst 41.9% both; fresh 77-84 60.6% -> 60.5%,
worst 20.1% -> 19.8%: kept on both (docs/results.md, "Growth asks at risk"). Shipped the next
session in `actions/playbook.yaml`, so this script now adds the condition a second time to a
rule that has it: to run it again, compare against the playbook before that commit.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from per_world import print_per_world  # beside this script

import training.uplift.policy_eval as policy_eval
import training.uplift.protocol as protocol
from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from training.uplift.config import load_uplift_config

RULE = "renewal close and at risk"
TERM = {"feature": "term_length_days", "op": ">=", "value": 180}


def variant_playbook(folder: Path) -> Path:
    """The shipped playbook with the term condition added to `RULE`, checked by the loader."""
    book = yaml.safe_load(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    (rule,) = [r for r in book["rules"] if r["name"] == RULE]
    rule["when"].append(TERM)
    path = folder / "playbook.yaml"
    path.write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    load_playbook(path)  # fails loudly on a mistake
    return path


def judged(data: protocol.WorldData, offset: int, playbook: Path) -> protocol.WorldScore:
    """`judge_world` with `playbook` in place of the shipped one (fitting and judging)."""
    saved = protocol.DEFAULT_PLAYBOOK, policy_eval.DEFAULT_PLAYBOOK
    protocol.DEFAULT_PLAYBOOK = policy_eval.DEFAULT_PLAYBOOK = playbook
    try:
        return protocol.judge_world(data, load_uplift_config(), learner_seed=offset)
    finally:
        protocol.DEFAULT_PLAYBOOK, policy_eval.DEFAULT_PLAYBOOK = saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--learner-seeds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        variant = variant_playbook(Path(folder))
        for seed in args.seeds:
            data = protocol.prepare_world(seed, 700, cache=args.cache)
            for offset in range(0, 1000 * args.learner_seeds, 1000):
                start = time.perf_counter()
                a, b = judged(data, offset, DEFAULT_PLAYBOOK), judged(data, offset, variant)
                rows.append({"seed": seed, "offset": offset, "shipped": a.net["uplift"],
                             "variant": b.net["uplift"]})  # fmt: skip
                print(
                    seed, offset,
                    f"net {100 * a.net['uplift']:.1f} -> {100 * b.net['uplift']:.1f},",
                    f"playbook {100 * a.net['playbook']:.1f} -> {100 * b.net['playbook']:.1f}",
                    f"{time.perf_counter() - start:.0f}s", flush=True,
                )  # fmt: skip
    print_per_world(rows)
    per_world = 100 * pd.DataFrame(rows).groupby("seed")[["shipped", "variant"]].mean()
    drop_mean = per_world["shipped"].mean() - per_world["variant"].mean()
    drop_worst = per_world["shipped"].min() - per_world["variant"].min()
    kept = drop_mean <= 0.5 and drop_worst <= 2.0
    print(f"net mean {drop_mean:+.2f} pts below shipped, worst world {drop_worst:+.2f} below:")
    print(f"{'kept' if kept else 'not kept'}")


if __name__ == "__main__":
    main()
