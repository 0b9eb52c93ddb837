"""Rank the actions for each account by expected saved ARR.

Expected saved ARR = reduction in churn probability x ARR - what the action costs. Actions
whose effect was learned from history come first, best value first, and only when they are
expected to pay; actions the history cannot judge for the account (`basis="playbook"`)
follow in the playbook's order when the playbook suggests them. `next_best_action` is the
top of the ranking, or `none` when nothing is expected to help.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

NO_ACTION = "none"
RANKING_COLUMNS = (
    "account",
    "rank",
    "action",
    "expected_effect",
    "effect_std",
    "expected_saved_arr",
    "basis",
    "reason",
    "basis_reason",
)

# One playbook suggestion: (action code, reason a CSM reads).
Suggestion = tuple[str, str]


@dataclass(frozen=True)
class Recommendations:
    """The ranked actions of a batch of accounts (`account` = row position in the batch)."""

    next_best_action: np.ndarray
    ranking: pd.DataFrame

    def for_account(self, account: int) -> list[dict[str, Any]]:
        """The ranked actions of one account as plain dicts (for the API)."""
        rows = self.ranking[self.ranking["account"] == account]
        return [
            {str(key): _plain(value) for key, value in row.items() if key != "account"}
            for row in rows.to_dict("records")
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def recommend(
    effects: Mapping[str, Sequence[Any]],
    arr: Sequence[float] | np.ndarray,
    costs: Mapping[str, float],
    playbook: Sequence[Sequence[Suggestion]] | None = None,
) -> Recommendations:
    """Rank actions per account by expected saved ARR.

    Args:
        effects: `UpliftModel.effects(X)`: action -> (effect, std, basis, reason) arrays.
        arr: each account's ARR, aligned with the effect arrays.
        costs: action -> cost in ARR currency (missing = 0).
        playbook: optional, per account, the playbook's suggestions in its order; their
            reasons are kept, and they decide where history cannot (basis "playbook").

    Returns:
        `Recommendations` with one next-best-action per account and the long ranking
        (columns `RANKING_COLUMNS`).
    """
    values = np.asarray(arr, dtype=float)
    frames = []
    for action, (effect, std, basis, reason, *_) in effects.items():
        effect = np.asarray(effect, dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "account": np.arange(len(values)),
                    "action": action,
                    "expected_effect": effect,
                    "effect_std": np.asarray(std, dtype=float),
                    "expected_saved_arr": -effect * values - float(costs.get(action, 0.0)),
                    "basis": np.asarray(basis, dtype=object),
                    "basis_reason": np.asarray(reason, dtype=object),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["account"])
    suggested = {
        (account, action): (order, why)
        for account, suggestions in enumerate(playbook or ())
        for order, (action, why) in enumerate(suggestions)
    }
    keys = list(zip(table["account"], table["action"], strict=True))
    table["playbook_order"] = [suggested.get(key, (np.nan, ""))[0] for key in keys]
    table["reason"] = [suggested.get(key, (np.nan, ""))[1] for key in keys]
    learned = (table["basis"] == "learned") & (table["expected_saved_arr"] > 0)
    by_playbook = (table["basis"] != "learned") & table["playbook_order"].notna()
    table = table[learned | by_playbook].copy()
    table["tier"] = np.where(table["basis"] == "learned", 0, 1)
    table["sort_value"] = np.where(
        table["tier"] == 0, -table["expected_saved_arr"], table["playbook_order"]
    )
    table = table.sort_values(["account", "tier", "sort_value"], kind="stable")
    table["rank"] = table.groupby("account").cumcount() + 1
    missing = table["reason"] == ""
    table.loc[missing, "reason"] = [
        _effect_sentence(action, effect, std)
        for action, effect, std in table.loc[
            missing, ["action", "expected_effect", "effect_std"]
        ].itertuples(index=False)
    ]
    ranking = table[list(RANKING_COLUMNS)].reset_index(drop=True)
    best = np.full(len(values), NO_ACTION, dtype=object)
    top = ranking[ranking["rank"] == 1]
    best[top["account"].to_numpy(dtype=int)] = top["action"].to_numpy()
    return Recommendations(next_best_action=best, ranking=ranking)


def _effect_sentence(action: str, effect: float, std: float) -> str:
    words = action.replace("_", " ")
    return (
        f"accounts like this renewed more often after a {words}: churn risk "
        f"{100 * effect:+.1f} pts (+/- {100 * std:.1f})"
    )
