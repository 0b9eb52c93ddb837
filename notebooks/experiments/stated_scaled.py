"""Issue 11 (thirteenth new-user audit): state the ranking's effect scaled, not history's.

The CRM reads `expected_saved_arr`, history's effect pooled by diagnosed cause ("What an
action is stated to do"), on an action ranked by `ranking_saved_arr` (history's effect with
the hidden selection CSMs make taken out). On the audit's company 5,092 of 5,667 first
actions were stated at a saving of 0 or less: the statement disowns the recommendation.
History alone was chosen as the statement for its error at the recommended actions (9 pts
against 17 for the ranking's, which is about twice the truth). A statement that keeps the
ranking's sign but not its size is the ranking's log-odds shift scaled by `c`: it says a
recommended action helps whenever the ranking thinks so.

Per world (the protocol's: structure seed K, data seed 1000+K, 700 accounts; the shipped
learner fitted on 70% of the accounts with learner seed 0, as the stated experiments fit
it; judged on the other 30%'s at-risk snapshots), at each snapshot's recommended action
(ranked as the protocol ranks: costs, tiers, pains) where it is learned:
- `error`: the ARR-weighted mean absolute error (pts) of the stated effect against the true;
- `sign`: the share of those snapshots where the stated saving net of the action's cost
  (-effect x ARR - cost; expansion left out, as the truth values churn alone) and the true
  one are both above 0 or both at or below 0.
Candidates: `shipped` (history pooled by cause) and `c` in {0.3, 0.4, 0.5, 0.6, 0.7}: the
account's baseline moved by c x the ranking effect's log-odds shift.

Rule, written before any run (30 November 2026):
- tuning structure seeds 1-6: the `c` with the lowest mean error over worlds is the
  candidate;
- once, fresh structure seeds 149-156 (never used): state it (as `expected_effect` and
  `expected_saved_arr`) only if its mean error is at most 0.5 pts above the shipped
  statement's and its sign agreement is higher than the shipped statement's on at least 6
  of the 8 worlds and on their mean. Reported either way in docs/results.md.

    python notebooks/experiments/stated_scaled.py --seeds 1 2 3 4 5 6 --cache data/pcache
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from stated_effects import fitted_world  # beside this script

from actions.ranking import best_action, next_best_actions, pain_flags
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from training.uplift.model import LEARNED
from training.uplift.policy_eval import product_playbook, true_effects
from training.uplift.stated import log_odds_shift, sigmoid

SCALES = (0.3, 0.4, 0.5, 0.6, 0.7)


def scaled(baseline: np.ndarray, effect: np.ndarray, c: float) -> np.ndarray:
    """`effect` with its log-odds shift on `baseline` scaled by `c`."""
    base = np.clip(baseline, 1e-6, 1 - 1e-6)
    shift = log_odds_shift(base, effect)
    return np.asarray(sigmoid(np.log(base / (1 - base)) + c * shift) - base, dtype=float)


def stated_pairs(seed: int, cache: Path | None) -> pd.DataFrame:
    """The recommended learned actions of one world: each candidate's statement, truth, ARR."""
    data, _, snapshots, model = fitted_world(seed, cache)
    costs = {a: model.config.cost(a) for a in ACTION_CODES}
    truth = true_effects(data.truth["action_effects"], snapshots)
    arr = snapshots["arr"].to_numpy(dtype=float)
    baseline = model.baseline_risk(snapshots)
    tiers = [risk_tier(float(p), model.risk_cuts_) for p in baseline]
    suggestions = product_playbook(snapshots, baseline, model.risk_cuts_)
    learned = model.effects(snapshots)
    pains = pain_flags(snapshots)
    ranked = next_best_actions(learned, arr, costs, suggestions, tiers, pains)
    chosen = np.asarray([best_action(r) for r in ranked])
    frames = []
    for j, action in enumerate(ACTION_CODES):
        found = learned.get(action)
        if found is None:
            continue
        ok = (chosen == action) & (found.basis == LEARNED) & ~np.isnan(truth[:, j])
        if not ok.any():
            continue
        history = found.effect if found.history is None else found.history
        columns = {"s_shipped": np.asarray(history, dtype=float)[ok]}
        effect = np.asarray(found.effect, dtype=float)
        for c in SCALES:
            columns[f"s_c{c:g}"] = scaled(baseline, effect, c)[ok]
        frames.append(
            pd.DataFrame(
                {
                    "seed": seed,
                    "action": action,
                    "cost": costs[action],
                    "true": truth[ok, j],
                    "arr": arr[ok],
                    **columns,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def per_world(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per world and candidate: ARR-weighted error (pts) and sign agreement of the savings."""
    columns = [c for c in pairs.columns if c.startswith("s_")]
    rows = []
    for seed, group in pairs.groupby("seed"):
        weight = group["arr"] / group["arr"].sum()
        true_pays = (-group["true"] * group["arr"] - group["cost"]) > 0
        row: dict[str, float] = {"seed": float(seed)}  # type: ignore[arg-type]
        for c in columns:
            row[f"error_{c}"] = float((weight * (group[c] - group["true"]).abs()).sum() * 100)
            pays = (-group[c] * group["arr"] - group["cost"]) > 0
            row[f"sign_{c}"] = float((pays == true_pays).mean())
        row["stated_le0"] = float(
            ((-group["s_shipped"] * group["arr"] - group["cost"]) <= 0).mean()
        )
        row["true_le0"] = float((~true_pays).mean())
        row["recommended"] = float(len(group))
        rows.append(row)
    return pd.DataFrame(rows).set_index("seed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--candidate", type=float, default=None, help="judge this c (untouched)")
    args = parser.parse_args()
    frames = []
    for seed in args.seeds:
        frames.append(stated_pairs(seed, args.cache))
        print(per_world(frames[-1]).round(3).to_string(), flush=True)
    table = per_world(pd.concat(frames, ignore_index=True))
    print(table.round(3).to_string())
    errors = table[[c for c in table.columns if c.startswith("error_")]]
    signs = table[[c for c in table.columns if c.startswith("sign_")]]
    print("mean error", errors.mean().round(2).sort_values().to_dict())
    print("mean sign agreement", signs.mean().round(3).to_dict())
    scales = errors.drop(columns="error_s_shipped")
    pick = args.candidate
    name = f"s_c{pick:g}" if pick is not None else scales.mean().idxmin().removeprefix("error_")
    print("candidate", name)
    gap = float(errors[f"error_{name}"].mean() - errors["error_s_shipped"].mean())
    higher = int((signs[f"sign_{name}"] > signs["sign_s_shipped"]).sum())
    mean_higher = bool(signs[f"sign_{name}"].mean() > signs["sign_s_shipped"].mean())
    holds = gap <= 0.5 and higher >= 6 and mean_higher
    print(
        f"{name}: error {gap:+.2f} pts against the shipped statement; sign agreement higher"
        f" on {higher} of {len(signs)} worlds, on the mean: {mean_higher};"
        f" the untouched rule {'holds' if holds else 'fails'} (judged on 149-156 only)"
    )


if __name__ == "__main__":
    main()
