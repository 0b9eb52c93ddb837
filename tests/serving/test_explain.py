"""Drivers in words: contributions add up, sentences come from the feature definitions."""

from __future__ import annotations

import numpy as np
import pytest

from features.definitions import FEATURE_NAMES, FEATURES, feature
from serving.explain import comparison, describe, format_value, reads_as_reason, top_drivers
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
        reasons = [  # known, and differing from healthy accounts the way it pushes
            abs(contributions[row, j])
            for j, name in enumerate(FEATURE_NAMES)
            if not np.isnan(X[row, j])
            and reads_as_reason(
                feature(name), contributions[row, j], X[row, j], churn_model.healthy_reference[name]
            )
        ]
        assert sizes[0] == pytest.approx(max(reasons))
        for d in drivers:
            j = FEATURE_NAMES.index(d.feature)
            assert d.contribution == pytest.approx(contributions[row, j])
            assert d.value == X[row, j]
            assert d.healthy_value == pytest.approx(churn_model.healthy_reference[d.feature])
            assert d.sentence.startswith(feature(d.feature).description)


def test_a_risk_driver_differs_from_healthy_accounts_in_the_risky_direction(churn_model):
    X = random_features(30, seed=8)[list(FEATURE_NAMES)].to_numpy(dtype=float)
    contributions = churn_model.contributions(X)
    shown = 0
    for row in range(len(X)):
        for d in top_drivers(
            contributions[row], X[row], FEATURE_NAMES, churn_model.healthy_reference
        ):
            assert d.value is not None and d.healthy_value is not None, d.sentence
            verdict = comparison(feature(d.feature), d.value, d.healthy_value)
            assert verdict in ("worse than", "better than"), d.sentence
            assert (verdict == "worse than") == (d.contribution > 0), d.sentence
            shown += 1
    assert shown > 30


def test_a_value_in_line_with_healthy_accounts_is_no_reason():
    term = feature("term_length_days")  # the example: 365 days vs 366 raised risk
    assert not reads_as_reason(term, 0.4, 365.0, 366.0)
    # no healthy direction: a monthly term differs, yet the calendar is no reason
    assert not reads_as_reason(term, 0.4, 30.0, 366.0)
    assert not reads_as_reason(feature("days_to_renewal"), 0.9, 0.21, 30.0)
    # an action's rule may still name it: then it is a fact, with no verdict
    said = describe(feature("days_to_renewal"), 12.0, 180.0)
    assert said == "Days until the renewal decision: 12 days (healthy accounts: 180 days)."
    quiet = feature("days_since_key_user_active")
    assert reads_as_reason(quiet, 0.4, 41.0, 3.0)
    assert not reads_as_reason(quiet, 0.4, 1.0, 12.0)  # better than healthy: not a risk reason
    assert reads_as_reason(quiet, -0.4, 1.0, 12.0)  # ... but a reason for lower risk
    assert not reads_as_reason(quiet, -0.4, 1.0, 3.0)  # two days apart: too little to matter
    names = ["term_length_days", "days_since_key_user_active"]
    drivers = top_drivers(
        np.array([0.9, 0.1]), np.array([365.0, 41.0]), names, {names[0]: 366.0, names[1]: 3.0}
    )
    assert [d.feature for d in drivers] == ["days_since_key_user_active"]


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
    assert "better than" in describe(quiet, 1, 12)
    assert "in line with" in describe(quiet, 1, 3)  # within its material difference, a week
    coverage = feature("feature_coverage_90d")  # healthy: higher, a share
    assert describe(coverage, 0.2, 0.6).endswith("20%, worse than healthy accounts (60%).")
    assert describe(coverage, float("nan"), 0.6).endswith("not known yet (healthy accounts: 60%).")


def test_a_no_that_some_healthy_accounts_share_is_not_in_line_with_yes():
    """Tenth audit: "Has reached the first business result agreed at kickoff: no, in line
    with healthy accounts (yes)"."""
    reached = feature("first_value_reached")  # yes/no, healthy: higher
    assert describe(reached, 0.0, 1.0, (0.0, 1.0)) == (
        "Has reached the first business result agreed at kickoff: no, as for some healthy"
        " accounts (most: yes)."
    )
    assert "no, worse than healthy accounts (yes)" in describe(reached, 0.0, 1.0, (1.0, 1.0))
    assert "yes, in line with healthy accounts (yes)" in describe(reached, 1.0, 1.0, (0.0, 1.0))


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (41, "days", "41 days"),
        (1, "days", "1 day"),
        (58.5, "days", "58 days"),  # whole days, as a CSM says them (round half to even)
        (1.7, "days", "2 days"),
        (0.6, "days", "1 day"),
        (0.35, "share", "35%"),
        (12000, "currency", "12,000"),  # the contract's amounts carry no currency
        (30.4, "currency/seat", "30 per seat"),
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


