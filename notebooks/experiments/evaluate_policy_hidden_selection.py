"""Experiment (November 2026, shipped at B = 0.6): evaluate-policy's interval and hidden risk.

The interval allows for CSMs having chosen on hidden risk of B churn log-odds either way.

The record and the rule are in docs/results.md ("Checking a policy on your own history").
Each world is judged as the uplift protocol judges it (`training.uplift.protocol`); the
off-policy step is replaced by one that computes, on the same fitted models, the interval for
every B in `SPANS` and keeps it beside the true value. Results go to a JSON file (one entry
per world and learner seed, resumed if the file exists); `--summary` prints, per B, how often
each policy's interval holds the truth and its median width against B = 0.

    python notebooks/experiments/evaluate_policy_hidden_selection.py --seeds 1-6 --out t.json
    python notebooks/experiments/evaluate_policy_hidden_selection.py --summary t.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

import training.uplift.protocol as protocol
from features.contract import ACTION_CODES
from training.uplift import offpolicy
from training.uplift.offpolicy_run import policies_on
from training.uplift.policy_eval import true_effects, values

SPANS = (0.0, 0.6, 1.2, 2.0)


def intervals(model: Any, rows: Any, touchpoints: Any, truth: Any, playbook: Any) -> dict:
    """(estimate, low, high, true value) per policy and B, keyed `policy@B`."""
    rows = rows[rows["arr"].notna()].reset_index(drop=True)
    costs = {a: model.config.cost(a) for a in ACTION_CODES}
    taken = offpolicy.cs_team_actions(rows, touchpoints, model.config.window_days)
    chosen = policies_on(model, rows, taken, playbook, costs)
    index = {a: j for j, a in enumerate(offpolicy.ARMS)}
    churn = rows["churn"].to_numpy(dtype=float)
    arr = rows["arr"].to_numpy(dtype=float)
    groups = rows["account_id"].astype(str).to_numpy()
    X = rows[model.feature_names_].to_numpy(dtype=float)
    nuisance = offpolicy.fit_nuisance(X, np.array([index[a] for a in taken]), churn, groups, 0)
    effects = true_effects(truth["action_effects"], rows)
    found = {}
    for b in sorted({s * B for B in SPANS for s in (-1, 1)}):
        seen = offpolicy.chosen_on_hidden_risk(nuisance, churn, b)
        found[b] = {
            name: offpolicy.estimate(
                offpolicy.saved_per_snapshot(nuisance, picks, seen, arr, costs), groups, 0.9
            )
            for name, picks in chosen.items()
        }
    out = {}
    for B in SPANS:
        for name, picks in chosen.items():
            parts = [found[b][name] for b in (-B, 0.0, B)]
            true = values(picks, effects, arr, costs)[1]
            low, high = min(p[1] for p in parts), max(p[2] for p in parts)
            out[f"{name}@{B}"] = (found[0.0][name][0], low, high, true)
    return out


def run(seeds: list[int], out: Path, cache: Path) -> None:
    protocol._offpolicy_against_truth = intervals  # the same fits, every B at once
    kept = json.loads(out.read_text()) if out.exists() else {}
    for seed in seeds:
        data = protocol.prepare_world(seed, 700, cache=cache)
        for offset in (0, 1000):
            key = f"{seed}+{offset}"
            if key not in kept:
                score = protocol.judge_world(data, learner_seed=offset)
                kept[key] = {"net": score.net["uplift"], "offpolicy": score.offpolicy}
                out.write_text(json.dumps(kept, indent=1))
                print(key, f"net {score.net['uplift']:.3f}", flush=True)


def summary(path: Path) -> None:
    kept = json.loads(path.read_text())
    print(f"{len(kept)} fits; net mean {np.mean([v['net'] for v in kept.values()]):.4f}")
    for B in SPANS:
        line = f"B {B}:"
        for policy in ("learned", "playbook", "cs_team"):
            found = [v["offpolicy"][f"{policy}@{B}"] for v in kept.values()]
            bare = [v["offpolicy"][f"{policy}@0.0"] for v in kept.values()]
            holds = sum(low <= true <= high for _, low, high, true in found)
            ratio = np.median(
                [(f[2] - f[1]) / (b[2] - b[1]) for f, b in zip(found, bare, strict=True)]
            )
            line += f"  {policy} {holds}/{len(found)} width x{ratio:.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", help="structure seeds lo-hi")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("data/pcache"))
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    if args.summary:
        summary(args.summary)
        return
    lo, hi = (int(x) for x in args.seeds.split("-"))
    run(list(range(lo, hi + 1)), args.out, args.cache)


if __name__ == "__main__":
    main()
