"""Train the next-best-action models inside `retain train`, judge them, log and register them.

Called from `training.train.train` inside its MLflow run. Only what was known at the
training date T is used: touchpoints up to T and churn labels whose renewal fell by T.
When the source is a simulated world (`_truth/` beside the data), the learned policy is
judged on held-out accounts against the true action effects, and the model that is
registered is then refit on every account.

Any source, simulated or not, also gets the check a company can run on itself: a model
fitted without a held-out share of accounts is judged on their history by `retain
evaluate-policy`'s doubly robust estimate. The model is logged in the churn run as the pyfunc
`uplift_model` and registered as `retain-uplift`; a new version is `challenger`, and becomes
`champion` when there is none yet or its share of the oracle's value is at least the
champion's (simulated data), unless the held-out history says its actions lose money: the
whole interval of their estimated value net of cost below zero. Without a champion the
playbook ranks actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from actions.playbook import Playbook
from actions.ranking import NO_ACTION
from features.contract import ACTION_CODES
from simulator.structure import TODAY, Structure, read_structure
from training.names import CHALLENGER, CHAMPION, model_name
from training.uplift.config import UpliftConfig, load_uplift_config
from training.uplift.learned import (
    assumed_line,
    assumed_selection,
    capped_shares,
    fixes_line,
    learned_line,
)
from training.uplift.model import UpliftModel, fit_uplift
from training.uplift.offpolicy import PolicyEstimate, cs_team_actions
from training.uplift.offpolicy_run import LEVEL, evaluate_on_history
from training.uplift.policy_eval import (
    PolicyReport,
    evaluate_policies,
    log_policy_report,
    most_common_action,
)
from training.uplift.protocol_record import describe_recorded, recorded_protocol

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

    from training.model import AccountModel

REGISTERED_NAME = model_name("uplift")
AT_RISK_PROBABILITY = 0.2
HELD_OUT_SHARE = 0.3
MIN_CHECK_ROWS = 100  # held-out labelled snapshots below which the history check is skipped


@dataclass
class UpliftRun:
    """The registered-to-be uplift model, its evaluation (simulated data only) and version."""

    model: UpliftModel
    report: PolicyReport | None = None
    version: str | None = None
    check: HistoryCheck | None = None


@dataclass
class HistoryCheck:
    """The learned policy, the playbook and the CS team on held-out accounts' history."""

    estimates: list[PolicyEstimate]
    accounts: int
    snapshots: int

    @property
    def learned(self) -> PolicyEstimate:
        return next(e for e in self.estimates if e.policy == "learned")

    @property
    def loses(self) -> bool:
        """Whether the learned actions lose money by the held-out history, surely (interval)."""
        return self.learned.high < 0

    def describe(self) -> str:
        lines = [
            f"  Held-out history ({self.accounts} accounts, {self.snapshots} labelled snapshots"
            f" not fitted on): ARR saved net of cost against doing nothing, doubly robust,"
            f" {100 * LEVEL:.0f}% interval (`retain evaluate-policy` also says where history"
            " is too thin to judge):",
            *(e.line(LEVEL, thin=False) for e in self.estimates),
        ]
        if self.loses:
            lines.append(
                "  By this history the learned actions cost more than they save:"
                " not made champion (the playbook ranks actions until a model that does not"
                " lose is trained)."
            )
        return "\n".join(lines)


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
    held_out = held_out_accounts(dataset["account_id"], HELD_OUT_SHARE, seed)
    fitting = labelled[~labelled["account_id"].astype(str).isin(held_out)]
    grown = (
        None
        if upsell_known is None
        else upsell_known[~upsell_known["account_id"].astype(str).isin(held_out)]
    )
    checked = checkable_rows(labelled, held_out, touchpoints, config.window_days)
    model: UpliftModel | None = None
    if action_effects is not None or checked is not None:  # else no use for a held-out fit
        model = fit_uplift(
            fitting,
            touchpoints,
            playbook,
            config,
            seed,
            upsell_rows=grown,
            history=dataset[~dataset["account_id"].astype(str).isin(held_out)],
            as_of=as_of,
        )
    check = (
        None
        if model is None or checked is None
        else HistoryCheck(
            evaluate_on_history(checked, touchpoints, model, playbook, as_of),
            int(checked["account_id"].nunique()),
            len(checked),
        )
    )
    if action_effects is not None and model is not None:
        judged = dataset[
            dataset["account_id"].astype(str).isin(held_out)
            & (pd.to_datetime(dataset["as_of"]) < pd.Timestamp(as_of))
        ]
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
    if not final and model is not None and report is not None:
        return UpliftRun(model, report, check=check)
    served = fit_uplift(
        labelled,
        touchpoints,
        playbook,
        config,
        seed,
        upsell_rows=upsell_known,
        history=dataset,
        as_of=as_of,
    )
    return UpliftRun(served, report, check=check)


def checkable_rows(
    labelled: pd.DataFrame, held_out: set[str], touchpoints: pd.DataFrame, window_days: int
) -> pd.DataFrame | None:
    """The held-out accounts' labelled snapshots `evaluate-policy` can judge (None: too few).

    Too few: under `MIN_CHECK_ROWS` snapshots with an ARR, or no churn or no action (a
    touchpoint whose type is an action code) after any of them.
    """
    rows = labelled[labelled["account_id"].astype(str).isin(held_out) & labelled["arr"].notna()]
    if len(rows) < MIN_CHECK_ROWS or rows["churn"].nunique() < 2:
        return None
    taken = cs_team_actions(rows.reset_index(drop=True), touchpoints, window_days)
    return None if all(action == NO_ACTION for action in taken) else rows


