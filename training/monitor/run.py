"""`retain monitor`: today's accounts against the champion's training reference.

Also the logged scores against the renewals that happened since. Reads the source, the
registry's churn champion and the store's score log; logs the results to MLflow (metrics,
plots, the report in words) and writes them as JSON for the API's `/metrics` gauges
(`serving/monitor_metrics.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.monitor import DEFAULT_RESULTS
from training.monitor.alarms import all_alarms
from training.monitor.bins import psi
from training.monitor.calibration import backdated, matured_scores, outcome_metrics
from training.monitor.drift import (
    MissingFeatures,
    feature_drift,
    score_drift,
    tier_mix,
    tier_shift,
)
from training.monitor.reference import TrainingReference
from training.monitor.report import MonitorReport
from training.monitor.thresholds import MonitorThresholds, load_thresholds
from training.monitor.tracking import diagnose

NO_REFERENCE = (
    "the churn champion v{version} was registered without a training reference (trained"
    " before monitoring existed): feature and score drift cannot be judged until the next"
    " `make retrain`"
)
NOTHING_TO_JUDGE = (
    "the score log is empty: nothing to judge yet against renewals (`retain score` and the"
    " API log what they serve; outcomes are judged once those accounts reach their renewal)"
)
BACKDATED = (
    "{count} matured score(s) made for dates more than {days:g} days before the data's end"
    " at the time (a backfill) are not judged: their outcome was partly known when they were"
    " made"
)
NOT_MATURED = (
    "none of the {logged} logged scores has reached its renewal yet: nothing to judge yet"
    " against outcomes"
)


class NoChampion(LookupError):
    """No churn champion is registered: there is nothing to monitor."""


def unreadable_features(
    feature_names: Sequence[str], present: set[str], missing_families: Sequence[str]
) -> list[str]:
    """Features the model learned from a table the source no longer has."""
    from features.contract import TABLES
    from features.definitions import FEATURE_NAMES, feature

    gone = []
    for name in feature_names:
        if name not in FEATURE_NAMES:
            gone.append(name)
            continue
        definition = feature(name)
        table = TABLES.get(definition.source)
        if (
            table is not None
            and not table.required
            and table.name not in present
            and definition.family not in missing_families
        ):
            gone.append(f"{name} (table {table.name})")
    return gone


def trained_before(reference: TrainingReference | None, horizon: datetime) -> datetime | None:
    """The champion's training date (its reference's latest), when it is before `horizon`.

    The snapshot the tracking diagnosis compares today's with first: while that model
    serves, a change in logging since it was trained stays diagnosed after the first month.
    """
    if reference is None or not reference.as_of:
        return None
    trained = pd.Timestamp(reference.as_of[-1])
    return trained.to_pydatetime() if trained < pd.Timestamp(horizon) else None


def earlier_snapshots(
    frames: pd.DataFrame, champion: str, trained_at: datetime | None, previous_at: datetime
) -> list[tuple[str, pd.DataFrame]]:
    """The snapshots the tracking diagnosis compares today's with, in words, in order."""
    earlier = []
    if trained_at is not None:
        at_training = frames.loc[frames["as_of"] == pd.Timestamp(trained_at)]
        earlier.append((f"when v{champion} was trained", at_training))
    if trained_at is None or pd.Timestamp(trained_at) != pd.Timestamp(previous_at):
        earlier.append(
            ("a month earlier", frames.loc[frames["as_of"] == pd.Timestamp(previous_at)])
        )
    return earlier


