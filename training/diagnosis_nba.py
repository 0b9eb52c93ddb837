"""Does the next-best-action follow the diagnosis without losing value? Paired, per world.

    python -m training.diagnosis_nba [--seeds 1 2 3] [--accounts 700] [--cache DIR]

On the worlds of the next-best-action protocol (`training.uplift.protocol`: structure seed K,
data seed 1000+K, the learner fitted on 70% of the accounts, judged on the other 30%'s
at-risk snapshots against the world's true effects) the learned policy is ranked twice with
the same fitted model: `before`, the playbook's suggestions ordered by the diagnosis but the
learned actions by value alone, and `after`, the ranking that puts the first driver's
remedy on top when it saves at least what the best is sure to save
(`actions.ranking.rank`). The diagnosis is read as serving reads it: a churn model of the
world's own fitting rows (`training.diagnosis_fit.quick_churn_model`) and the shipped cause
reader. Printed per world: net value as a share of the best choice, how many top actions
contradict the drivers (`actions.ranking.contradicts`), and how many changed.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from actions.playbook import DEFAULT_PLAYBOOK, load_playbook
from actions.ranking import (
    Suggestion,
    best_action,
    contradicts,
    next_best_actions,
    pain_flags,
    per_account,
    suggest,
)
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from features.definitions import FEATURE_NAMES, FEATURES
from training.diagnosis import load_reader
from training.diagnosis_fit import quick_churn_model
from training.families import first_families, read_batch
from training.uplift.config import load_uplift_config
from training.uplift.model import fit_uplift
from training.uplift.policy_eval import best_values, true_effects, values
from training.uplift.protocol import TUNING, prepare_world, split_world


def judge(seed: int, accounts: int, cache: Path | None) -> dict[str, float]:
    """Net shares of the best choice before/after, contradictions and changed tops."""
    config = load_uplift_config()
    costs = {a: config.cost(a) for a in ACTION_CODES}
    playbook = load_playbook(DEFAULT_PLAYBOOK)
    data = prepare_world(seed, accounts, cache=cache)
    truth = data.truth
    fitting, snapshots, _, _ = split_world(data)
    model = fit_uplift(fitting, data.touchpoints, playbook, config, seed=seed)
    effects_true = true_effects(truth["action_effects"], snapshots)
    arr = snapshots["arr"].to_numpy(dtype=float)
    risk = model.baseline_risk(snapshots)
    tiers = [risk_tier(float(p), model.risk_cuts_) for p in risk]
    churn, _ = quick_churn_model(
        fitting.assign(as_of=pd.to_datetime(fitting["as_of"])), list(FEATURE_NAMES)
    )
    catalogue = {f.name: f for f in FEATURES}
    names = [f.name for f in FEATURES if f.name in snapshots.columns]
    contributions = churn.contributions(snapshots)
    readings = read_batch(
        names,
        snapshots[names].to_numpy(dtype=float),
        churn.feature_names,
        contributions,
        churn.family_reference or churn.healthy_reference,
        catalogue,
        load_reader(),
        bands=churn.healthy_band,
    )
    columns = [c for c in snapshots.columns if c not in ("account_id", "as_of")]
    rows = snapshots[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    diagnosed: list[list[Suggestion]] = []
    for i, p in enumerate(risk):
        facts: dict[str, float | None] = dict(zip(columns, rows[i].tolist(), strict=True))
        value = facts.get("arr") or facts.get("contract_arr")
        facts.update(
            churn_probability=float(p),
            upsell_probability=None,
            arr_at_risk=None if value is None else float(p) * value,
        )
        fired = playbook.matches(facts, tiers[i], playbook.tier(facts))
        shap = dict(
            zip(
                churn.feature_names,
                contributions[i, : len(churn.feature_names)].tolist(),
                strict=True,
            )
        )
        diagnosed.append(suggest(fired, shap, first_families(readings[i], top=len(readings[i]))))
    blind = [[replace(s, answers_first_driver=False) for s in row] for row in diagnosed]
    learned = model.effects(snapshots)
    found = per_account(learned, costs)
    _, best_net = best_values(effects_true, arr, costs)
    out: dict[str, float] = {"snapshots": float(len(snapshots))}
    tops: dict[str, list[str]] = {}
    pains = pain_flags(snapshots)
    for name, suggestions in (("before", blind), ("after", diagnosed)):
        ranked = next_best_actions(learned, arr, costs, suggestions, tiers, pains)
        tops[name] = [best_action(r) for r in ranked]
        net = values(tops[name], effects_true, arr, costs)[1]
        out[f"net_share_{name}"] = net / best_net if best_net > 0 else 0.0
        out[f"contradictions_{name}"] = float(
            sum(
                contradicts(r, diagnosed[i], found[i], float(arr[i]), tiers[i], pains[i])
                for i, r in enumerate(ranked)
            )
        )
    out["changed"] = float(np.sum(np.array(tops["before"]) != np.array(tops["after"])))
    return out


def main(argv: list[str] | None = None) -> None:
    """Judge each seed and print one line per world."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(TUNING))
    parser.add_argument("--accounts", type=int, default=700)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    for seed in args.seeds:
        r = judge(seed, args.accounts, args.cache)
        print(
            f"structure seed {seed}: {int(r['snapshots'])} at-risk snapshots; net share of the"
            f" best choice before {r['net_share_before']:.1%}, after {r['net_share_after']:.1%};"
            f" contradicting the drivers before {int(r['contradictions_before'])}, after"
            f" {int(r['contradictions_after'])}; top action changed on {int(r['changed'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
