"""`make retrain` (for cron): retrain, gate, promote only a better model, monitor, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from training.monitor.report import MonitorReport

DEFAULT_REPORTS = Path("outputs/retrain")


@dataclass
class RetrainOutcome:
    """One scheduled retrain: the training run, the champion's monitor run and the page.

    `monitor` judges the champion after retraining (its alarms decide the exit code and
    go to `/metrics`); the page tells what changed while the previous champion served.
    """

    training: Any  # training.train.TrainingResult
    monitor: MonitorReport
    page: Path
    previous: MonitorReport | None = None  # the replaced champion's run, shown on the page


def learned_until(trained: Any) -> datetime | None:
    """The latest account snapshot the new churn model learned from (training, calibration)."""
    import pandas as pd

    churn = trained.targets.get("churn")
    if churn is None:
        return None
    dates = pd.concat([churn.split.train["as_of"], churn.split.validation["as_of"]])
    return pd.Timestamp(dates.max()).to_pydatetime() if len(dates) else None


def retrain(
    data: str,
    tracking_uri: str | None,
    store_url: str,
    playbook: Any = None,
    reports: Path = DEFAULT_REPORTS,
    thresholds: Path | None = None,
    results: Path | None = None,
    as_of: datetime | None = None,
    report: Callable[[str], None] = print,
    train_options: dict[str, Any] | None = None,
) -> RetrainOutcome:
    """Retrain with the promotion gate, then monitor the champion and write the page.

    Args:
        data: the source.
        tracking_uri: MLflow store (registry).
        store_url: the service's store (the score log, the touchpoints recorded through it).
        playbook: the playbook serving uses (for the next-best-action learner).
        reports: folder of the pages; the page is `<as_of>.md`, plus `latest.md`.
        thresholds: the monitor's thresholds YAML (default: the shipped one).
        results: where the monitor's JSON for `/metrics` goes (default `var/monitor/`).
        as_of: train and monitor as of this date (default: the data's horizon).
        report: where progress lines go.
        train_options: more keyword arguments for `training.train.train` (`config`: the
            training parameters, as `retain retrain --config` reads them).
    """
    import shutil

    from mlflow.tracking import MlflowClient

    from training.monitor import DEFAULT_RESULTS
    from training.monitor.plots import calibration_plot, feature_shift_plot, score_shift_plot
    from training.monitor.run import NoChampion, load_champion, log_report, monitor_champion
    from training.monitor.thresholds import load_thresholds
    from training.tracking import configure_mlflow
    from training.train import train

    limits = load_thresholds(thresholds)
    configure_mlflow(tracking_uri)
    try:
        before: tuple[str, Any] | None = load_champion(MlflowClient())
    except NoChampion:
        before = None
    options = dict(train_options or {})
    if "recorded_touchpoints" not in options:  # as `retain train`: the store's count too
        from store import Store

        with Store(store_url) as store:
            options["recorded_touchpoints"] = store.touchpoints()
    trained = train(
        data, as_of, report=report, tracking_uri=tracking_uri, playbook=playbook, **options
    )
    version, model = load_champion(MlflowClient())
    found, probability = monitor_champion(data, model, version, store_url, limits, as_of)
    # the page tells what changed while the model in use this month served
    shown, shown_model, shown_probability, replaced = found, model, probability, None
    if before is not None and before[0] != version:
        replaced = found
        shown_model = before[1]
        shown, shown_probability = monitor_champion(
            data, shown_model, before[0], store_url, limits, as_of
        )
        if found.tracking is None and shown.tracking is not None:
            # the new champion's reference is today's accounts: the finding is the data's, so
            # it stays (without the old champion's alarm count) for `/metrics` and the output
            found.tracking = replace(shown.tracking, event_alarms=0, alarms=0)
    log_report(found, model, probability, limits)
    found.write_json(results or DEFAULT_RESULTS)
    figures: dict[str, Any] = {}
    if not shown.features.empty:
        figures["shifts.png"] = feature_shift_plot(shown.features, limits.drift.psi)
    reference = getattr(shown_model, "reference", None)
    if reference is not None and reference.score is not None:
        figures["scores.png"] = score_shift_plot(reference.score, shown_probability)
    if shown.deciles:
        figures["calibration.png"] = calibration_plot(shown.deciles)
    from training.monitor.retrain_report import write_retrain_report

    decisions = {t: r.decision for t, r in trained.targets.items()}
    page = write_retrain_report(
        reports / f"{found.as_of:%Y-%m-%d}.md",
        shown,
        decisions,
        trained.skipped,
        figures,
        replaced_by=replaced,
        learned_until=learned_until(trained),
    )
    shutil.copyfile(page, reports / "latest.md")
    report(f"Wrote the retrain report to {page}")
    return RetrainOutcome(trained, found, page, shown if replaced is not None else None)
