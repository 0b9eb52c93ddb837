"""The article the messages put before a model kind or an action code."""

from __future__ import annotations

import pytest

from features.words import with_article


@pytest.mark.parametrize(
    ("noun", "said"),
    [
        ("upsell", "an upsell"),
        ("churn", "a churn"),
        ("upsell_offer", "an upsell_offer"),
        ("exec_sponsor_call", "an exec_sponsor_call"),
        ("onboarding_push", "an onboarding_push"),
        ("Onboarding push", "an Onboarding push"),
        ("training", "a training"),
    ],
)
def test_a_noun_takes_its_article(noun: str, said: str) -> None:
    assert with_article(noun) == said
