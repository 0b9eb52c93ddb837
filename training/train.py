"""`retain train`: build the training set, fit, evaluate, track and register both models."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import duckdb
import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from actions.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook
from actions.tiers import RISK_TIERS, cut_points, risk_tiers
from training.baselines import HealthScoreBaseline, LogisticBaseline, simple_features
from training.calibration import Calibrator
from training.config import TrainingConfig, load_config
from training.diagnosis import load_reader
from training.evaluate import evaluate, paired_auc_gap
from training.model import AccountModel, healthy_band, healthy_reference
from training.monitor.reference import reference_at
from training.names import model_name
from training.plots import evaluation_plots
from training.registry import PromotionDecision, gate
from training.search import PLAIN_PARAMS, SearchResult, fit_booster, search_booster
from training.split import TARGETS, NotEnoughHistory, TimeSplit, time_split
from training.tracking import configure_mlflow, flatten, log_account_model, log_figures, log_metrics
from training.truth import (
    compare_with_truth,
    describe,
    explanations_against_causes,
    truth_file,
)
from training.uplift import UpliftRun, run_uplift

Report = Callable[[str], None]


@dataclass
class TargetResult:
    """Everything learned and measured for one target."""

    target: str
    split: TimeSplit
    model: AccountModel
    search: SearchResult
    metrics: dict[str, dict[str, float]]  # model / logistic_regression / health_score
    test_probability: dict[str, np.ndarray]
    truth: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, tuple[float, float]] = field(default_factory=dict)  # baseline: (gap, se)
    version: str | None = None
    decision: PromotionDecision | None = None

    @cached_property
    def terms(self) -> list[dict[str, Any]]:
        """The test period's calibration per term-length band (`term_calibration`), once."""
        return term_calibration(self)


@dataclass
class TrainingResult:
    """One training run: the date it used, the MLflow run and each target's result."""

    as_of: datetime
    dataset_rows: int
    feature_names: list[str]
    targets: dict[str, TargetResult]
    run_id: str | None = None
    uplift: UpliftRun | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # target -> why it was not trained
    missing_families: list[str] = field(default_factory=list)  # no data at training


class NothingTrained(ValueError):
    """No model could be trained (the churn model at least is needed to score)."""


