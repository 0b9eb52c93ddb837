"""A registered model of another kind is refused, naming both kinds."""

from __future__ import annotations

import pytest

from training.kinds import WrongModelError, check_model_kind


def test_a_model_of_another_kind_is_named_with_its_article() -> None:
    """The docs audit: "not a upsell model"."""

    class Churn:
        target = "churn"
        feature_names: tuple[str, ...] = ()

    with pytest.raises(WrongModelError, match="is a churn model, not an upsell model"):
        check_model_kind(Churn(), "upsell", "retain-upsell v1")
