"""Registered model names and aliases: the one place they are spelled.

`retain-churn`, `retain-upsell` and `retain-uplift` in the MLflow registry; a new version
is `challenger`, the one serving uses is `champion`.
"""

from __future__ import annotations

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_KINDS: tuple[str, ...] = ("churn", "upsell", "uplift")
ACCOUNT_MODELS: tuple[str, ...] = ("churn", "upsell")  # the AccountModel targets


def model_name(kind: str) -> str:
    """Registered model name of a kind: `retain-churn`, `retain-upsell` or `retain-uplift`."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    return f"retain-{kind}"