def first_snapshot(con: duckdb.DuckDBPyConnection, warmup_days: int) -> datetime:
    """The first month start with `warmup_days` of usage history before it."""
    first = con.execute("SELECT min(ts) FROM events").fetchall()[0][0] + timedelta(days=warmup_days)
    return datetime(first.year + first.month // 12, first.month % 12 + 1, 1)


def build_training_set(
    data: str,
    as_of: datetime | None,
    config: TrainingConfig,
    touchpoints: pd.DataFrame | None = None,
    report: Report | None = None,
) -> tuple[pd.DataFrame, datetime]:
    """Monthly snapshots with features and labels from `data`, up to `as_of` (default horizon).

    `touchpoints` (recorded through the service, `store.Store.touchpoints()`) count in the
    touchpoints features with the source's, each touchpoint once, as when serving scores.
    `report`: where the warning on late dates goes when the horizon is taken (a table
    running days past the latest event, `features.horizon.late_activity_warning`).
    """
    from features.dataset import build_dataset
    from features.horizon import data_horizon, late_activity_warning
    from features.source import load_source
    from features.today_values import rewritten_employees
    from features.tracking_start import (
        first_term,
        late_tracking_note,
        tracking_starts,
        unknown_before_tracking,
    )

    with load_source(data, touchpoints) as source:
        if as_of is None:
            as_of = data_horizon(source.con)
            if report is not None and (warning := late_activity_warning(source.con)):
                report(warning)
        starts = tracking_starts(source.con)
        start = first_snapshot(source.con, config.warmup_days)
        if config.learn_before_tracking and (term := first_term(source.con)) is not None:
            start = min(start, term)
        elif report is not None and (note := late_tracking_note(source.con, config.warmup_days)):
            report(note)
        dataset = build_dataset(
            source.con, start, as_of, every=config.every, upsell_min_rise=config.upsell_min_rise
        )
        rewritten = rewritten_employees(source.con)
    if rewritten is not None:  # today's CRM value, cleared once accounts left: a leak
        dataset = dataset.assign(employees=np.nan)  # unknown: no model reads it (`train`)
        if report is not None:
            report(rewritten)
    dataset, said = unknown_before_tracking(dataset, starts, start)
    if report is not None and said:
        report(f"Tracking began late: {'; '.join(said)}.")
    return dataset, as_of


def touchpoints_until(
    data: str, as_of: datetime, recorded: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The CS team's touchpoints done up to `as_of`, each touchpoint once.

    The source's touchpoints table, and those recorded through the service (`recorded`,
    from `store.Store.touchpoints`); one the CRM exported back into the source (the same
    `touchpoint_id` at the same account) counts once (`store.combine_touchpoints`).
    """
    from features.source import load_source
    from store import combine_touchpoints
    from training.uplift.data import load_touchpoints

    with load_source(data) as source:
        from_source = load_touchpoints(source.con, as_of)
    return combine_touchpoints(from_source, recorded, until=as_of)


def fit_target(
    dataset: pd.DataFrame,
    target: str,
    as_of: datetime,
    config: TrainingConfig,
    feature_names: list[str],
    healthy: dict[str, float],
    report: Report = print,
    split: TimeSplit | None = None,
) -> TargetResult:
    """Split (unless `split` is given), search, calibrate and evaluate one target."""
    split = split or time_split(dataset, target, as_of, config.split)
    report(split.describe())

    def on_trial(index: int, params: object, auc: float) -> None:
        report(f"  {target} candidate {index + 1}: validation ROC-AUC {auc:.3f}")

    simple = simple_features(feature_names)
    search = search_booster(
        split.train,
        split.validation,
        feature_names,
        target,
        config.search,
        config.seed,
        on_trial,
        simple_features=simple,
    )
    chosen = list(search.feature_names) or feature_names
    report(f"  {target}: chose the {search.kind} candidate ({len(chosen)} features)")
    validation_x = split.validation[chosen].to_numpy(dtype=float, na_value=np.nan)
    validation_raw = search.booster.predict(validation_x, raw_score=True, num_threads=1)
    calibrator = Calibrator(config.calibration).fit(validation_raw, split.validation[target])
    validation_p = calibrator.transform(validation_raw)
    tiers = config.tiers
    thresholds = cut_points(validation_p, tiers.high_share, tiers.medium_share)
    if target == "churn":
        shares = {t: float(np.mean(risk_tiers(validation_p, thresholds) == t)) for t in RISK_TIERS}
        if (
            max(abs(shares["high"] - tiers.high_share), abs(shares["medium"] - tiers.medium_share))
            > 0.05
        ):
            report(
                f"  churn: risk tiers on validation {shares['high']:.0%} high,"
                f" {shares['medium']:.0%} medium, {shares['low']:.0%} low (configured"
                f" {tiers.high_share:.0%} / {tiers.medium_share:.0%}): many accounts share one"
                " score, and accounts with one score get one tier"
            )
    typical = {name: healthy[name] for name in chosen}
    model = AccountModel(target, search.booster, calibrator, chosen, thresholds, typical)

    test = split.test
    logistic = LogisticBaseline(feature_names, target).fit(split.train)
    health = HealthScoreBaseline(target).fit(split.train, split.validation)
    probabilities = {
        "model": model.predict_proba(test),
        "plain_lightgbm": plain_lightgbm(split, target, simple, config).predict_proba(test),
        "logistic_regression": logistic.predict_proba(test),
        "health_score": health.predict_proba(test),
    }
    arr = test["arr"].to_numpy(dtype=float) if target == "churn" else None
    outcome = test[target].to_numpy()
    metrics = {name: evaluate(outcome, p, test["as_of"], arr) for name, p in probabilities.items()}
    gaps = {
        name: paired_auc_gap(
            outcome, probabilities["model"], probabilities[name], test["account_id"],
            seed=config.seed,
        )
        for name in ("plain_lightgbm", "logistic_regression", "health_score")
    }  # fmt: skip
    result = TargetResult(target, split, model, search, metrics, probabilities)
    result.gaps = gaps
    return result


def plain_lightgbm(
    split: TimeSplit, target: str, features: list[str], config: TrainingConfig
) -> AccountModel:
    """The plain baseline: unconstrained LightGBM on `features`, Platt-calibrated on validation."""
    train_x = split.train[features].to_numpy(dtype=float, na_value=np.nan)
    validation_x = split.validation[features].to_numpy(dtype=float, na_value=np.nan)
    validation_y = split.validation[target].to_numpy(dtype=float)
    booster = fit_booster(
        train_x,
        split.train[target].to_numpy(dtype=float),
        validation_x,
        validation_y,
        PLAIN_PARAMS,
        config.search,
        config.seed,
    )
    raw = booster.predict(validation_x, raw_score=True, num_threads=1)
    calibrator = Calibrator("platt").fit(raw, validation_y)
    return AccountModel(target, booster, calibrator, features, {}, {})


def _log_target(
    result: TargetResult, register: bool, config: TrainingConfig, report: Report
) -> None:
    target, test = result.target, result.split.test
    mlflow.log_params({f"{target}.{k}": v for k, v in result.split.summary().items()})
    mlflow.log_params(
        {f"{target}.chosen.{k}": v for k, v in result.search.params.model_dump().items()}
    )
    mlflow.log_params(
        {
            f"{target}.chosen.rounds": result.search.best_iteration,
            f"{target}.tier_thresholds": result.model.tier_thresholds,
        }
    )
    mlflow.log_param(f"{target}.chosen.kind", result.search.kind)
    mlflow.log_metric(f"{target}_validation_roc_auc", result.search.validation_auc)
    for name, (gap, se) in result.gaps.items():
        mlflow.log_metrics({f"{target}_auc_gap_vs_{name}": gap, f"{target}_auc_gap_se_{name}": se})
    for name, (_, accounts) in positive_accounts(result).items():
        mlflow.log_metric(f"{target}_{name}_positive_accounts", accounts)
    for band in result.terms:
        key = "short_terms" if band["band"] == TERM_BANDS[0] else "long_terms"
        mlflow.log_metrics(
            {
                f"{target}_test_{key}_predicted": band["predicted"],
                f"{target}_test_{key}_observed": band["observed"],
            }
        )
    mlflow.log_text(result.search.trials.to_csv(index=False), f"search/{target}_candidates.csv")
    for name, metrics in result.metrics.items():
        log_metrics(metrics, f"{target}_{name}_test_" if name != "model" else f"{target}_test_")
    log_metrics(result.truth, f"{target}_truth_")
    contributions = result.model.contributions(test)
    log_figures(
        evaluation_plots(
            test[target].to_numpy(),
            result.test_probability,
            contributions,
            test[result.model.feature_names],
            target,
        )
    )
    info = log_account_model(result.model, test, model_name(target) if register else None)
    if register and info.registered_model_version is not None:
        result.version = str(info.registered_model_version)
        result.decision = gate(
            MlflowClient(), target, result.version, test, result.metrics["model"], config.promotion
        )
        report(
            f"{model_name(target)} v{result.version}: "
            f"{'champion' if result.decision.promoted else 'challenger'} ({result.decision.reason})"
        )


def trainable_splits(
    dataset: pd.DataFrame, as_of: datetime, config: TrainingConfig, report: Report = print
) -> tuple[dict[str, TimeSplit], dict[str, str]]:
    """Each model's split, or the one-line reason it cannot be trained.

    Raises:
        NothingTrained: when the churn model cannot be trained (nothing could score).
    """
    splits: dict[str, TimeSplit] = {}
    skipped: dict[str, str] = {}
    for target in TARGETS:
        try:
            splits[target] = time_split(dataset, target, as_of, config.split)
        except NotEnoughHistory as reason:
            skipped[target] = str(reason)
            report(str(reason))
    if "churn" not in splits:
        raise NothingTrained(
            "No model trained, nothing registered: "
            + " ".join(skipped.values())
            + " The churn model is needed to score; train again on a longer history."
        )
    return splits, skipped


def model_features(dataset: pd.DataFrame) -> list[str]:
    """The features the models read: the catalogue's in `dataset`, in catalogue order.

    A feature read from a column the contract keeps no history of (today's CRM value,
    `features.today_values.TODAY_VALUE_FEATURES`) is left out where it is unknown at every
    snapshot: `build_training_set` makes `employees` so when churned accounts' sizes were
    cleared, which would teach the models that an unknown size foretells churn.
    """
    from features.definitions import FEATURE_NAMES
    from features.today_values import TODAY_VALUE_FEATURES

    return [
        name
        for name in FEATURE_NAMES
        if name in dataset.columns
        and not (name in TODAY_VALUE_FEATURES and dataset[name].isna().all())
    ]


def families_without_data(dataset: pd.DataFrame, feature_names: list[str]) -> list[str]:
    """Feature families none of whose features varies in `dataset` (e.g. a missing table).

    A family whose every feature is unknown or one constant (a missing `tickets` table
    gives every account zero tickets) tells nothing; its features are never shown as
    drivers or used by playbook rules.
    """
    from features.definitions import feature

    varies: dict[str, bool] = {}
    for name in feature_names:
        family = feature(name).family
        varies[family] = varies.get(family, False) or dataset[name].nunique(dropna=True) > 1
    return sorted(family for family, seen in varies.items() if not seen)


def train(
    data: str,
    as_of: datetime | None = None,
    config: TrainingConfig | None = None,
    register: bool = True,
    report: Report = print,
    dataset: pd.DataFrame | None = None,
    tracking_uri: str | None = None,
    uplift: bool = True,
    playbook: Playbook | None = None,
    recorded_touchpoints: pd.DataFrame | None = None,
) -> TrainingResult:
    """Train, evaluate, log and register the churn and upsell models.

    Args:
        data: the source (directory of files or database URL).
        as_of: training date T; only labels known at T are used. Default: the data's horizon.
        config: training parameters (default `training/defaults.yaml`).
        register: register the models and run the promotion gate.
        report: where progress lines go.
        dataset: an already built training set for `data` (skips building it).
        tracking_uri: MLflow store (default `sqlite:///mlruns/mlflow.db`).
        uplift: also learn next-best-action effects from the touchpoints (same run).
        playbook: the playbook serving uses; its rules give each action its symptoms in
            the uplift learner (default: the shipped `actions/playbook.yaml`).
        recorded_touchpoints: touchpoints recorded through the service (the store's), read
            with the source's, in the features (as scoring reads them) and in the uplift
            learner's treatments; one the CRM also exported (same touchpoint_id) counts once.
            A given `dataset` is used as it is.

    Returns:
        The models, metrics, truth comparisons and registry decisions.
    """
    config = config or load_config()
    started = time.monotonic()
    if dataset is None or as_of is None:
        report(f"Building the training set from {data} ...")
        dataset, as_of = build_training_set(
            data, as_of, config, recorded_touchpoints, report=report
        )
    feature_names = model_features(dataset)
    report(
        f"{len(dataset)} account snapshots, {len(feature_names)} features, as of {as_of:%Y-%m-%d}"
        f" ({time.monotonic() - started:.0f}s)"
    )
    truth_path = truth_file(data)
    truth = pd.read_parquet(truth_path) if truth_path else None
    splits, skipped = trainable_splits(dataset, as_of, config, report)
    touchpoints = touchpoints_until(data, as_of, recorded_touchpoints) if uplift else None
    if touchpoints is not None and touchpoints.empty:
        skipped["uplift"] = (
            "uplift: not trained: no touchpoints (what the CS team did) up to"
            f" {as_of:%Y-%m-%d}, so no action effects can be learned; the playbook ranks actions."
        )
        report(skipped["uplift"])
    missing = families_without_data(dataset, feature_names)
    if missing:
        report(f"No data for the feature families: {', '.join(missing)} (not used as drivers)")
    churn_train = splits["churn"].train
    healthy = healthy_reference(churn_train[churn_train["churn"] == 0], feature_names)
    band = healthy_band(churn_train[churn_train["churn"] == 0], feature_names)
    results: dict[str, TargetResult] = {}
    for target, split in splits.items():
        result = fit_target(
            dataset, target, as_of, config, feature_names, healthy, report, split=split
        )
        result.model.missing_families = list(missing)
        result.model.models_not_trained = dict(skipped)
        if target == "churn":  # drivers by family, ordered by the cause they point to
            result.model.cause_reader, result.model.family_reference = load_reader(), healthy
            result.model.healthy_band = band
        if truth is not None:
            result.truth = compare_with_truth(
                truth, result.split.test, result.test_probability["model"], target
            )
            if target == "churn":
                result.truth |= explanations_against_causes(
                    data, result.model, result.split.test, result.test_probability["model"]
                )
        results[target] = result
    report("Keeping a reference of today's accounts with the churn model (for monitoring) ...")
    results["churn"].model.reference = reference_at(
        data, as_of, results["churn"].model, touchpoints=recorded_touchpoints
    )
    outcome = TrainingResult(
        as_of, len(dataset), feature_names, results, skipped=skipped, missing_families=missing
    )

    configure_mlflow(tracking_uri)
    with mlflow.start_run(run_name=f"train as of {as_of:%Y-%m-%d}") as run:
        outcome.run_id = run.info.run_id
        mlflow.log_params(
            {
                "data": data,
                "as_of": f"{as_of:%Y-%m-%d}",
                "dataset_rows": len(dataset),
                "feature_count": len(feature_names),
            }
        )
        mlflow.log_params({k: str(v) for k, v in flatten(config.model_dump()).items()})
        mlflow.log_text("\n".join(feature_names) + "\n", "features.txt")
        mlflow.set_tags({f"not_trained.{t}": reason[:5000] for t, reason in skipped.items()})
        mlflow.set_tag("families_without_data", ",".join(missing))
        for result in results.values():
            report(f"Logging {result.target} to MLflow ...")
            _log_target(result, register, config, report)
        if touchpoints is not None and "uplift" not in skipped:  # no touchpoints: no model
            outcome.uplift = run_uplift(
                data,
                dataset,
                touchpoints,
                as_of,
                playbook if playbook is not None else load_playbook(DEFAULT_PLAYBOOK),
                register=register,
                report=report,
                seed=config.seed,
                churn_model=results["churn"].model if "churn" in results else None,
            )
    report(f"Done in {time.monotonic() - started:.0f}s (MLflow run {outcome.run_id}).")
    return outcome


def summary_lines(result: TrainingResult, reasons: bool = True) -> list[str]:
    """The test-period comparison of model, baselines and (if known) the truth.

    It begins with why each skipped model was not trained, unless `reasons` is False:
    `train` reports each reason as it skips the model, so a caller that shows those lines
    (`retain train`) would print it twice. On simulated data it ends with the
    next-best-action policies against the oracle.
    """
    skipped = result.skipped if reasons else {}
    lines = [
        f"{target}: {reason}" if not reason.startswith(target) else reason
        for target, reason in skipped.items()
    ]
    for target, r in result.targets.items():
        lines.append(header_line(r))
        lines.append(f"  {'':22}{'ROC-AUC':>8}{'PR-AUC':>8}{'Brier':>8}{'ECE':>7}{'lift@10%':>9}")
        for name, m in r.metrics.items():
            lines.append(
                f"  {name:22}{m['roc_auc']:8.3f}{m['pr_auc']:8.3f}{m['brier']:8.3f}"
                f"{m['ece']:7.3f}{m['top_decile_lift']:9.2f}"
            )
        if "arr_caught_top10" in r.metrics["model"]:
            accounts = positive_accounts(r)["test"][1]
            lines.append(
                "  churned ARR caught in the riskiest 10%:"
                f" {r.metrics['model']['arr_caught_top10']:.0%}"
                f" (of {accounts} churned account{'s' if accounts != 1 else ''}' ARR)"
            )
        lines.extend("  " + line for line in gap_lines(r))
        lines.extend("  " + line for line in thin_lines(r))
        lines.extend("  " + line for line in chance_lines(r))
        lines.extend("  " + line for line in term_lines(r.target, r.terms))
        if r.truth:
            lines.append("  " + describe(target, r.truth))
    if result.uplift is not None and result.uplift.report is not None:
        lines.append(result.uplift.report.describe())
    return lines


def header_line(result: TargetResult) -> str:
    """A target's heading: its test period, and how many outcomes its figures rest on.

    The figures below it (PR-AUC, lift, calibration error, churned ARR caught) are as firm as
    the positives behind them: the nineteenth audit's sticky company had 61 churned test
    snapshots from 18 accounts, and the heading said only "2856 snapshots".
    """
    rows, accounts = positive_accounts(result)["test"]
    return (
        f"{result.target} (test period from {result.split.test_start:%Y-%m-%d},"
        f" {len(result.split.test)} snapshots, {rows} positive from {accounts}"
        f" account{'s' if accounts != 1 else ''}; months train/validation/test:"
        f" {'/'.join(str(m) for m in result.split.months().values())}):"
    )


NOISE_Z = 1.64  # one-sided 95%: a gap below -1.64 standard errors is a loss beyond noise
# Fewer accounts than this behind a period's positives cannot judge or calibrate a model: one
# account's long term gives many correlated snapshots (the seventh audit: a test period whose
# churn came from one account, validation from two, and flat scores from 9% to 10%).
MIN_POSITIVE_ACCOUNTS = 5


def positive_accounts(result: TargetResult) -> dict[str, tuple[int, int]]:
    """Per period (validation, test): its positive snapshots and the accounts behind them."""
    found = {}
    for name, part in (("validation", result.split.validation), ("test", result.split.test)):
        positive = part[part[result.target] == 1]
        found[name] = (len(positive), int(positive["account_id"].nunique()))
    return found


def thin_lines(result: TargetResult) -> list[str]:
    """Warnings where a period's positives come from too few accounts to trust its figures."""
    lines = []
    for name, (rows, accounts) in positive_accounts(result).items():
        if accounts >= MIN_POSITIVE_ACCOUNTS:
            continue
        what = "calibration and risk tiers" if name == "validation" else "test figures above"
        lines.append(
            f"warning: the {name} period's {rows} positive snapshots come from {accounts}"
            f" account{'s' if accounts != 1 else ''} (fewer than {MIN_POSITIVE_ACCOUNTS}), so"
            f" the {what} rest on too few {result.target} outcomes to trust; they firm up as"
            " more outcomes are known (or train on a longer history)"
        )
    return lines


def chance_lines(result: TargetResult, seed: int = 0) -> list[str]:
    """A warning where the model's test ROC-AUC cannot be told from chance (0.5).

    A first model becomes champion with nothing to beat (the twelfth audit's validated at
    0.50-0.56 on 14 churned training snapshots; its test figure, 0.598, was beyond noise of
    chance, so it is not warned). The noise is that of `gap_lines`: 1.64 standard errors of
    the ROC-AUC gap to a constant score over bootstrap resamples of the test accounts.
    """
    test, target = result.split.test, result.target
    outcome = test[target].to_numpy(dtype=float)
    if len(np.unique(outcome)) < 2:
        return []
    score = result.test_probability["model"]
    gap, se = paired_auc_gap(
        outcome, score, np.full(len(outcome), 0.5), test["account_id"], seed=seed
    )
    if not gap <= NOISE_Z * se:  # better than chance beyond noise (or no noise to judge)
        return []
    return [
        f"warning: the {target} model ranks the test period at ROC-AUC {0.5 + gap:.3f}, within"
        f" noise of chance (0.5; noise {NOISE_Z * se:.3f}, account bootstrap): its scores,"
        " risk tiers and drivers say little yet about which accounts will"
        f" {'churn' if target == 'churn' else 'expand'}; they firm up as more outcomes are"
        " known (or train on a longer history)"
    ]


# A book of monthly and annual terms: the terms split here, and a band's calibration in the
# test period is checked when both bands hold at least `TERM_BAND_MIN` of its rows.
TERM_SPLIT_DAYS = 180
TERM_BAND_MIN = 0.02
TERM_BANDS = ("terms under 6 months", "terms of 6 months or more")
TERM_OFF_RATIO = 1.5  # warned when the rate is over 1.5x the mean score or under 1/1.5 of it
TERM_FEW_SHARE = 0.1  # a band with under 10% of the training snapshots is too few to learn


def term_calibration(result: TargetResult) -> list[dict[str, Any]]:
    """Per term-length band of a mixed book: the test period's mean score against the rate.

    The eighth new-user audit's book was 80% monthly terms: the annual ones, 37 of 1,666
    training snapshots, were scored at 4.0% and churned at 25.0%, with nothing said. The
    noise is a cluster (account) standard error of the mean gap, so one account's many
    monthly snapshots count as one account. Empty unless the book holds both bands.
    """
    test, split = result.split.test, result.split
    if "term_length_days" not in test.columns or not len(test):
        return []
    bands = np.where(test["term_length_days"].to_numpy(dtype=float) < TERM_SPLIT_DAYS, 0, 1)
    shares = np.bincount(bands, minlength=2) / len(test)
    if shares.min() < TERM_BAND_MIN:
        return []
    trained = split.train["term_length_days"].to_numpy(dtype=float)
    trained_bands = np.bincount(np.where(trained < TERM_SPLIT_DAYS, 0, 1), minlength=2)
    outcome = test[result.target].to_numpy(dtype=float)
    score = np.asarray(result.test_probability["model"], dtype=float)
    found = []
    for band, name in enumerate(TERM_BANDS):
        mine = bands == band
        gap = pd.Series(outcome[mine] - score[mine]).groupby(test["account_id"].to_numpy()[mine])
        sums = gap.sum().to_numpy()
        se = float(np.sqrt((sums**2).sum())) / mine.sum()
        found.append(
            {
                "band": name,
                "snapshots": int(mine.sum()),
                "accounts": len(sums),
                "predicted": float(score[mine].mean()),
                "observed": float(outcome[mine].mean()),
                "se": se,
                "trained": int(trained_bands[band]),
                "trained_of": int(len(trained)),
            }
        )
    return found


def term_lines(target: str, bands: list[dict[str, Any]]) -> list[str]:
    """`term_calibration`'s bands in words, warning where one is off beyond noise."""
    lines = []
    for band in bands:
        gap = band["observed"] - band["predicted"]
        line = (
            f"{band['band']}: scored {band['predicted']:.1%},"
            f" {target} {band['observed']:.1%}"
            f" ({band['snapshots']} test snapshots, {band['accounts']} accounts)"
        )
        ratio = band["observed"] / band["predicted"] if band["predicted"] > 0 else np.inf
        if abs(gap) > 1.96 * band["se"] and not 1 / TERM_OFF_RATIO <= ratio <= TERM_OFF_RATIO:
            side = "under" if gap > 0 else "over"
            few = band["trained"] < TERM_FEW_SHARE * band["trained_of"]
            line = (
                f"warning: {line}: {side}-predicted beyond noise; training held"
                f" {band['trained']:,} of {band['trained_of']:,} snapshots on such terms"
                + (
                    f", too few to learn them apart: {target} scores on {band['band']}"
                    " firm up as more of their outcomes are known"
                    if few
                    else ""
                )
            )
        lines.append(line)
    return lines


def gap_lines(result: TargetResult) -> list[str]:
    """The model against each plain baseline on the same test rows, with the gap's noise.

    The noise is 1.64 standard errors of the ROC-AUC gap over 200 bootstrap resamples of
    the test period's accounts (`evaluate.paired_auc_gap`).
    """
    lines = [f"chosen candidate: {result.search.kind} ({len(result.model.feature_names)} features)"]
    for name, (gap, se) in result.gaps.items():
        noise = NOISE_Z * se
        verdict = (
            "worse beyond noise"
            if gap < -noise
            else "better beyond noise"
            if gap > noise
            else "within noise"
        )
        lines.append(
            f"model - {name} ROC-AUC: {gap:+.3f} (noise {noise:.3f}, account bootstrap): {verdict}"
        )
    return lines
