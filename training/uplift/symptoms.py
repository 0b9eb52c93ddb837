"""Each action's symptoms, read off the playbook: what the CS team says the action is for.

The playbook says which drivers call for which action (a key user left: replace them; an
urgent ticket open: escalate). Those feature conditions are the natural place for an
action's effect to differ between accounts, so the pooled learner gives each action one
extra effect modifier: 1 when any of the action's rules would fire on the account's
features, else 0. History then says how much the action helps with and without its
symptoms, including "no difference" (the modifier's coefficient is learned, not assumed).

Only feature conditions count: score conditions (churn probability, upsell probability)
and the rules' risk-tier and account-tier limits describe *when* the CS team wants to act,
not what the action fixes. A rule whose feature conditions name features the model does not
see is skipped. The playbook is passed in by the caller (`retain train` passes the one serving uses,
`RETAIN_PLAYBOOK`, default `actions/playbook.yaml`); its conditions are copied into the
fitted model, so later edits to the playbook file do not change a registered model's inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pandas as pd

from actions.playbook import OPERATORS, Playbook

# One rule's feature conditions: (feature, operator, value), all of which must hold.
Conditions = tuple[tuple[str, str, float], ...]


def action_symptoms(
    playbook: Playbook, actions: Sequence[str], feature_names: Sequence[str]
) -> dict[str, list[Conditions]]:
    """Per action, the feature conditions of each playbook rule that recommends it."""
    known = set(feature_names)
    out: dict[str, list[Conditions]] = {action: [] for action in actions}
    for rule in playbook.rules:
        if rule.action not in out:
            continue
        conditions = tuple(
            (c.feature, c.op, float(c.value)) for c in rule.when if c.feature is not None
        )
        usable = conditions and all(name in known for name, _, _ in conditions)
        if usable and conditions not in out[rule.action]:
            out[rule.action].append(conditions)
    return out


def symptom_matrix(
    X: pd.DataFrame, symptoms: dict[str, list[Conditions]], actions: Sequence[str]
) -> np.ndarray:
    """(rows, actions) 1.0 where any of the action's rules holds on the row, else 0.0.

    An unknown (NaN) feature value never satisfies a condition, as in the playbook.
    """
    out = np.zeros((len(X), len(actions)))
    for j, action in enumerate(actions):
        fired = np.zeros(len(X), dtype=bool)
        for conditions in symptoms.get(action, []):
            holds = np.ones(len(X), dtype=bool)
            for name, op, value in conditions:
                column = pd.to_numeric(X[name], errors="coerce").to_numpy(dtype=float)
                compare = cast(Callable[[np.ndarray, float], np.ndarray], OPERATORS[op])
                with np.errstate(invalid="ignore"):
                    holds &= ~np.isnan(column) & compare(column, value)
            fired |= holds
        out[:, j] = fired
    return out
