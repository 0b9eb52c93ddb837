"""On the trained simulated world, the drivers shown name the family of the true cause."""

from __future__ import annotations

import mlflow


def test_the_first_driver_names_the_true_causes_family(trained_world):
    churn = trained_world.result.targets["churn"]
    found = churn.truth
    assert found["cause_rows"] >= 50
    assert found["cause_first_driver"] >= 0.70
    assert found["cause_first_three"] >= 0.85
    per_cause = [k for k in found if k.startswith("cause_first_three_")]
    assert per_cause and all(found[k] >= 0.5 for k in per_cause), found


def test_the_agreement_is_logged_to_mlflow(trained_world):
    client = mlflow.MlflowClient(tracking_uri=trained_world.tracking_uri)
    metrics = client.get_run(trained_world.result.run_id).data.metrics
    assert (
        metrics["churn_truth_cause_first_driver"]
        == trained_world.result.targets["churn"].truth["cause_first_driver"]
    )
    assert "churn_truth_cause_first_three" in metrics
