"""The monitor's measures on hand-made numbers: bins, PSI, calibration, matured scores, alarms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.monitor.alarms import drift_alarms, outcome_alarms
from training.monitor.bins import psi, quantile_bins
from training.monitor.calibration import (
    churn_version,
    decile_calibration,
    matured_scores,
    outcome_metrics,
)
from training.monitor.drift import MissingFeatures, feature_drift
from training.monitor.reference import build_reference
from training.monitor.thresholds import (
    DEFAULT_THRESHOLDS,
    DriftThresholds,
    OutcomeThresholds,
    ThresholdsError,
    load_thresholds,
)


def _snapshots(rng: np.random.Generator, months: int, n: int, shift: float = 0.0) -> pd.DataFrame:
    frames = []
    for m in range(months):
        frames.append(
            pd.DataFrame(
                {
                    "account_id": [f"a{i}" for i in range(n)],
                    "as_of": datetime(2025, 1 + m, 1),
                    "usage": rng.lognormal(3 + shift, 0.5, n),
                    "seats": rng.integers(1, 6, n).astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_quantile_bins_merge_repeated_cut_points_and_keep_a_missing_bin():
    values = np.array([0.0] * 70 + list(range(1, 31)) + [np.nan] * 25)
    bins = quantile_bins(values)
    assert len(set(bins.edges)) == len(bins.edges)
    assert len(bins.shares) == len(bins.edges) + 2
    assert bins.missing_share == pytest.approx(25 / 125)
    assert sum(bins.shares) == pytest.approx(1.0)


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    bins = quantile_bins(rng.normal(0, 1, 5000))
    same = psi(np.asarray(bins.shares), bins.shares_of(rng.normal(0, 1, 5000)))
    small = psi(np.asarray(bins.shares), bins.shares_of(rng.normal(0.3, 1, 5000)))
    large = psi(np.asarray(bins.shares), bins.shares_of(rng.normal(1.0, 1, 5000)))
    assert same < 0.02 < small < 0.25 < large


def test_a_feature_that_moves_is_flagged_by_name_and_one_that_does_not_is_not():
    rng = np.random.default_rng(1)
    reference = build_reference(_snapshots(rng, 6, 400), ["usage", "seats"])
    today = _snapshots(rng, 1, 400, shift=1.0)
    previous = _snapshots(rng, 1, 400)
    drift = feature_drift(reference, today, ["usage", "seats"], previous)
    assert drift.iloc[0]["feature"] == "usage"
    alarms = drift_alarms(drift, {"usage": "Product events"}, DriftThresholds())
    assert [a.subject for a in alarms] == ["usage"]
    assert "'Product events' (usage) has shifted since training" in alarms[0].message


def test_a_slow_move_that_was_already_there_last_month_is_not_an_alarm_unless_huge():
    rng = np.random.default_rng(2)
    reference = build_reference(_snapshots(rng, 6, 400), ["usage"])
    today = _snapshots(rng, 1, 400, shift=0.3)
    previous = _snapshots(rng, 1, 400, shift=0.3)  # the same shift a month ago
    drift = feature_drift(reference, today, ["usage"], previous)
    assert 0.25 < drift.iloc[0]["psi"] < 1.0
    assert not drift_alarms(drift, {}, DriftThresholds())
    assert drift_alarms(drift, {}, DriftThresholds(psi_always=drift.iloc[0]["psi"] - 0.01))


def test_a_feature_that_stops_arriving_raises_the_missing_alarm():
    rng = np.random.default_rng(3)
    reference = build_reference(_snapshots(rng, 3, 300), ["seats"])
    today = _snapshots(rng, 1, 300).assign(seats=np.nan)
    drift = feature_drift(reference, today, ["seats"])
    kinds = {a.kind for a in drift_alarms(drift, {"seats": "Licensed seats"}, DriftThresholds())}
    assert "missing" in kinds


def test_a_feature_the_snapshot_lacks_is_an_error_naming_it():
    rng = np.random.default_rng(4)
    reference = build_reference(_snapshots(rng, 2, 50), ["usage", "seats"])
    with pytest.raises(MissingFeatures, match="seats"):
        feature_drift(reference, _snapshots(rng, 1, 50).drop(columns="seats"), ["usage", "seats"])


def test_calibrated_scores_pass_the_decile_test_and_shifted_ones_fail_it():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.02, 0.6, 6000)
    calibrated = decile_calibration(p, rng.binomial(1, p), alpha=0.01, gap=0.05)
    assert not calibrated["miscalibrated"].any()
    decayed = decile_calibration(p, rng.binomial(1, np.clip(p + 0.2, 0, 1)), 0.01, 0.05)
    assert decayed["miscalibrated"].sum() >= 8
    assert (decayed["observed"] > decayed["predicted"]).all()


def test_matured_scores_join_known_outcomes_once_per_account_date_and_version():
    when = pd.Timestamp("2025-03-01")
    log = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "c"],
            "as_of": [when] * 4,
            "churn_probability": [0.1, 0.2, 0.5, 0.3],
            "model_version": ["retain-churn:v3,retain-upsell:v1"] * 4,
            "logged_at": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-01", "2025-03-01"]),
        }
    )
    labels = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "as_of": [when] * 3,
            "churn": [0.0, 1.0, np.nan],  # c's renewal has not happened yet
            "arr": [100.0, 200.0, 300.0],
        }
    )
    matured = matured_scores(log, labels)
    assert sorted(matured["account_id"]) == ["a", "b"]
    assert matured.set_index("account_id").loc["a", "churn_probability"] == 0.2  # latest logged
    assert set(matured["version"]) == {"3"}
    assert churn_version("retain-churn:v12,retain-uplift:v2") == "12"


def test_outcome_alarms_name_the_version_and_the_metric():
    rng = np.random.default_rng(6)
    n = 600
    p = rng.uniform(0.02, 0.5, n)
    matured = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "as_of": pd.Timestamp("2025-01-01"),
            "version": "4",
            "churn_probability": p,
            "churn": rng.binomial(1, 0.5, n).astype(float),  # unrelated to the scores
            "arr": 1000.0,
        }
    )
    outcomes, deciles = outcome_metrics(matured, 0.01, 0.05)
    alarms = outcome_alarms(outcomes, OutcomeThresholds(), champion="4")
    assert not outcome_alarms(outcomes, OutcomeThresholds(), champion="5")  # no longer serves
    messages = " ".join(a.message for a in alarms)
    assert "churn model v4 ranks poorly" in messages
    assert "churn model v4 is miscalibrated" in messages
    assert set(deciles) == {"4"}
    assert not outcome_alarms(outcomes, OutcomeThresholds(min_matured=n + 1), "4")  # too few


def test_the_shipped_thresholds_load_and_an_unknown_key_is_an_error(tmp_path: Path):
    assert load_thresholds(DEFAULT_THRESHOLDS).drift.psi == 0.25
    wrong = tmp_path / "monitor.yaml"
    wrong.write_text("drift:\n  psi_treshold: 0.3\n")
    with pytest.raises(ThresholdsError, match="psi_treshold"):
        load_thresholds(wrong)
    assert load_thresholds(DEFAULT_THRESHOLDS).outcomes.backdated_days == 7
    wrong.write_text("outcomes:\n  backdated_days: -1\n")
    with pytest.raises(ThresholdsError, match="outcomes.backdated_days"):
        load_thresholds(wrong)


def test_the_retrain_page_says_what_changed_and_whether_the_new_model_was_promoted(
    tmp_path: Path,
):
    from training.monitor.alarms import Alarm
    from training.monitor.report import MonitorReport
    from training.monitor.retrain_report import write_retrain_report
    from training.registry import PromotionDecision

    features = pd.DataFrame(
        [
            {"feature": "arr_per_seat", "psi": 3.2, "js": 0.6, "missing_then": 0.0,
             "missing_now": 0.0, "natural_psi": 0.01, "psi_month": 3.0},
            {"feature": "tenure_days", "psi": 0.1, "js": 0.1, "missing_then": 0.0,
             "missing_now": 0.0, "natural_psi": 0.05, "psi_month": 0.01},
        ]
    )  # fmt: skip
    alarm = Alarm("feature", "arr_per_seat", "'ARR per seat' (arr_per_seat) has shifted")
    report = MonitorReport(
        datetime(2026, 1, 1), "5", 240, features, {"psi": 0.1, "js": 0.1, "mean_then": 0.12,
        "mean_now": 0.13, "natural_psi": 0.02}, {"high": (0.1, 0.12)}, pd.DataFrame(),
        alarms=[alarm],
    )  # fmt: skip
    kept = PromotionDecision("churn", "6", "roc_auc", 0.79, "5", 0.81, False, "...")
    promoted = PromotionDecision("upsell", "3", "roc_auc", 0.90, "2", 0.88, True, "...")
    page = write_retrain_report(
        tmp_path / "2026-01-01.md", report, {"churn": kept, "upsell": promoted}, {}, {}
    )
    text = page.read_text()
    assert "kept v5" in text and "did not beat it (roc_auc 0.790 vs 0.810" in text
    assert "new model v3 promoted" in text
    assert "| Annual recurring revenue per licensed seat (`arr_per_seat`) | 3.20 |" in text
    assert "'ARR per seat' (arr_per_seat) has shifted" in text
    assert "A signal shifted" in text  # what to do
    assert "Nothing to judge yet" in text


def test_a_moved_tier_mix_and_a_shifted_score_are_alarms_in_words():
    from training.monitor.alarms import score_alarms
    from training.monitor.drift import tier_shift

    shift = tier_shift({"high": 0.10, "medium": 0.20, "low": 0.70}, {"high": 0.30, "low": 0.70})
    score = {"psi": 0.6, "js": 0.3, "mean_then": 0.12, "mean_now": 0.25, "natural_psi": 0.02}
    alarms = score_alarms(score, shift, 0.5, DriftThresholds())
    messages = [a.message for a in alarms]
    assert "The churn scores have shifted since training: PSI 0.60, mean 12.0% then, 25.0% now" in (
        messages
    )
    assert "The high-risk tier holds 20% more of the accounts than at training" in messages
    assert "The medium-risk tier holds 20% fewer of the accounts than at training" in messages
    assert not score_alarms(score, shift, 0.01, DriftThresholds(tier_share_change=0.5))


def test_the_results_file_says_its_time_in_utc_as_the_api_does(tmp_path: Path):
    # The API says `…Z` (the sixth audit); the monitor's results file said 2026-06-01T09:30:00,
    # which a reader in another zone takes for local time.
    from training.monitor.report import MonitorReport

    features = pd.DataFrame(columns=["feature", "psi", "missing_now"])
    report = MonitorReport(datetime(2026, 6, 1, 9, 30), "5", 10, features, {}, {}, pd.DataFrame())
    report.write_json(tmp_path / "latest.json")
    written = json.loads((tmp_path / "latest.json").read_text())["as_of"]
    assert written == "2026-06-01T09:30:00Z"
    assert datetime.fromisoformat(written) == datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def test_a_warning_on_the_data_is_said_as_a_warning_not_as_a_note(tmp_path: Path):
    from training.monitor.report import MonitorReport
    from training.monitor.retrain_report import write_retrain_report

    warning = "Warning: tickets.closed_at has 6 rows after 2026-01-01T00:00:00Z, ..."
    features = pd.DataFrame(columns=["feature", "psi", "missing_now"])
    report = MonitorReport(
        datetime(2026, 1, 1), "5", 10, features, {}, {}, pd.DataFrame(),
        notes=["the score log is empty"], warnings=[warning],
    )  # fmt: skip
    assert report.lines()[1] == warning  # right under the heading, before any alarm
    page = write_retrain_report(tmp_path / "2026-01-01.md", report, {}, {}, {}).read_text()
    assert f"\n{warning}\n" in page
    assert "Note: Warning" not in page and "Not measured: Warning" not in page
