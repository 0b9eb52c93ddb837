"""On the trained simulated world, the drivers shown name the family of the true cause."""

from __future__ import annotations

import mlflow


def test_the_first_driver_names_the_true_causes_family(trained_world):
    churn = trained_world.result.targets["churn"]
    found = churn.truth
    assert found["cause_rows"] >= 50
    assert found["cause_first_driver"] >= 0.70
    assert found["cause_first_three"] >= 0.85
    common = [k.removeprefix("cause_rows_") for k in found if k.startswith("cause_rows_")]
    common = [cause for cause in common if found[f"cause_rows_{cause}"] >= 20]
    assert common and all(found[f"cause_first_three_{c}"] >= 0.5 for c in common), found
    assert found["cause_reader_untouched_worlds"] >= 8


def test_the_agreement_is_logged_to_mlflow(trained_world):
    client = mlflow.MlflowClient(tracking_uri=trained_world.tracking_uri)
    metrics = client.get_run(trained_world.result.run_id).data.metrics
    assert (
        metrics["churn_truth_cause_first_driver"]
        == trained_world.result.targets["churn"].truth["cause_first_driver"]
    )
    assert "churn_truth_cause_first_three" in metrics