def monitor(
    data: str,
    model: Any,
    champion: str,
    score_log: pd.DataFrame,
    thresholds: MonitorThresholds,
    as_of: datetime | None = None,
    touchpoints: pd.DataFrame | None = None,
) -> tuple[MonitorReport, np.ndarray]:
    """Compare the latest snapshot (or `as_of`) with `model`'s reference, and scores with outcomes.

    The logged scores are held against the churn outcomes that matured since, except those
    made for an `as_of` well before the data's end at the time (`backdated`). `touchpoints`
    recorded through the service count with the source's, as at training and when serving.

    Returns:
        The report and the latest snapshot's churn probabilities.

    Raises:
        MissingFeatures: the source no longer gives features the model reads.
    """
    from features.compute import compute_features
    from features.definitions import feature
    from features.horizon import data_horizon, late_activity_warning
    from features.labels import compute_labels
    from features.source import load_source

    reference: TrainingReference | None = getattr(model, "reference", None)
    warnings: list[str] = []
    with load_source(data, touchpoints) as source:
        present = set(source.present)
        if touchpoints is not None and not touchpoints.empty:
            present.add("touchpoints")  # the store's give the family without the table
        gone = unreadable_features(
            model.feature_names, present, getattr(model, "missing_families", [])
        )
        if gone:
            raise MissingFeatures(gone)
        horizon = as_of or data_horizon(source.con)
        if as_of is None and (late := late_activity_warning(source.con)):
            warnings.append(late)  # a table's dates run past the events: not the end
        previous_at = (pd.Timestamp(horizon) - pd.DateOffset(months=1)).to_pydatetime()
        trained_at = trained_before(reference, horizon)
        wanted = {pd.Timestamp(t) for t in (trained_at, previous_at, horizon) if t is not None}
        frames = compute_features(source.con, [t.to_pydatetime() for t in sorted(wanted)])
        labels = pd.DataFrame(columns=["account_id", "as_of", "churn", "arr"])
        logged = score_log.loc[pd.to_datetime(score_log["as_of"]) <= horizon]
        if not logged.empty:
            dates = sorted(pd.to_datetime(logged["as_of"]).unique())
            labels = compute_labels(source.con, [pd.Timestamp(t) for t in dates], horizon)
    snapshot = frames.loc[frames["as_of"] == pd.Timestamp(horizon)].reset_index(drop=True)
    previous = frames.loc[frames["as_of"] == pd.Timestamp(previous_at)].reset_index(drop=True)
    absent = [name for name in model.feature_names if name not in snapshot.columns]
    if absent:
        raise MissingFeatures(absent)
    probability = model.predict_proba(snapshot)
    tiers_now = tier_mix(model.tier(probability))
    notes: list[str] = []
    drift = pd.DataFrame(
        columns=["feature", "psi", "js", "missing_then", "missing_now", "natural_psi", "psi_month"]
    )
    score: dict[str, float] = {}
    score_month = float("nan")
    mix: dict[str, tuple[float, float]] = {}
    if reference is None:
        notes.append(NO_REFERENCE.format(version=champion))
    else:
        watched = [name for name in reference.features if name in snapshot.columns]
        drift = feature_drift(reference, snapshot, watched, previous)
        score = score_drift(reference, probability)
        if reference.score is not None and len(previous):
            score_month = psi(
                reference.score.shares_of(model.predict_proba(previous)),
                reference.score.shares_of(probability),
            )
        mix = {
            tier: (reference.tier_mix.get(tier, 0.0), tiers_now.get(tier, 0.0))
            for tier in sorted({*reference.tier_mix, *tiers_now})
        }
    o = thresholds.outcomes
    made_late = backdated(logged, o.backdated_days)
    matured = matured_scores(logged.loc[~made_late], labels)
    left_out = len(matured_scores(logged.loc[made_late], labels))
    if score_log.empty:
        notes.append(NOTHING_TO_JUDGE)
    elif matured.empty and not left_out:
        notes.append(NOT_MATURED.format(logged=len(logged)))
    if left_out:
        notes.append(BACKDATED.format(count=left_out, days=o.backdated_days))
    outcomes, deciles = outcome_metrics(matured, o.calibration_alpha, o.calibration_gap)
    for version, matured_count in zip(outcomes["version"], outcomes["matured"], strict=True):
        if int(matured_count) < o.min_matured:
            notes.append(
                f"churn model v{version}: only {matured_count} matured scores (fewer than"
                f" {o.min_matured}), shown but not judged"
            )
    descriptions = {name: feature(name).description for name in drift["feature"]}
    shift = tier_shift({t: a for t, (a, _) in mix.items()}, tiers_now) if mix else {}
    alarms = all_alarms(
        drift, descriptions, score, score_month, shift, outcomes, thresholds, champion
    )
    earlier = earlier_snapshots(frames, champion, trained_at, previous_at)
    tracking = diagnose(snapshot, earlier, thresholds.tracking, alarms)
    report = MonitorReport(
        as_of=pd.Timestamp(horizon).to_pydatetime(),
        champion=champion,
        accounts=len(snapshot),
        features=drift,
        score=score,
        tier_mix=mix,
        outcomes=outcomes,
        deciles=deciles,
        alarms=alarms,
        notes=notes,
        warnings=warnings,
        tracking=tracking,
        backdated=left_out,
        reference_as_of=reference.as_of if reference is not None else (),
    )
    return report, probability


