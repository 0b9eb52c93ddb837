"""The models trained on a simulated 2,000-account world, compared with the ground truth.

The `trained_world` fixture lives in `tests/training/conftest.py`.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from training.split import label_known_at

pytestmark = pytest.mark.slow


def test_churn_ranks_close_to_the_true_probabilities(trained_world):
    churn = trained_world.result.targets["churn"]
    assert churn.truth["rows"] >= 0.95 * len(churn.split.test)
    assert churn.truth["model_roc_auc"] >= churn.truth["truth_roc_auc"] - 0.05


def test_churn_beats_both_baselines(trained_world):
    metrics = trained_world.result.targets["churn"].metrics
    assert metrics["model"]["roc_auc"] > metrics["logistic_regression"]["roc_auc"]
    assert metrics["model"]["roc_auc"] > metrics["health_score"]["roc_auc"]


def test_churn_is_calibrated_on_the_test_period(trained_world):
    assert trained_world.result.targets["churn"].metrics["model"]["ece"] <= 0.05


def test_upsell_ranks_close_to_the_true_probabilities(trained_world):
    upsell = trained_world.result.targets["upsell"]
    assert upsell.truth["model_roc_auc"] >= upsell.truth["truth_roc_auc"] - 0.07


def test_report_metrics_are_all_there_and_sane(trained_world):
    churn = trained_world.result.targets["churn"].metrics["model"]
    for name in ("roc_auc", "pr_auc", "brier", "ece", "top_decile_lift", "arr_caught_top10"):
        assert np.isfinite(churn[name])
    assert churn["top_decile_lift"] > 1.5
    assert churn["arr_caught_top10"] > 0.10  # better than contacting 10% at random


@pytest.mark.parametrize("target", ["churn", "upsell"])
def test_periods_are_honest_on_real_snapshots(trained_world, target):
    result = trained_world.result
    split = result.targets[target].split
    assert (label_known_at(split.train, target) < split.validation_start).all()
    assert split.train["as_of"].max() < split.validation_start
    assert split.validation["as_of"].max() < split.test_start
    assert (label_known_at(split.test, target) <= pd.Timestamp(result.as_of)).all()


def test_run_is_tracked_with_metrics_plots_and_features(trained_world):
    mlflow.set_tracking_uri(trained_world.tracking_uri)
    client = mlflow.tracking.MlflowClient(trained_world.tracking_uri)
    run = client.get_run(trained_world.result.run_id)
    for key in (
        "churn_test_roc_auc",
        "churn_test_ece",
        "churn_test_arr_caught_top10",
        "churn_logistic_regression_test_roc_auc",
        "churn_health_score_test_roc_auc",
        "churn_truth_truth_roc_auc",
        "upsell_test_pr_auc",
    ):
        assert key in run.data.metrics, key
    assert int(run.data.params["churn.train_rows"]) == len(
        trained_world.result.targets["churn"].split.train
    )
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    for plot in ("roc", "precision_recall", "calibration", "cumulative_gain", "shap_summary"):
        assert f"plots/churn_{plot}.png" in artifacts
    features = client.download_artifacts(run.info.run_id, "features.txt")
    assert Path(features).read_text().split() == trained_world.result.feature_names


def test_champion_from_the_registry_is_what_serving_needs(trained_world):
    # the registry too: another test in this worker may have pointed it at its own
    mlflow.set_tracking_uri(trained_world.tracking_uri)
    mlflow.set_registry_uri(trained_world.tracking_uri)
    result = trained_world.result.targets["churn"]
    assert result.decision is not None and result.decision.promoted  # first version
    model = mlflow.pyfunc.load_model("models:/retain-churn@champion").unwrap_python_model()
    test = result.split.test
    np.testing.assert_allclose(model.predict_proba(test), result.model.predict_proba(test))
    contributions = model.contributions(test.head(50))
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_score(test.head(50)), atol=1e-6)
    assert set(model.tier_thresholds) == {"high", "medium"}
    high_share = (model.tier(model.predict_proba(test)) == "high").mean()
    assert 0.03 < high_share < 0.3
    assert set(model.healthy_reference) == set(model.feature_names)
