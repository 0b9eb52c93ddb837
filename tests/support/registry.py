"""A real MLflow registry in a temporary folder, with small real models, for serving tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.pyfunc import PythonModel

from tests.support.serving import make_model, random_features
from training.tracking import log_account_model
from training.uplift import ActionEffect

CALL_EFFECT = -0.12  # the stand-in uplift model: an exec sponsor call cuts churn by 12 points


class StandInUplift(PythonModel):
    """A picklable uplift champion: exec sponsor calls help, health checks do nothing."""

    actions_ = ("exec_sponsor_call", "health_check")
    config = None

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        return model_input

    def effects(self, X: pd.DataFrame) -> dict[str, ActionEffect]:
        n = len(X)
        learned = np.full(n, "learned", dtype=object)
        reason = np.full(n, "learned from 300 comparable cases", dtype=object)
        std = np.full(n, 0.02)
        return {
            "exec_sponsor_call": ActionEffect(np.full(n, CALL_EFFECT), std, learned, reason),
            "health_check": ActionEffect(np.zeros(n), std, learned, reason),
        }


def new_registry(root: Path) -> str:
    """An empty SQLite registry under `root`; returns its URI (also made MLflow's current)."""
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("serving-test", str(root / "a")))
    return uri


def register(uri: str, target: str, seed: int = 1, name: str | None = None) -> str:
    """Log and register a small real AccountModel (under `name`, default its own); its version."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run():
        if name is None:
            info = log_account_model(
                make_model(target, seed=seed, trees=10), random_features(20), f"retain-{target}"
            )
        else:  # as another tool (or a mistake) would: no retain checks
            info = mlflow.pyfunc.log_model(
                name="model", python_model=make_model(target, seed=seed, trees=10),
                registered_model_name=name,
            )  # fmt: skip
    return str(info.registered_model_version)


def register_python_model(uri: str, name: str, model: PythonModel) -> str:
    """Register any pyfunc under `name`; returns its version."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=model, registered_model_name=name)
    return str(info.registered_model_version)


def promote(uri: str, name: str, version: str) -> None:
    """Point the champion alias of `name` at `version`."""
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        name, "champion", version
    )