def load_champion(client: Any) -> tuple[str, Any]:
    """The churn champion's version and its `AccountModel`.

    Raises:
        NoChampion: no churn champion is registered.
    """
    from training.registry import champion_version, load_account_model

    version = champion_version(client, "churn")
    if version is None:
        raise NoChampion("no churn champion is registered: run `retain train` first")
    return version, load_account_model("churn", version)


def monitor_champion(
    data: str,
    model: Any,
    version: str,
    store_url: str,
    thresholds: MonitorThresholds,
    as_of: datetime | None = None,
) -> tuple[MonitorReport, np.ndarray]:
    """`monitor` with the score log and the recorded touchpoints from the store at `store_url`.

    The log as the monitor judges it: one score per account, model version and month
    (`Store.monthly_scores`), so daily scoring neither fills memory nor counts a renewal
    thirty times a month.
    """
    from store import Store

    with Store(store_url) as store:
        score_log = store.monthly_scores()
        touchpoints = store.touchpoints()
    return monitor(data, model, version, score_log, thresholds, as_of, touchpoints)


def run_monitor(
    data: str,
    tracking_uri: str | None,
    store_url: str,
    thresholds_path: Path | None = None,
    as_of: datetime | None = None,
    results: Path | None = DEFAULT_RESULTS,
    log_to_mlflow: bool = True,
) -> MonitorReport:
    """Load the churn champion and the score log, monitor, log to MLflow, write `results`.

    Raises:
        NoChampion: no churn champion is registered.
        MissingFeatures: the source no longer gives features the champion reads.
        ThresholdsError: the thresholds file is wrong.
        StoreUnavailable: the score log cannot be read.
    """
    from mlflow.tracking import MlflowClient

    from training.tracking import configure_mlflow

    thresholds = load_thresholds(thresholds_path)
    configure_mlflow(tracking_uri)
    version, model = load_champion(MlflowClient())
    report, probability = monitor_champion(data, model, version, store_url, thresholds, as_of)
    if log_to_mlflow:
        log_report(report, model, probability, thresholds)
    if results is not None:
        report.write_json(results)
    return report


def log_report(
    report: MonitorReport, model: Any, probability: np.ndarray, thresholds: MonitorThresholds
) -> str:
    """Log one monitor run to MLflow: metrics, tables, plots and the report in words."""
    import mlflow

    from training.monitor.plots import calibration_plot, feature_shift_plot, score_shift_plot
    from training.tracking import log_figures

    with mlflow.start_run(run_name=f"monitor as of {report.as_of:%Y-%m-%d}") as run:
        mlflow.set_tags(
            {"kind": "monitor", "champion": report.champion, "alarms": len(report.alarms)}
        )
        mlflow.log_metrics({k.replace(":", "_"): v for k, v in report.metrics().items()})
        mlflow.log_text("\n".join(report.lines(top=15)) + "\n", "monitor/report.txt")
        if not report.features.empty:
            mlflow.log_text(report.features.to_csv(index=False), "monitor/features.csv")
        if not report.outcomes.empty:
            mlflow.log_text(report.outcomes.to_csv(index=False), "monitor/outcomes.csv")
        figures = {}
        if not report.features.empty:
            figures["feature_shift.png"] = feature_shift_plot(report.features, thresholds.drift.psi)
        reference = getattr(model, "reference", None)
        if reference is not None and reference.score is not None:
            figures["score_shift.png"] = score_shift_plot(reference.score, probability)
        if report.deciles:
            figures["calibration.png"] = calibration_plot(report.deciles)
        log_figures(figures, "monitor")
        return str(run.info.run_id)
