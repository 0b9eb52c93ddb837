"""Train the next-best-action models inside `retain train`, judge them, log and register them.

Called from `training.train.train` inside its MLflow run. Only what was known at the
training date T is used: touchpoints up to T and churn labels whose renewal fell by T.
When the source is a simulated world (`_truth/` beside the data), the learned policy is
judged on held-out accounts against the true action effects, and the model that is
registered is then refit on every account.

The model is logged in the churn run as the pyfunc `uplift_model` and registered as
`retain-uplift`; a new version is `challenger` and becomes `champion` when there is none
yet or its share of the oracle's value is at least the champion's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from actions.playbook import Playbook
from features.contract import ACTION_CODES
from simulator.structure import TODAY, Structure, read_structure
from training.names import CHALLENGER, CHAMPION, model_name
from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.learned import learned_line
from training.uplift.model import UpliftModel, fit_uplift
from training.uplift.policy_eval import (
    PolicyReport,
    evaluate_policies,
    log_policy_report,
    most_common_action,
)
from training.uplift.protocol_record import describe_recorded, recorded_protocol

REGISTERED_NAME = model_name("uplift")
AT_RISK_PROBABILITY = 0.2
HELD_OUT_SHARE = 0.3


@dataclass
class UpliftRun:
    """The registered-to-be uplift model, its evaluation (simulated data only) and version."""

    model: UpliftModel
    report: PolicyReport | None = None
    version: str | None = None


def truth_frame(data: str, name: str) -> pd.DataFrame | None:
    """`<data>/_truth/<name>.parquet` when the source is a simulated world, else None."""
    path = Path(str(data)) / "_truth" / f"{name}.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def held_out_accounts(account_ids: pd.Series, share: float, seed: int) -> set[str]:
    """A seeded random share of accounts kept out of fitting to judge the policy."""
    accounts = np.sort(account_ids.astype(str).unique())
    rng = np.random.default_rng(seed)
    return set(rng.choice(accounts, size=int(len(accounts) * share), replace=False))


def at_risk(snapshots: pd.DataFrame, churn_truth: pd.DataFrame | None) -> pd.DataFrame:
    """Snapshots whose true churn probability is at least `AT_RISK_PROBABILITY`."""
    if churn_truth is None:
        return snapshots
    truth = churn_truth[["account_id", "as_of", "churn_probability"]].assign(
        account_id=lambda f: f["account_id"].astype(str), as_of=lambda f: pd.to_datetime(f["as_of"])
    )
    keyed = snapshots.assign(
        account_id=snapshots["account_id"].astype(str), as_of=pd.to_datetime(snapshots["as_of"])
    )
    joined = keyed.merge(truth, on=["account_id", "as_of"], how="inner")
    return joined[joined["churn_probability"] >= AT_RISK_PROBABILITY].reset_index(drop=True)


def train_uplift(
    dataset: pd.DataFrame,
    touchpoints: pd.DataFrame,
    as_of: datetime,
    playbook: Playbook | None,
    action_effects: pd.DataFrame | None = None,
    churn_truth: pd.DataFrame | None = None,
    config: UpliftConfig | None = None,
    seed: int = 0,
    causes: pd.DataFrame | None = None,
    structure: Structure | None = None,
    final: bool = True,
) -> UpliftRun:
    """Fit the uplift model on labels known at `as_of`; judge it when the truth is known.

    Args:
        dataset: `build_dataset` output.
        touchpoints: account_id, ts, type (only rows up to `as_of` are used).
        as_of: the training date T.
        playbook: gives each action its symptoms (the playbook serving uses).
        action_effects: the simulator's true effects; enables the policy evaluation.
        churn_truth: the simulator's true churn probabilities (defines at-risk accounts).
        config: uplift settings (default training/uplift.yaml).
        seed: random seed.
        causes: the simulator's dominant causes (`_truth/causes.parquet`); with
            `structure` adds the true-cause playbook to the report.
        structure: the world's causal structure (`retain train` reads `_truth/structure.json`).
        final: refit on every labelled account for serving; False (only to judge, with the
            truth given): the model is the one judged, fitted on the non-held-out accounts.
    """
    from training.split import labelled_rows

    config = config or load_uplift_config()
    touchpoints = touchpoints[pd.to_datetime(touchpoints["ts"]) <= pd.Timestamp(as_of)]
    labelled = labelled_rows(dataset, "churn", as_of)
    upsell_known = labelled_rows(dataset, "upsell", as_of) if "upsell" in dataset else None
    report = None
    if action_effects is not None:
        held_out = held_out_accounts(dataset["account_id"], HELD_OUT_SHARE, seed)
        fitting = labelled[~labelled["account_id"].astype(str).isin(held_out)]
        judged = dataset[
            dataset["account_id"].astype(str).isin(held_out)
            & (pd.to_datetime(dataset["as_of"]) < pd.Timestamp(as_of))
        ]
        grown = (
            None
            if upsell_known is None
            else upsell_known[~upsell_known["account_id"].astype(str).isin(held_out)]
        )
        model = fit_uplift(fitting, touchpoints, playbook, config, seed, upsell_rows=grown)
        report = evaluate_policies(
            model,
            at_risk(judged, churn_truth),
            action_effects,
            most_common_action(touchpoints),
            costs={action: config.cost(action) for action in ACTION_CODES},
            seed=seed,
            touchpoints=touchpoints,
            causes=causes,
            structure=structure,
            window_days=config.window_days,
        )
    if not final and report is not None:
        return UpliftRun(model, report)
    served = fit_uplift(labelled, touchpoints, playbook, config, seed, upsell_rows=upsell_known)
    return UpliftRun(served, report)


def run_uplift(
    data: str,
    dataset: pd.DataFrame,
    touchpoints: pd.DataFrame,
    as_of: datetime,
    playbook: Playbook | None,
    register: bool = True,
    report: Callable[[str], None] = print,
    seed: int = 0,
) -> UpliftRun:
    """`retain train`'s uplift step: train, judge, print, log to the active run, register."""
    import mlflow

    report("Learning next-best-actions from the CS team's touchpoints ...")
    outcome = train_uplift(
        dataset,
        touchpoints,
        as_of,
        playbook,
        truth_frame(data, "action_effects"),
        truth_frame(data, "churn"),
        seed=seed,
        causes=truth_frame(data, "causes"),
        structure=read_structure(Path(str(data)) / "_truth") or TODAY,
    )
    report(f"  {learned_line(outcome.model, touchpoints)}")
    if outcome.report is not None:
        report(outcome.report.describe())
        log_policy_report(outcome.report)
    recorded = recorded_protocol(outcome.model.config)
    if recorded is not None:  # measured with these very settings on other structures
        report(describe_recorded(recorded))
        mlflow.log_metrics(recorded)
    else:
        report(
            "  no protocol figures for these uplift settings: python -m training.uplift.protocol"
        )
    mlflow.log_dict(outcome.model.config.model_dump(), "uplift/config.json")
    mlflow.log_dict(outcome.model.n_treated_, "uplift/times_done.json")
    info = mlflow.pyfunc.log_model(
        name="uplift_model",
        python_model=outcome.model,
        registered_model_name=REGISTERED_NAME if register else None,
    )
    if register and info.registered_model_version is not None:
        outcome.version = str(info.registered_model_version)
        report(f"{REGISTERED_NAME} v{outcome.version}: {_set_aliases(outcome)}")
    return outcome


def _set_aliases(outcome: UpliftRun) -> str:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    version = str(outcome.version)
    client.set_registered_model_alias(REGISTERED_NAME, CHALLENGER, version)
    share = outcome.report.share("uplift") if outcome.report else None
    if share is not None:
        client.set_model_version_tag(REGISTERED_NAME, version, "value_share", f"{share:.4f}")
    try:
        champion = client.get_model_version_by_alias(REGISTERED_NAME, CHAMPION)
    except MlflowException:
        client.set_registered_model_alias(REGISTERED_NAME, CHAMPION, version)
        return "champion (first version)"
    best = champion.tags.get("value_share")
    if share is not None and (best is None or share >= float(best)):
        client.set_registered_model_alias(REGISTERED_NAME, CHAMPION, version)
        return f"champion (value share {share:.1%} vs v{champion.version})"
    return f"challenger (champion v{champion.version} kept)"