def test_a_value_inside_the_middle_half_of_healthy_accounts_is_in_line_not_worse():
    # Fourth audit: "9 features, worse than healthy accounts (10 features)" led the drivers
    # of 180 of 977 accounts where healthy accounts ranged widely around 10.
    breadth = feature("features_used_30d")
    assert breadth.healthy == "higher"
    assert comparison(breadth, 9.0, 10.0) == "worse than"  # against the median alone
    assert comparison(breadth, 9.0, 10.0, (6.0, 14.0)) == "in line with"
    assert not reads_as_reason(breadth, 0.4, 9.0, 10.0, (6.0, 14.0))
    assert describe(breadth, 9.0, 10.0, (6.0, 14.0)).endswith(
        "9 features, in line with healthy accounts (10 features)."
    )
    # outside it, on the worse side: a reason, worded against the median as before
    assert comparison(breadth, 5.0, 10.0, (6.0, 14.0)) == "worse than"
    assert reads_as_reason(breadth, 0.4, 5.0, 10.0, (6.0, 14.0))
    assert comparison(breadth, 15.0, 10.0, (6.0, 14.0)) == "better than"
    assert reads_as_reason(breadth, -0.4, 15.0, 10.0, (6.0, 14.0))
    # a band of one value (nearly every healthy account at 0) still lets 1 differ
    lost = feature("key_users_lost_unreplaced_90d")
    assert reads_as_reason(lost, 0.4, 1.0, 0.0, (0.0, 0.0))


def test_the_account_page_reads_a_value_inside_the_healthy_middle_half_as_in_line():
    from serving.explain import feature_catalogue
    from serving.pages.account import measures

    values = {"features_used_30d": 9.0, "modules_used_30d": 2.0}
    healthy = {"features_used_30d": 10.0, "modules_used_30d": 4.0}
    bands = {"features_used_30d": (6.0, 14.0), "modules_used_30d": (3.0, 5.0)}
    shown = {
        m.label: m.verdict
        for m in measures(values, healthy, feature_catalogue(), (), bands)["Usage breadth"]
    }
    assert shown == {
        "Product modules used in the last 30 days": "worse than",
        "Product functions used in the last 30 days": "in line with",
    }


def test_values_that_read_the_same_are_in_line_not_worse():
    # Second audit: "Active days, last 30 days vs the 30 before: flat, worse than healthy
    # accounts (flat)" and "Change in KPI attainment...: -1%, worse than healthy accounts
    # (-1%)": next to a healthy value of 0 the 5% tolerance is no tolerance at all.
    days = feature("active_days_change_30d")
    assert format_value(-0.01, days.unit) == format_value(0.0, days.unit) == "flat"
    # the eighth audit: "down (-0.25 on a -1 to +1 scale)", a unit no CSM knows
    assert format_value(-0.25, days.unit) == "down 40%"
    assert format_value(0.2, days.unit) == "up 50%"
    assert format_value(0.5, days.unit) == "up 3x"
    assert format_value(-1.0, days.unit) == "stopped (none in the recent period)"
    assert format_value(1.0, days.unit) == "started (none in the period before)"
    assert comparison(days, -0.01, 0.0) == "in line with"
    assert not reads_as_reason(days, 0.4, -0.01, 0.0)
    assert comparison(days, -0.5, 0.0) == "worse than"
    kpi = feature("kpi_attainment_change")
    assert comparison(kpi, -0.012, -0.008) == "in line with"
    assert comparison(kpi, -0.2, -0.008) == "worse than"


def test_a_count_over_a_window_the_account_has_not_filled_gets_no_verdict():
    steps = feature("value_events_90d")  # a count over the last 90 days
    assert steps.window_days == 90
    young = describe(steps, 2.0, 13.0, (8.0, 20.0), tenure=25.0)
    assert "worse than" not in young and "in line with" not in young
    assert "better than" in describe(steps, 40.0, 13.0, (8.0, 20.0), tenure=25.0)  # still true
    assert "over the 25 days the account has had (healthy accounts: 13 events)" in young
    grown = describe(steps, 2.0, 13.0, (8.0, 20.0), tenure=400.0)
    assert "worse than healthy accounts (13 events)" in grown
    assert describe(steps, 2.0, 13.0, (8.0, 20.0)) == grown  # tenure not known: judged
    share = feature("value_share_30d")  # a share fills no window: judged at any age
    assert share.window_days is None
    assert describe(share, 0.1, 0.5, (0.4, 0.6), tenure=10.0) == describe(
        share, 0.1, 0.5, (0.4, 0.6)
    )
