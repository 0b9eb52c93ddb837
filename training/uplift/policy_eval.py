"""How much churn the recommended actions would truly prevent, on the simulator's ground truth.

The value of a policy (one action, or none, per at-risk account) is the sum over at-risk
accounts of the *true* reduction in churn probability of its action times the account's
ARR (`_truth/action_effects.parquet`). It is reported as a share of the oracle's value (the
best true action per account, or none when nothing helps) and compared, on the same
accounts, with the playbook alone, "always the CS team's most common action", random
actions and, when given, what the CS team did and the true-cause playbook (the world's
remedy for the dominant cause, `_truth/causes.parquet`). Each share is also given net of
the actions' costs (`values`, `best_values`: the best choice then takes the best action net
of cost, or none).

The true effect (`effect`) is the simulator's look-ahead: the expected churn probability at
the renewal with the action done now minus without, everything the action sets in motion
until then included. Where the truth also has `effect_if_unchanged` (the action's change
to today's state, held until the renewal), the shares under it are reported beside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from actions.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook
from actions.ranking import (
    NO_ACTION,
    Suggestion,
    best_action,
    next_best_actions,
    pain_flags,
    suggest,
)
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from simulator.structure import Structure
from training.uplift.config import load_uplift_config
from training.uplift.model import UpliftModel

KEYS = ["account_id", "as_of"]
POLICIES = ("uplift", "playbook", "most_common", "random")
# issue 18's dominant causes (simulator.causes) -> the structure's causes
CAUSE_OF = {
    "key_user_gone": "key_gone",
    "low_usage": "disengaged",
    "low_adoption": "adoption_gap",
    "kpi_shortfall": "kpi_miss",
    "no_first_value": "no_first_value",
    "support_storm": "storm",
}


def product_playbook(
    features: pd.DataFrame,
    churn_probability: np.ndarray,
    risk_cuts: Mapping[str, float],
    playbook: Playbook | None = None,
) -> list[list[Suggestion]]:
    """Per account, what the playbook (default: the shipped one) suggests, best first.

    Rules are evaluated exactly as serving does (`Playbook.matches` + `actions.ranking.suggest`),
    with the risk tier from `churn_probability` and the `risk_cuts` (high, medium) cut points.
    """
    playbook = playbook or load_playbook(DEFAULT_PLAYBOOK)
    names = [c for c in features.columns if c not in KEYS]
    values = features[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    out = []
    for i, p in enumerate(np.asarray(churn_probability, dtype=float)):
        facts: dict[str, float | None] = dict(zip(names, values[i].tolist(), strict=True))
        arr = facts.get("arr") or facts.get("contract_arr")
        facts.update(
            churn_probability=float(p),
            upsell_probability=None,
            arr_at_risk=None if arr is None else float(p) * arr,
        )
        fired = playbook.matches(facts, risk_tier(float(p), risk_cuts), playbook.tier(facts))
        out.append(suggest(fired, values=facts))
    return out


def most_common_action(touchpoints: pd.DataFrame) -> str:
    """The action code the CS team logged most often."""
    done = touchpoints.loc[touchpoints["type"].isin(ACTION_CODES), "type"]
    return str(done.mode().iloc[0]) if len(done) else "health_check"


def true_effects(
    action_effects: pd.DataFrame, snapshots: pd.DataFrame, column: str = "effect"
) -> np.ndarray:
    """(accounts, actions) matrix of true effects (`column`) aligned with `snapshots` rows."""
    truth = action_effects.assign(
        account_id=action_effects["account_id"].astype(str),
        as_of=pd.to_datetime(action_effects["as_of"]),
    ).pivot_table(index=KEYS, columns="action", values=column)
    rows = pd.MultiIndex.from_arrays(
        [snapshots["account_id"].astype(str), pd.to_datetime(snapshots["as_of"])]
    )
    return truth.reindex(index=rows, columns=list(ACTION_CODES)).to_numpy(dtype=float)


def oracle_value(effects: np.ndarray, arr: np.ndarray) -> float:
    """True ARR saved by the best action per account (none where nothing helps)."""
    best_saving = np.nan_to_num(np.nanmax(-effects, axis=1), nan=0.0)
    return float(np.sum(np.maximum(best_saving, 0.0) * arr))


def policy_value(chosen: Sequence[str], effects: np.ndarray, arr: np.ndarray) -> float:
    """True ARR saved by doing `chosen[i]` (an action code or `none`) on each account."""
    column = {action: j for j, action in enumerate(ACTION_CODES)}
    saved = 0.0
    for i, action in enumerate(chosen):
        if action != NO_ACTION and not np.isnan(effects[i, column[action]]):
            saved += -effects[i, column[action]] * arr[i]
    return saved


def values(
    chosen: Sequence[str], effects: np.ndarray, arr: np.ndarray, costs: dict[str, float]
) -> tuple[float, float]:
    """(true ARR saved, the same net of the actions' costs) of doing `chosen[i]` on account i."""
    column = {action: j for j, action in enumerate(ACTION_CODES)}
    gross = net = 0.0
    for i, action in enumerate(chosen):
        if action == NO_ACTION or np.isnan(effects[i, column[action]]):
            continue
        saved = -effects[i, column[action]] * arr[i]
        gross, net = gross + saved, net + saved - costs.get(action, 0.0)
    return gross, net


def best_values(
    effects: np.ndarray, arr: np.ndarray, costs: dict[str, float]
) -> tuple[float, float]:
    """The best choice's value (best action or none per account), without and net of costs."""
    saved = np.nan_to_num(-effects * arr[:, None], nan=-np.inf)
    price = np.array([costs.get(a, 0.0) for a in ACTION_CODES])
    gross = np.maximum(saved.max(axis=1), 0.0).sum()
    net = np.maximum((saved - price[None, :]).max(axis=1), 0.0).sum()
    return float(gross), float(net)


def true_cause_actions(
    snapshots: pd.DataFrame, causes: pd.DataFrame | None, structure: Structure
) -> list[str] | None:
    """The world's first remedy for each snapshot's dominant cause (None without the truth)."""
    if causes is None or "dominant_cause" not in causes:
        return None
    remedy = structure.remedies()
    keyed = causes.assign(
        account_id=causes["account_id"].astype(str), as_of=pd.to_datetime(causes["as_of"])
    ).set_index(["account_id", "as_of"])["dominant_cause"]
    index = pd.MultiIndex.from_arrays(
        [snapshots["account_id"].astype(str), pd.to_datetime(snapshots["as_of"])]
    )
    out = []
    for cause in keyed.reindex(index).fillna(NO_ACTION):
        fixes = remedy.get(CAUSE_OF.get(str(cause), ""), ())
        out.append(fixes[0] if fixes else NO_ACTION)
    return out


@dataclass(frozen=True)
class PolicyReport:
    """Value of each policy as ARR saved and as a share of the oracle's."""

    accounts: int
    oracle_value: float
    values: dict[str, float]
    playbook_source: str
    learned_share: float
    actions: dict[str, int] = field(default_factory=dict)
    correlations: dict[str, float] = field(default_factory=dict)
    one_step_shares: dict[str, float] = field(default_factory=dict)
    net_values: dict[str, float] = field(default_factory=dict)
    net_oracle_value: float = 0.0

    def share(self, policy: str) -> float:
        return self.values[policy] / self.oracle_value if self.oracle_value > 0 else 0.0

    def net_share(self, policy: str) -> float:
        """Share of the best choice's value net of action costs (best action or none)."""
        best = self.net_oracle_value
        return self.net_values.get(policy, 0.0) / best if best > 0 else 0.0

    def metrics(self) -> dict[str, float]:
        """Flat metrics for MLflow (prefix `uplift_`)."""
        out = {
            "uplift_eval_accounts": float(self.accounts),
            "uplift_oracle_value": self.oracle_value,
        }
        out["uplift_learned_share"] = self.learned_share
        for action, value in self.correlations.items():
            out[f"uplift_truth_corr_{action}"] = value
        for policy in POLICIES:
            out[f"uplift_value_{policy}"] = self.values[policy]
            out[f"uplift_value_share_{policy}"] = self.share(policy)
        for policy, share in self.one_step_shares.items():
            out[f"uplift_value_share_{policy}_one_step"] = share
        for policy in self.net_values:
            out[f"uplift_net_share_{policy}"] = self.net_share(policy)
        return out

    def describe(self) -> str:
        """A few lines a CS leader understands."""
        lines = [
            f"Next-best-action on {self.accounts} at-risk account snapshots: true ARR saved"
            f" vs the best possible ({self.oracle_value:,.0f})"
        ]
        names = {
            "uplift": "learned from history",
            "playbook": f"playbook only ({self.playbook_source})",
            "most_common": "always the most common action",
            "random": "random action",
        }
        names |= {"cs_team": "what the CS team did", "true_cause": "true cause's remedy"}
        for policy in self.values:
            net = (
                f"  net of cost {100 * self.net_share(policy):6.1f}%"
                if policy in self.net_values
                else ""
            )
            lines.append(
                f"  {names[policy]:<38} {self.values[policy]:>12,.0f}"
                f"  {100 * self.share(policy):5.1f}% of the oracle{net}"
            )
        if self.one_step_shares:
            shares = ", ".join(
                f"{names[policy].split(' (')[0]} {100 * share:.1f}%"
                for policy, share in self.one_step_shares.items()
            )
            lines.append(f"  against one-step effects (state held until renewal): {shares}")
        lines.append(
            f"  effects learned (not playbook) for {100 * self.learned_share:.0f}% of pairs"
        )
        total = max(1, sum(self.actions.values()))
        picks = ", ".join(f"{a} {100 * n / total:.0f}%" for a, n in self.actions.items())
        lines.append(f"  learned policy picks: {picks}")
        corr = ", ".join(f"{a} {c:+.2f}" for a, c in self.correlations.items())
        lines.append(f"  correlation of learned with true effects: {corr}")
        return "\n".join(lines)


def evaluate_policies(
    model: UpliftModel,
    snapshots: pd.DataFrame,
    action_effects: pd.DataFrame,
    common_action: str,
    costs: dict[str, float] | None = None,
    playbook: Sequence[Sequence[Suggestion]] | None = None,
    playbook_source: str | None = None,
    seed: int = 0,
    touchpoints: pd.DataFrame | None = None,
    causes: pd.DataFrame | None = None,
    structure: Structure | None = None,
    window_days: int = 60,
) -> PolicyReport:
    """Compare the learned policy with the playbook, most-common and random policies.

    Args:
        model: a fitted `UpliftModel`.
        snapshots: the at-risk account snapshots to act on (account_id, as_of, arr and
            the model's features), not used to fit `model`.
        action_effects: the simulator's `_truth/action_effects.parquet`.
        common_action: the "always do this" baseline (`most_common_action(touchpoints)`).
        costs: action costs for the ranking (default: the uplift config's).
        playbook: per snapshot, the playbook's suggestions; default the shipped playbook
            (`product_playbook`, risk tiers from the model's baseline churn risk).
        playbook_source: where `playbook` came from, for the report (default: the shipped
            playbook's `actions/playbook.yaml` when `playbook` is None, else "given").
        seed: seed of the random policy.
        touchpoints: the CS team's touchpoints; adds `cs_team` (its first action in the
            `window_days` after each snapshot, cut at its renewal, or none).
        causes: the simulator's `_truth/causes.parquet`; with `structure` adds
            `true_cause` (the remedy of each snapshot's dominant cause).
        structure: the simulated world's causal structure (whose remedies count).
        window_days: how long after a snapshot the CS team's action counts.
    """
    if costs is None:
        config = load_uplift_config()
        costs = {action: config.cost(action) for action in ACTION_CODES}
    if playbook is None:
        playbook = product_playbook(snapshots, model.baseline_risk(snapshots), model.risk_cuts_)
        playbook_source = (
            playbook_source or f"{DEFAULT_PLAYBOOK.parent.name}/{DEFAULT_PLAYBOOK.name}"
        )
    playbook_source = playbook_source or "given"
    arr = snapshots["arr"].to_numpy(dtype=float)
    truth = true_effects(action_effects, snapshots)
    oracle = oracle_value(truth, arr)
    effects = model.effects(snapshots)
    tiers = [risk_tier(float(p), model.risk_cuts_) for p in model.baseline_risk(snapshots)]
    ranked = next_best_actions(effects, arr, costs, playbook, tiers, pain_flags(snapshots))
    chosen = [best_action(actions) for actions in ranked]
    rng = np.random.default_rng(seed)
    policies = {
        "uplift": list(chosen),
        "playbook": [
            suggestions[0].action if suggestions else NO_ACTION for suggestions in playbook
        ],
        "most_common": [common_action] * len(snapshots),
        "random": list(rng.choice(ACTION_CODES, size=len(snapshots))),
    }
    if touchpoints is not None:
        from training.uplift.offpolicy import cs_team_actions

        policies["cs_team"] = cs_team_actions(snapshots, touchpoints, window_days)
    if causes is not None and structure is not None:
        remedies = true_cause_actions(snapshots, causes, structure)
        if remedies is not None:
            policies["true_cause"] = remedies
    learned = np.mean([np.mean(found.basis == "learned") for found in effects.values()])
    counts = pd.Series(policies["uplift"]).value_counts()
    correlations = {}
    for j, action in enumerate(ACTION_CODES):
        found = effects.get(action)
        if found is None:
            continue
        ok = (found.basis == "learned") & ~np.isnan(truth[:, j])
        if ok.sum() > 2 and np.std(found.effect[ok]) > 0 and np.std(truth[ok, j]) > 0:
            correlations[action] = float(np.corrcoef(found.effect[ok], truth[ok, j])[0, 1])
    one_step = {}
    if "effect_if_unchanged" in action_effects.columns:
        held = true_effects(action_effects, snapshots, "effect_if_unchanged")
        best = oracle_value(held, arr)
        one_step = {
            name: policy_value(picks, held, arr) / best if best > 0 else 0.0
            for name, picks in policies.items()
        }
    return PolicyReport(
        accounts=len(snapshots),
        oracle_value=oracle,
        values={name: policy_value(picks, truth, arr) for name, picks in policies.items()},
        one_step_shares=one_step,
        playbook_source=playbook_source,
        learned_share=float(learned),
        actions={str(k): int(v) for k, v in counts.items()},
        correlations=correlations,
        net_values={name: values(picks, truth, arr, costs)[1] for name, picks in policies.items()},
        net_oracle_value=best_values(truth, arr, costs)[1],
    )


def log_policy_report(report: PolicyReport) -> None:
    """Log the report's metrics and the chosen-action counts to the active MLflow run."""
    import mlflow

    mlflow.log_metrics(report.metrics())
    mlflow.log_dict(
        {"values": report.values, "oracle": report.oracle_value, "actions": report.actions},
        "uplift/policy_evaluation.json",
    )
