"""The line `retain train` prints on which actions' effects were learned, and why not the rest.

An action's effect is learned when history holds enough snapshots with it and without it
(`min_treated`, `min_untreated` in `uplift.yaml`); the others fall back to the playbook.
When none of the touchpoints' types is an action code nothing can be learned at all, and
the line names the types found, with the action code each looks like (only exact codes
count: `features.touchpoint_types`). A second line says how much of the learned effects the
assumed hidden selection (`selection_bias`) makes to the ranking, beside what history alone
says (what the CSM is told), and a third what history showed each action fixing by the next
snapshot (`surrogate_fixes`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.contract import ACTION_CODES
from features.touchpoint_types import CONTRACT_PAGE, describe_types, near_misses, other_types
from training.uplift.config import UpliftConfig
from training.uplift.model import LEARNED, TOO_FEW, ActionEffect, UpliftModel


def learned_line(model: UpliftModel, touchpoints: pd.DataFrame) -> str:
    """`effects learned for 5 of 10 actions: ...; <why not the others>`, in words.

    Args:
        model: the fitted uplift model (`final_` holds the learned actions, `n_treated_`
            how many snapshots each was done after).
        touchpoints: the touchpoints it learned from (a `type` column).
    """
    blind = getattr(model, "blind_auc_", None)  # absent in older pickles
    if blind is not None:
        return (
            f"effects learned for 0 of {len(ACTION_CODES)} actions: history cannot tell which"
            f" accounts churn (the churn baselines rank accounts they did not learn from at"
            f" ROC-AUC {blind:.2f}, under abstain_auc {model.config.abstain_auc}), let alone"
            " what saved them; the playbook ranks them all"
        )
    learned = [action for action in model.actions_ if action in model.final_]
    head = f"effects learned for {len(learned)} of {len(ACTION_CODES)} actions"
    counts = {str(k): int(n) for k, n in touchpoints["type"].dropna().value_counts().items()}
    others = other_types(counts)
    exact_only = f"only exact codes count, see {CONTRACT_PAGE}"
    if counts and len(others) == len(counts):
        return (
            f"{head}: no touchpoint type is an action code"
            f" (found {describe_types(others)}; {exact_only})"
        )
    parts = [", ".join(learned)] if learned else []
    rest = [action for action in model.actions_ if action not in model.final_]
    done = {action: model.n_treated_.get(action, 0) for action in rest}
    few = [action for action in rest if done[action] < model.config.min_treated]
    if few:
        parts.append(
            f"the playbook ranks {'the rest' if learned else 'them all'}, {TOO_FEW}"
            f" (times done, {model.config.min_treated} needed): "
            + ", ".join(f"{action} {done[action]}" for action in few)
        )
    usual = [action for action in rest if action not in few]
    if usual:
        parts.append(
            f"done after nearly every snapshot (fewer than {model.config.min_untreated}"
            f" without it to compare with): {', '.join(usual)}"
        )
    near = near_misses(others)
    if rest and near:
        parts.append(f"types that look like an action code but are not one: {describe_types(near)}")
        parts[-1] += f" ({exact_only})"
    return f"{head}: {'; '.join(parts)}"


def assumed_selection(
    model: UpliftModel, rows: pd.DataFrame, effects: Mapping[str, ActionEffect] | None = None
) -> dict[str, tuple[float, float]]:
    """Per learned action: its mean effect on churn over `rows` as ranked, and as stated.

    As ranked, the effects have the risk CSMs are assumed to read on calls and the data does
    not show taken out (`selection_bias` and `growth_selection_bias` in `uplift.yaml`, chosen
    on simulated worlds); as stated to the CSM, from history alone, they do not
    (`ActionEffect.history`). Empty when nothing is assumed. `effects`: `model.effects(rows)`
    where the caller has them already.
    """
    config = model.config
    if config.hidden_risk() == 0 or rows.empty:
        return {}
    found = {}
    for action, effect in (model.effects(rows) if effects is None else effects).items():
        learned = effect.basis == LEARNED
        if learned.any() and config.hidden_risk(action) > 0:
            alone = effect.effect if effect.history is None else effect.history
            found[action] = (
                float(np.nanmean(effect.effect[learned])),
                float(np.nanmean(alone[learned])),
            )
    return found


CAPPED_SHARE = 0.5  # more than this share of accounts at the bound: the assumption rules


def capped_shares(effects: Mapping[str, ActionEffect], churn: np.ndarray) -> dict[str, float]:
    """Per learned action: the share of rows whose effect as ranked takes away all of `churn`.

    `effects`: `UpliftModel.effects` of the rows; `churn`: their churn scores, which bound the
    effects when they are ranked (`actions.ranking`); an effect at or past the bound claims
    the account's whole risk.
    """
    found = {}
    for action, effect in effects.items():
        learned = (effect.basis == LEARNED) & ~np.isnan(effect.effect)
        if learned.any():
            found[action] = float(np.mean(-effect.effect[learned] >= churn[learned]))
    return found


def assumed_line(
    found: dict[str, tuple[float, float]],
    config: UpliftConfig,
    capped: dict[str, float] | None = None,
) -> str | None:
    """`retain train`'s line on the assumed hidden selection (`assumed_selection`'s figures).

    `capped`: per action, the share of the same rows whose ranked effect takes away their
    whole churn score (`capped_shares`); an action above `CAPPED_SHARE` is named, since the
    assumption then outweighs history (the seventh audit: every action for all its accounts,
    on a book churning about 10%, at about -29 pts, so the cheapest came first; the demo:
    none).
    """
    if not found:
        return None
    assumed = f"selection_bias {config.selection_bias:g}"
    if config.growth_selection_bias:
        assumed += f", growth_selection_bias {config.growth_selection_bias:g}"
    effects = ", ".join(
        f"{action} {100 * used:+.1f} ({100 * alone:+.1f})"
        for action, (used, alone) in found.items()
    )
    line = (
        "mean learned effect on churn in the training set's latest month, pts, as ranked (and"
        " as stated to the CSM, from history alone): "
        f"{effects}. As ranked, the effects assume CSMs chose accounts riskier than the data"
        f" shows ({assumed} log-odds in training/uplift/uplift.yaml, chosen on simulated"
        " worlds); where your CSMs choose on what the data shows, set it to 0"
    )
    beyond = {a: v for a, v in (capped or {}).items() if v > CAPPED_SHARE and a in found}
    if beyond:
        named = ", ".join(f"{a} ({share:.0%} of accounts)" for a, share in beyond.items())
        line += (
            f". Warning: as ranked, {named} take away an account's whole churn score, so the"
            " assumption outweighs your history: such actions tie at the account's risk, and"
            " the cheapest of them comes first"
        )
    return line


def fixes_line(model: UpliftModel) -> str | None:
    """`retain train`'s line on what each action was seen to fix (`UpliftModel.fixes_`).

    None when the setting is off (`surrogate_fixes` in `uplift.yaml`) or the model reads no
    causes.
    """
    if not getattr(model.config, "surrogate_fixes", False) or model.cause_reader_ is None:
        return None
    fixes = getattr(model, "fixes_", ())
    head = (
        "seen fixing a cause by the next snapshot (not confounded by whom CSMs chose;"
        " added to the learned effects)"
    )
    if not fixes:
        return (
            f"{head}: nothing, at {model.config.fix_min_z:g} standard errors (key users,"
            " modules, urgent tickets, first value)"
        )
    return f"{head}: " + "; ".join(f"{f.action}: {f.words()}" for f in fixes)
