"""Train on a simulated 2,000-account world once per session; compare with the ground truth.

`trained_world` is shared with tests/test_model_behaviour.py. Under pytest-xdist each
worker would otherwise train again, so the result is cached in the session's shared
temporary folder under a file lock.
"""

from __future__ import annotations

import fcntl
import pickle
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from simulator.world import simulate_to_dir
from training.config import load_config
from training.split import label_known_at
from training.train import TrainingResult, summary_lines, train

ACCOUNTS = 2000
SEED = 11


@dataclass
class TrainedWorld:
    data: Path
    tracking_uri: str
    result: TrainingResult


def _train_world(root: Path) -> TrainedWorld:
    data = root / "world"
    simulate_to_dir(data, n_accounts=ACCOUNTS, seed=SEED)
    tracking_uri = f"sqlite:///{root}/mlruns/mlflow.db"
    lines: list[str] = []
    # Next-best-action learning is judged in tests/test_uplift_policy.py; skipped here to
    # keep the suite short (the walkthrough notebook runs `train` with it).
    result = train(
        str(data),
        config=load_config(),
        report=lines.append,
        tracking_uri=tracking_uri,
        uplift=False,
    )
    print("\n".join(lines + summary_lines(result)))
    return TrainedWorld(data, tracking_uri, result)


@pytest.fixture(scope="session")
def trained_world(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> TrainedWorld:
    if worker_id == "master":
        return _train_world(tmp_path_factory.mktemp("trained_world"))
    root = tmp_path_factory.getbasetemp().parent / "trained_world"
    root.mkdir(exist_ok=True)
    cache = root / "world.pkl"
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not cache.exists():
                cache.write_bytes(pickle.dumps(_train_world(root)))
            world: TrainedWorld = pickle.loads(cache.read_bytes())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return world


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
    mlflow.set_tracking_uri(trained_world.tracking_uri)
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
