"""`retain evaluate-policy`: the learned policy, the playbook and the CS team on your history.

Only the company's own data is read: the labelled snapshots before the training date, the
touchpoints after each (what the CS team did), the churn at the next renewal and the ARR.
The learned policy is the registered uplift champion ranked as serving ranks
(`actions.ranking`), the playbook is the one serving uses, and the CS team's policy is what
it did. `offpolicy` gives each a doubly robust estimate with its bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from actions.playbook import Playbook
from actions.ranking import NO_ACTION, best_action, next_best_actions, pain_flags
from actions.tiers import risk_tier
from features.contract import ACTION_CODES
from features.units import money
from training.uplift.model import UpliftModel
from training.uplift.offpolicy import PolicyEstimate, cs_team_actions, evaluate_offpolicy
from training.uplift.policy_eval import product_playbook

if TYPE_CHECKING:
    from training.config import TrainingConfig

LEVEL = 0.9


def policies_on(
    model: UpliftModel,
    snapshots: pd.DataFrame,
    taken: list[str],
    playbook: Playbook | None,
    costs: Mapping[str, float],
) -> dict[str, list[str]]:
    """What the learned policy, the playbook and the CS team chose per snapshot."""
    arr = snapshots["arr"].to_numpy(dtype=float)
    suggestions = product_playbook(
        snapshots, model.baseline_risk(snapshots), model.risk_cuts_, playbook
    )
    risk = model.baseline_risk(snapshots)
    tiers = [risk_tier(float(p), model.risk_cuts_) for p in risk]
    ranked = next_best_actions(
        model.effects(snapshots), arr, dict(costs), suggestions, tiers, pain_flags(snapshots)
    )
    return {
        "learned": [best_action(r) for r in ranked],
        "playbook": [s[0].action if s else NO_ACTION for s in suggestions],
        "cs_team": taken,
    }


def judged_rows(dataset: pd.DataFrame, as_of: datetime | None = None) -> pd.DataFrame:
    """The snapshots a policy is judged on: labelled by `as_of`, with an ARR.

    Each is one month's decision for one account, so an account in force for a year
    counts twelve times: a policy's value is a sum over decisions, not ARR saved in a year.
    """
    from training.split import labelled_rows

    horizon = as_of or pd.to_datetime(dataset["as_of"]).max().to_pydatetime()
    rows = labelled_rows(dataset, "churn", horizon).reset_index(drop=True)
    return rows[rows["arr"].notna()].reset_index(drop=True)


def evaluate_on_history(
    dataset: pd.DataFrame,
    touchpoints: pd.DataFrame,
    model: UpliftModel,
    playbook: Playbook | None = None,
    as_of: datetime | None = None,
    level: float = LEVEL,
    seed: int = 0,
) -> list[PolicyEstimate]:
    """Doubly robust value of each policy on the labelled snapshots known at `as_of`."""
    rows = judged_rows(dataset, as_of)
    costs = {a: model.config.cost(a) for a in ACTION_CODES}
    taken = cs_team_actions(rows, touchpoints, model.config.window_days)
    policies = policies_on(model, rows, taken, playbook, costs)
    X = rows[model.feature_names_].to_numpy(dtype=float)
    return evaluate_offpolicy(
        X,
        taken,
        rows["churn"].to_numpy(dtype=float),
        rows["arr"].to_numpy(dtype=float),
        rows["account_id"].astype(str).to_numpy(),
        policies,
        costs,
        level,
        seed,
    )


def evaluate_policy(
    data: str,
    model: UpliftModel,
    playbook: Playbook | None,
    report: Callable[[str], None] = print,
    recorded: pd.DataFrame | None = None,
    config: TrainingConfig | None = None,
) -> list[PolicyEstimate]:
    """`retain evaluate-policy`: build the history of `data`, estimate, print the table.

    `recorded`: touchpoints recorded through the service (`store.Store.touchpoints`), read
    with the source's as training reads them, each touchpoint once. `config`: the training
    parameters whose snapshots make the history (default: the packaged ones); one with
    `learn_before_tracking` reaches back before the events began, as its training did.
    """
    from training.config import load_config
    from training.train import build_training_set, touchpoints_until

    report(f"Building the history of {data} ...")
    config = config or load_config()
    dataset, as_of = build_training_set(data, None, config, recorded, report=report)
    touchpoints = touchpoints_until(data, as_of, recorded)
    estimates = evaluate_on_history(dataset, touchpoints, model, playbook, as_of)
    judged = judged_rows(dataset, as_of)
    report(
        "ARR saved net of action costs against doing nothing, estimated from your history"
        f" (doubly robust, {100 * LEVEL:.0f}% bootstrap interval over accounts), summed over"
        f" {len(judged):,} decisions on {judged['account_id'].nunique():,} accounts whose"
        f" renewal outcome is known: one per account and snapshot (every {config.every}),"
        " each counting its renewal's ARR again, so this compares policies; it is not ARR"
        " saved in a year:"
    )
    for found in estimates:
        report(found.line(LEVEL))
    capped = next((e for e in estimates if e.ceiling is not None), None)
    if capped is not None and capped.ceiling is not None:
        cap = (
            ""
            if capped.ceiling_high is None
            else f" (its {100 * LEVEL:.0f}% interval reaching {money(capped.ceiling_high)})"
        )
        report(
            f"  No policy can save more than {money(capped.ceiling)}{cap}, the ARR that would"
            " churn if nothing were done (doubly robust; no interval above reaches past that"
            " upper end, unless its estimate is beyond the ceiling itself)."
        )
    return estimates


def coverage_check(
    estimates: list[PolicyEstimate], true_values: Mapping[str, float]
) -> dict[str, bool]:
    """Whether each policy's interval holds its true value (simulated worlds)."""
    return {
        e.policy: bool(e.low <= true_values[e.policy] <= e.high)
        for e in estimates
        if e.policy in true_values and np.isfinite(true_values[e.policy])
    }


class ChampionMissing(LookupError):
    """No uplift champion is registered (run `retain train` first)."""


def load_champion(tracking_uri: str) -> UpliftModel:
    """The registered uplift champion (`retain-uplift@champion`)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from training.tracking import configure_mlflow
    from training.uplift.run import REGISTERED_NAME

    configure_mlflow(tracking_uri)
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{REGISTERED_NAME}@champion")
    except MlflowException as error:
        raise ChampionMissing(
            f"no {REGISTERED_NAME} champion in {tracking_uri}: run `retain train` first (a"
            " model whose actions lost money on held-out history is kept as `challenger`,"
            " not champion; `retain train` says so)"
        ) from error
    model = loaded.unwrap_python_model()
    if not isinstance(model, UpliftModel):
        raise ChampionMissing(f"the {REGISTERED_NAME} champion is not an uplift model")
    return model