def run_uplift(
    data: str,
    dataset: pd.DataFrame,
    touchpoints: pd.DataFrame,
    as_of: datetime,
    playbook: Playbook | None,
    register: bool = True,
    report: Callable[[str], None] = print,
    seed: int = 0,
    churn_model: AccountModel | None = None,
) -> UpliftRun:
    """`retain train`'s uplift step: train, judge, print, log to the active run, register.

    `churn_model`: the churn model trained in the same run (`AccountModel`), whose scores
    bound the effects when they are ranked; `assumed_line` says where the assumed hidden
    selection takes the whole score (`capped_shares`). Without it, the learner's baseline.
    """
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
    checks = getattr(outcome.model, "risk_losses_", {})  # how the churn baselines rank, if read
    mlflow.log_metrics({f"uplift_baseline_oof_{name}": value for name, value in checks.items()})
    now = dataset[pd.to_datetime(dataset["as_of"]) == pd.to_datetime(dataset["as_of"]).max()]
    assumed, capped = {}, None  # the training set's latest month
    if outcome.model.config.hidden_risk() > 0 and not now.empty:
        effects = outcome.model.effects(now)  # read once for both lines
        assumed = assumed_selection(outcome.model, now, effects)
        risk = (
            outcome.model.baseline_risk(now) if churn_model is None
            else churn_model.predict_proba(now)
        )  # fmt: skip
        capped = capped_shares(effects, np.asarray(risk, dtype=float))
    line = assumed_line(assumed, outcome.model.config, capped)
    if line is not None:
        report(f"  {line}")
        figures = {a: {"as_used": u, "history_alone": h} for a, (u, h) in assumed.items()}
        mlflow.log_dict(figures, "uplift/assumed_selection.json")
    seen = fixes_line(outcome.model)
    if seen is not None:
        report(f"  {seen}")
        fixes = [asdict(fix) for fix in outcome.model.fixes_]
        mlflow.log_dict({"fixes": fixes}, "uplift/fixes.json")
    if outcome.report is not None:
        report(outcome.report.describe())
        log_policy_report(outcome.report)
    if outcome.check is not None:
        report(outcome.check.describe())
        mlflow.log_metrics(
            {f"uplift_history_{e.policy}": e.value for e in outcome.check.estimates}
            | {"uplift_history_learned_high": outcome.check.learned.high}
        )
    else:
        report(
            "  Held-out history too thin to check the learned actions on (under"
            f" {MIN_CHECK_ROWS} labelled snapshots, or no churn or no action among them)."
        )
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
        report(f"{REGISTERED_NAME} v{outcome.version}: {_set_aliases(outcome, as_of)}")
    return outcome


def _set_aliases(outcome: UpliftRun, as_of: datetime | None = None) -> str:
    """Make the new version challenger, and champion when it should serve; say why.

    Refused: held-out history says its actions surely lose money. On a simulated world the
    value share against the true effects decides. On a company's own data no version can
    be scored against true effects, and two versions' held-out checks judge different
    accounts, so the fit on the latest history (with the touchpoints recorded since)
    replaces the champion; one trained as of an earlier date than the champion does not.
    The reason is tagged `promotion` on the version (`retain models`).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    version = str(outcome.version)
    client.set_registered_model_alias(REGISTERED_NAME, CHALLENGER, version)
    share = outcome.report.share("uplift") if outcome.report else None
    if share is not None:
        client.set_model_version_tag(REGISTERED_NAME, version, "value_share", f"{share:.4f}")
    if as_of is not None:
        client.set_model_version_tag(REGISTERED_NAME, version, "as_of", as_of.isoformat())
    if outcome.check is not None:
        learned = outcome.check.learned
        client.set_model_version_tag(
            REGISTERED_NAME,
            version,
            "history_check",
            f"{learned.value:.0f} [{learned.low:.0f}, {learned.high:.0f}]",
        )
    try:
        champion = client.get_model_version_by_alias(REGISTERED_NAME, CHAMPION)
    except MlflowException:
        champion = None
    said = _decide(outcome, share, as_of, champion)
    if said.startswith("champion"):
        client.set_registered_model_alias(REGISTERED_NAME, CHAMPION, version)
    client.set_model_version_tag(REGISTERED_NAME, version, "promotion", said)
    return said


def _decide(
    outcome: UpliftRun,
    share: float | None,
    as_of: datetime | None,
    champion: ModelVersion | None,
) -> str:
    """`champion (...)` or `challenger (...)`, with the reason (see `_set_aliases`)."""
    if outcome.check is not None and outcome.check.loses:
        return "challenger (not champion: its actions lose money on held-out history)"
    if champion is None:
        return "champion (first version)"
    best = champion.tags.get("value_share")
    if share is not None:
        if best is None or share >= float(best):
            return f"champion (value share {share:.1%} vs v{champion.version})"
        return (
            f"challenger (champion v{champion.version} kept: value share {share:.1%}"
            f" vs {float(best):.1%})"
        )
    theirs = champion.tags.get("as_of")
    if as_of is not None and theirs is not None and as_of < datetime.fromisoformat(theirs):
        return (
            f"challenger (champion v{champion.version} kept: it was trained on history up to"
            f" {theirs[:10]}, this one only up to {as_of:%Y-%m-%d})"
        )
    return (
        f"champion (replaces v{champion.version}: on a company's own data no version can be"
        " scored against true effects, so the fit on the latest history serves unless"
        " held-out history says its actions lose money)"
    )
