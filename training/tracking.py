"""MLflow tracking: where runs go, and logging one training run.

The caller says where (the CLI passes the `RETAIN_MLFLOW_URI` setting); the default is
`sqlite:///mlruns/mlflow.db`, with artifacts beside a SQLite store (`mlruns/artifacts`).
Nothing is configured at import.
"""

from __future__ import annotations

import logging
import os
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo

from training.kinds import WrongModelError, check_model_kind
from training.model import AccountModel
from training.names import DEFAULT_TRACKING_URI, model_name

EXPERIMENT = "retain"
_REQUIREMENTS = ("lightgbm", "scikit-learn", "numpy", "pandas", "mlflow")


def configure_mlflow(uri: str | None = None) -> str:
    """Point MLflow tracking and registry at `uri` (default `DEFAULT_TRACKING_URI`).

    For a SQLite store its folder is created and the `retain` experiment keeps its
    artifacts in `<folder>/artifacts`.

    Returns:
        The experiment id of `retain`, which becomes the active experiment.
    """
    uri = uri or DEFAULT_TRACKING_URI
    artifact_location = None
    if uri.startswith("sqlite:///"):
        folder = Path(uri.removeprefix("sqlite:///")).resolve().parent
        folder.mkdir(parents=True, exist_ok=True)
        artifact_location = (folder / "artifacts").as_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        experiment_id = mlflow.create_experiment(EXPERIMENT, artifact_location=artifact_location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return str(experiment_id)


class _MlflowChatter(logging.Filter):
    """Passes MLflow's errors; its warnings and notes go to retain's log at debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or not record.name.startswith("mlflow"):
            return True
        logging.getLogger("retain.mlflow").debug("%s: %s", record.name, record.getMessage())
        return False


def quiet_mlflow() -> None:
    """Keep MLflow's warnings and download bars out of the CLI output (debug level instead).

    retain's own progress and tables stay; MLflow errors still show.
    """
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
    chatter = _MlflowChatter()
    mlflow_logger = logging.getLogger("mlflow")
    for handler in [*mlflow_logger.handlers, *logging.getLogger().handlers]:
        if not any(isinstance(f, _MlflowChatter) for f in handler.filters):
            handler.addFilter(chatter)
    mlflow_logger.addFilter(chatter)


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> flat `a.b` keys (lists are written as their string form)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def log_metrics(metrics: dict[str, float], prefix: str) -> None:
    """Log finite metrics under `prefix` (MLflow rejects NaN in some stores)."""
    mlflow.log_metrics({f"{prefix}{k}": float(v) for k, v in metrics.items() if np.isfinite(v)})


def log_figures(figures: dict[str, Figure], folder: str = "plots") -> None:
    """Log each figure as a PNG artifact and close it."""
    import matplotlib.pyplot as plt

    for file_name, figure in figures.items():
        mlflow.log_figure(figure, f"{folder}/{file_name}")
        plt.close(figure)


def log_account_model(
    model: AccountModel, example: pd.DataFrame, registered_name: str | None
) -> ModelInfo:
    """Log `model` as a pyfunc with signature and input example; register it if named.

    Raises:
        WrongModelError: `registered_name` is another kind's name (e.g. an upsell model
            under `retain-churn`) or the model reads features retain does not compute.
    """
    if registered_name is not None:
        expected = model_name(model.target)
        if registered_name != expected:
            raise WrongModelError(
                f"a {model.target} model is registered as {expected}, not {registered_name}"
            )
        check_model_kind(model, model.target, f"the {model.target} model")
    features = example[model.feature_names].astype(float)
    signature = infer_signature(features, model.predict_proba(features))
    requirements = [f"{name}=={version(name)}" for name in _REQUIREMENTS]
    return mlflow.pyfunc.log_model(
        name=f"{model.target}_model",
        python_model=model,
        signature=signature,
        input_example=features.head(5),
        registered_model_name=registered_name,
        pip_requirements=requirements,
    )
