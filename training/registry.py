"""Model registry: the promotion gate, promotion by hand and listing versions.

Names and aliases are defined in `training.names`.

Every new version gets the alias `challenger`. It becomes `champion` only when it
beats the current champion on the *new* test period (the champion is re-scored on
the same rows), or when there is no champion yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from training.config import PromotionConfig
from training.evaluate import evaluate
from training.kinds import check_model_kind
from training.model import AccountModel
from training.names import CHALLENGER, CHAMPION, MODEL_KINDS, model_name


@dataclass(frozen=True)
class PromotionDecision:
    """What the gate decided for one new version, with both figures."""

    target: str
    version: str
    metric: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None
    promoted: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def beats(challenger: float, champion: float | None, min_improvement: float = 0.0) -> bool:
    """Whether a challenger's score beats the champion's (always, if there is none)."""
    if champion is None:
        return True
    return challenger > champion + min_improvement


def champion_version(client: MlflowClient, target: str) -> str | None:
    """Version number holding the `champion` alias, or None."""
    try:
        return str(client.get_model_version_by_alias(model_name(target), CHAMPION).version)
    except MlflowException:
        return None


def load_account_model(target: str, version: str | None = None) -> AccountModel:
    """The registered `AccountModel` of a version (default: the champion)."""
    reference = f"@{CHAMPION}" if version is None else f"/{version}"
    pyfunc = mlflow.pyfunc.load_model(f"models:/{model_name(target)}{reference}")
    model = pyfunc.unwrap_python_model()
    assert isinstance(model, AccountModel)
    return model


def score_on(model: AccountModel, test: pd.DataFrame, target: str) -> dict[str, float]:
    """Metrics of `model` on a test period (with labels, as_of and arr)."""
    arr = test["arr"].to_numpy() if target == "churn" else None
    probability = model.predict_proba(test)
    return evaluate(test[target].to_numpy(), probability, test["as_of"], arr)


def gate(
    client: MlflowClient,
    target: str,
    version: str,
    test: pd.DataFrame,
    challenger_metrics: dict[str, float],
    config: PromotionConfig,
) -> PromotionDecision:
    """Tag a new version `challenger`, and promote it to `champion` if it beats the champion."""
    name = model_name(target)
    client.set_registered_model_alias(name, CHALLENGER, version)
    for key, value in challenger_metrics.items():
        client.set_model_version_tag(name, version, f"test_{key}", f"{value:.4f}")
    score = float(challenger_metrics[config.metric])
    current = champion_version(client, target)
    champion_score: float | None = None
    if current is None:
        reason = "first version: no champion yet"
    else:
        champion = load_account_model(target, current)
        champion_score = score_on(champion, test, target)[config.metric]
        reason = (
            f"{config.metric} {score:.4f} vs champion v{current} {champion_score:.4f}"
            " on the same test period"
        )
    promoted = beats(score, champion_score, config.min_improvement)
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    if champion_score is not None:
        client.set_model_version_tag(name, version, "champion_test_score", f"{champion_score:.4f}")
    client.set_model_version_tag(name, version, "promotion", "promoted" if promoted else "kept")
    return PromotionDecision(
        target, version, config.metric, score, current, champion_score, promoted, reason
    )


def promote(client: MlflowClient, target: str, version: str) -> None:
    """Move the `champion` alias to `version` by hand.

    Raises:
        KeyError: The version does not exist.
        WrongModelError: It is not a `target` model on known features (nothing changes).
    """
    name = model_name(target)
    try:
        client.get_model_version(name, version)
    except MlflowException as error:
        raise KeyError(f"{name} has no version {version}") from error
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}").unwrap_python_model()
    check_model_kind(model, target, f"{name} v{version}")
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, "promotion", "promoted by hand")


def list_versions(client: MlflowClient) -> pd.DataFrame:
    """Every registered version of each model with aliases and test metrics."""
    rows: list[dict[str, Any]] = []
    for target in MODEL_KINDS:
        name = model_name(target)
        for mv in client.search_model_versions(f"name='{name}'"):
            aliases = client.get_model_version(name, mv.version).aliases
            row: dict[str, Any] = {
                "model": name,
                "version": int(mv.version),
                "aliases": ",".join(sorted(aliases)),
                "run_id": mv.run_id,
            }
            row.update(
                {k.removeprefix("test_"): v for k, v in mv.tags.items() if k.startswith("test_")}
            )
            row["promotion"] = mv.tags.get("promotion", "")
            rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values(["model", "version"]).reset_index(drop=True) if rows else frame
