"""A registered model must be the kind its name says, reading features retain computes.

`retain-churn` holds churn `AccountModel`s, `retain-upsell` upsell ones and
`retain-uplift` uplift models (they have `effects`). Registration, promotion and serving
all check it with `check_model_kind`, so an upsell model registered or promoted under the
churn name never serves upsell probabilities as churn.
"""

from __future__ import annotations

from typing import Any

from features.words import with_article


class WrongModelError(ValueError):
    """A model is not the kind its registered name says (e.g. upsell under `retain-churn`)."""


def check_model_kind(model: Any, kind: str, label: str) -> None:
    """Raise `WrongModelError` unless `model` is a `kind` model on known features.

    Args:
        model: The unwrapped model (`AccountModel` or uplift model).
        kind: `churn`, `upsell` or `uplift`.
        label: How to name it in the message, e.g. `retain-churn v3`.
    """
    from features.definitions import FEATURE_NAMES

    if kind == "uplift":
        if not callable(getattr(model, "effects", None)):
            raise WrongModelError(f"{label} is not an uplift model ({type(model).__name__})")
        return
    target = getattr(model, "target", None)
    if target != kind:
        raise WrongModelError(
            f"{label} is {with_article(str(target))} model, not {with_article(kind)} model"
        )
    unknown = [f for f in getattr(model, "feature_names", ()) if f not in FEATURE_NAMES]
    if unknown:
        raise WrongModelError(
            f"{label} reads features retain does not compute: {', '.join(unknown[:5])}"
        )
