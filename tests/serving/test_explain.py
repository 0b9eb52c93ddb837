"""Drivers in words: contributions add up, sentences come from the feature definitions."""

from __future__ import annotations

import numpy as np
import pytest

from features.definitions import FEATURE_NAMES, FEATURES, feature
from serving.explain import describe, format_value, top_drivers
from tests.support.serving import CHURN_DRIVER, make_model, random_features


@pytest.fixture(scope="module")
def churn_model():
    return make_model("churn")


def test_contributions_plus_base_value_equal_the_raw_score(churn_model):
    X = random_features(40, seed=5)[list(FEATURE_NAMES)].to_numpy(dtype=float)
    contributions = churn_model.contributions(X)
    assert contributions.shape == (40, len(FEATURE_NAMES) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), churn_model.raw_score(X), atol=1e-9)


def test_top_drivers_are_the_largest_contributions_with_values(churn_model):
    X = random_features(10, seed=6)[list(FEATURE_NAMES)].to_numpy(dtype=float)
    contributions = churn_model.contributions(X)
    for row in range(len(X)):
        drivers = top_drivers(
            contributions[row], X[row], churn_model.feature_names, churn_model.healthy_reference
        )
        assert 1 <= len(drivers) <= 5
        sizes = [abs(d.contribution) for d in drivers]
        assert sizes == sorted(sizes, reverse=True)
        known = ~np.isnan(X[row])  # a feature without a value for the account is not shown
        largest = np.max(np.abs(contributions[row, :-1][known]))
        assert sizes[0] == pytest.approx(largest)
        for d in drivers:
            j = FEATURE_NAMES.index(d.feature)
            assert d.contribution == pytest.approx(contributions[row, j])
            assert d.value == X[row, j]
            assert d.healthy_value == pytest.approx(churn_model.healthy_reference[d.feature])
            assert d.sentence.startswith(feature(d.feature).description)


def test_the_synthetic_churn_driver_leads_for_a_quiet_account(churn_model):
    row = random_features(1, seed=7)[list(FEATURE_NAMES)].to_numpy(dtype=float)
    row[0, FEATURE_NAMES.index(CHURN_DRIVER)] = 110
    contributions = churn_model.contributions(row)[0]
    drivers = top_drivers(contributions, row[0], FEATURE_NAMES, churn_model.healthy_reference)
    assert drivers[0].feature == CHURN_DRIVER
    assert drivers[0].contribution > 0
    assert "110 days, worse than healthy accounts" in drivers[0].sentence


def test_sentence_uses_description_unit_and_healthy_direction():
    quiet = feature("days_since_key_user_active")  # healthy: lower
    assert describe(quiet, 41, 3) == (
        "Days since a key user was last active: 41 days, worse than healthy accounts (3 days)."
    )
    assert "better than" in describe(quiet, 1, 3)
    coverage = feature("feature_coverage_90d")  # healthy: higher, a share
    assert describe(coverage, 0.2, 0.6).endswith("20%, worse than healthy accounts (60%).")
    assert describe(coverage, float("nan"), 0.6).endswith("not known yet (healthy accounts: 60%).")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (41, "days", "41 days"),
        (1, "days", "1 day"),
        (0.35, "share", "35%"),
        (12000, "currency", "$12,000"),
        (1, "yes/no", "yes"),
        (0, "yes/no", "no"),
        (12.5, "events/user", "12.5 events per user"),
        (float("nan"), "days", "not known"),
    ],
)
def test_format_value(value, unit, expected):
    assert format_value(value, unit) == expected


def test_every_defined_feature_can_be_described():
    for f in FEATURES:
        sentence = describe(f, 1.0, 2.0)
        assert sentence.startswith(f.description.rstrip(". ")) and sentence.endswith(".")
