"""Drivers by family: the proxies' credit goes to the cause the reader points to."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from features.definitions import FEATURES
from training.diagnosis import CauseReader
from training.families import first_families, read_batch, read_families
from training.model import healthy_band
from training.truth import cause_agreement

CATALOGUE = {f.name: f for f in FEATURES}
NAMES = [
    "key_users_lost_unreplaced_90d",
    "key_users",
    "seat_fill",
    "contract_arr",
    "expansions_so_far",
    "tenure_days",
]
HEALTHY = {
    "key_users_lost_unreplaced_90d": 0.0,
    "key_users": 2.0,
    "seat_fill": 1.0,
    "contract_arr": 50_000.0,
    "expansions_so_far": 1.0,
    "tenure_days": 700.0,
}
# A key user left (the cause); seat fill, its proxy, carries most of the model's credit.
VALUES = np.array([1.0, 1.0, 0.75, 50_000.0, 4.0, 2_000.0])
SHAP = {
    "key_users_lost_unreplaced_90d": 0.1,
    "key_users": 0.0,
    "seat_fill": 0.8,
    "contract_arr": 0.0,
    "expansions_so_far": -0.3,
    "tenure_days": 0.5,
}


def test_without_a_reader_the_proxy_leads() -> None:
    readings = read_families(NAMES, VALUES, SHAP, HEALTHY, CATALOGUE)
    assert first_families(readings) == ["users", "key_users"]
    assert readings[0].lead == "seat_fill"
    assert readings[-1].direction == "lowers" and readings[-1].family == "contract"
    assert readings[-1].features == ("expansions_so_far",)


def test_a_value_inside_healthy_accounts_middle_half_is_no_reason() -> None:
    # healthy accounts fill 70-100% of their seats: 75% is what they look like
    bands = {"seat_fill": (0.7, 1.0), "key_users": (2.0, 3.0)}
    readings = read_families(NAMES, VALUES, SHAP, HEALTHY, CATALOGUE, bands=bands)
    assert first_families(readings) == ["key_users"]
    assert all("seat_fill" not in r.features for r in readings)


def test_the_middle_half_of_healthy_accounts_is_their_25th_to_75th_percentile() -> None:
    frame = pd.DataFrame(
        {"seat_fill": np.linspace(0.0, 1.0, 101), "key_users": [np.nan] * 101, "x": ["a"] * 101}
    )
    bands = healthy_band(frame, ["seat_fill", "key_users", "x"])
    assert bands == {"seat_fill": (pytest.approx(0.25), pytest.approx(0.75))}


def test_a_band_of_no_width_widens_to_the_10th_to_90th_percentile() -> None:
    """Eighth audit: "Days since anyone used the product: 1 day, worse than healthy accounts
    (0 days)" was a reason for risk, since most healthy accounts sit at 0 days: [0, 0]."""
    from training.families import reads_as_reason

    days = np.r_[np.zeros(80), np.ones(12), np.arange(2, 10)]  # 100 healthy accounts
    bands = healthy_band(
        pd.DataFrame({"days_since_last_activity": days}), ["days_since_last_activity"]
    )
    assert bands["days_since_last_activity"] == (0.0, pytest.approx(1.0))  # 10th, 90th
    # the band alone, without the feature's material difference (below)
    feature = dataclasses.replace(CATALOGUE["days_since_last_activity"], material=0.0)
    band = bands["days_since_last_activity"]
    assert not reads_as_reason(feature, 0.3, 1.0, 0.0, band)  # one day off: no reason
    assert reads_as_reason(feature, 0.3, 5.0, 0.0, band)  # more than 9 in 10 healthy: a reason


def test_a_ticket_open_for_a_day_is_no_reason_where_healthy_accounts_have_none_open() -> None:
    """Ninth audit: "Age in days of the oldest open ticket: 1 day, worse than healthy
    accounts (0 days)" was a second driver; the band of a book with few tickets is [0, 0]."""
    from training.families import reads_as_reason

    feature = CATALOGUE["oldest_open_ticket_days"]
    assert feature.material == 7.0
    assert not reads_as_reason(feature, 0.3, 1.31, 0.0, (0.0, 0.0))
    assert not reads_as_reason(feature, 0.3, 6.0, 0.0, (0.0, 0.0))
    assert reads_as_reason(feature, 0.3, 12.0, 0.0, (0.0, 0.0))  # open for 12 days
    # a feature without a material difference keeps reading any difference its unit shows
    assert CATALOGUE["open_tickets_urgent"].material == 0.0
    assert reads_as_reason(CATALOGUE["open_tickets_urgent"], 0.3, 1.0, 0.0, (0.0, 0.0))


@pytest.mark.parametrize(
    ("name", "immaterial", "material"),
    [
        ("days_since_last_activity", 1.0, 7.0),  # a weekend is no warning, a week is
        ("days_since_key_user_active", 6.0, 9.0),
        ("open_tickets_low", 1.0, 2.0),  # one low-priority ticket is support at work
        ("open_tickets_normal", 1.0, 3.0),
        ("open_tickets", 1.0, 2.0),
    ],
)
def test_a_difference_too_small_to_matter_is_no_reason(
    name: str, immaterial: float, material: float
) -> None:
    """Ninth audit: "Open support tickets of low priority: 1 ticket, worse than healthy
    accounts (0 tickets)" and "Days since anyone at the account used the product: 1 day"
    read as reasons where nearly all healthy accounts sit at 0 (band [0, 0])."""
    from training.families import comparison, reads_as_reason

    feature = CATALOGUE[name]
    assert comparison(feature, immaterial, 0.0, (0.0, 0.0)) == "in line with"
    assert not reads_as_reason(feature, 0.3, immaterial, 0.0, (0.0, 0.0))
    assert comparison(feature, material, 0.0, (0.0, 0.0)) == "worse than"
    assert reads_as_reason(feature, 0.3, material, 0.0, (0.0, 0.0))


def test_a_count_over_more_days_than_the_account_has_had_is_no_reason() -> None:
    # The eleventh audit: "Value-producing steps completed in the last 90 days: 2 events,
    # worse than healthy accounts (13 events)" for accounts 6-25 days old.
    names = ["value_events_90d", "value_events_30d", "value_share_30d", "tenure_days"]
    healthy = {"value_events_90d": 13.0, "value_events_30d": 5.0, "value_share_30d": 0.3}
    shap = {"value_events_90d": 0.6, "value_events_30d": 0.3, "value_share_30d": 0.2}

    def shown(tenure: float) -> tuple[str, ...]:
        values = np.array([2.0, 1.0, 0.1, tenure])
        readings = read_families(names, values, shap, healthy | {"tenure_days": 700.0}, CATALOGUE)
        return tuple(f for r in readings if r.direction == "raises" for f in r.features)

    assert shown(400.0) == ("value_events_90d", "value_events_30d", "value_share_30d")
    assert shown(45.0) == ("value_events_30d", "value_share_30d")  # 90 days not yet had
    assert shown(12.0) == ("value_share_30d",)  # a share is fair at any age
    assert CATALOGUE["value_events_90d"].window_days == 90
    assert CATALOGUE["value_share_30d"].window_days is None


def test_a_feature_with_no_healthy_direction_is_never_a_reason() -> None:
    # the score leans on tenure most (+0.5) but a customer's age is not what went wrong
    readings = read_families(NAMES, VALUES, SHAP, HEALTHY, CATALOGUE)
    named = {n for r in readings for n in r.features}
    assert "tenure_days" not in named and "contract_arr" not in named
    # renewals count terms, not years: a monthly book's 9 against an annual account's 1
    renewals = read_families(
        ["renewals_so_far"], np.array([1.0]), {"renewals_so_far": 0.4}, {"renewals_so_far": 9.0},
        CATALOGUE,
    )  # fmt: skip
    assert renewals == []
    assert all(r.family != "contract" for r in readings if r.direction == "raises")


def test_the_reader_hands_the_proxys_credit_to_the_cause() -> None:
    readings = read_families(
        NAMES,
        VALUES,
        SHAP,
        HEALTHY,
        CATALOGUE,
        likelihood={"key_users": 0.9, "support": 0.1},
        evidence={"key_users": {"key_users_lost_unreplaced_90d": 0.5, "key_users": 0.2}},
    )
    raising = [r for r in readings if r.direction == "raises"]
    assert [r.family for r in raising] == ["key_users", "users"]
    assert raising[0].lead == "key_users_lost_unreplaced_90d"
    assert raising[0].features == ("key_users_lost_unreplaced_90d", "key_users")
    # support has no feature worse than healthy here: no credit, never shown
    assert sum(r.contribution for r in raising) == pytest.approx(0.9)
    assert raising[0].contribution == pytest.approx(0.9 * 0.9 + 0.1 * 0.1)
    assert raising[0].shap == pytest.approx(0.1)


def test_a_family_in_line_with_healthy_accounts_is_never_a_reason() -> None:
    values = np.array([0.0, 2.0, 0.75, 50_000.0, 4.0, 2_000.0])  # key users as healthy accounts'
    readings = read_families(
        NAMES, values, SHAP, HEALTHY, CATALOGUE, likelihood={"key_users": 0.99}
    )
    assert "key_users" not in first_families(readings)
    assert first_families(readings) == ["users"]


def _toy_reader() -> tuple[CauseReader, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame(
        {
            "key_users_lost_unreplaced_90d": rng.integers(0, 2, n).astype(float),
            "open_tickets_urgent": rng.integers(0, 2, n).astype(float),
            "seat_fill": rng.uniform(0.5, 1.0, n),
        }
    )
    cause = np.where(
        frame["key_users_lost_unreplaced_90d"] > 0,
        "key_user_gone",
        np.where(frame["open_tickets_urgent"] > 0, "support_storm", "none"),
    )
    families = {"key_user_gone": "key_users", "support_storm": "support"}
    reader = CauseReader.fit(frame, pd.Series(cause), families, list(frame.columns))
    return reader, frame


def test_the_reader_learns_causes_and_survives_a_round_trip() -> None:
    reader, frame = _toy_reader()
    X = reader.matrix(frame, [])
    p = reader.family_probabilities(X)
    gone = frame["key_users_lost_unreplaced_90d"].to_numpy() > 0
    storm = (~gone) & (frame["open_tickets_urgent"].to_numpy() > 0)
    assert (p["key_users"][gone] > 0.9).all() and (p["support"][storm] > 0.9).all()
    again = CauseReader.from_json(reader.to_json())
    np.testing.assert_allclose(again.cause_probabilities(X), reader.cause_probabilities(X))
    evidence = reader.family_evidence(X)
    lean = evidence["key_users"][gone].mean(axis=0)
    assert np.argmax(lean) == list(frame.columns).index("key_users_lost_unreplaced_90d")


def test_read_batch_takes_the_readers_columns_from_the_snapshot() -> None:
    reader, _ = _toy_reader()
    names = ["seat_fill", "key_users_lost_unreplaced_90d", "open_tickets_urgent", "key_users"]
    values = np.array([[0.75, 1.0, 0.0, 1.0], [0.75, 0.0, 2.0, 2.0]])
    shap = np.array([[0.8, 0.1, 0.0, 0.0, -1.0], [0.8, 0.0, 0.1, 0.0, -1.0]])  # + base
    healthy = {"seat_fill": 1.0, "key_users_lost_unreplaced_90d": 0.0}
    healthy |= {"open_tickets_urgent": 0.0, "key_users": 2.0}
    readings = read_batch(names, values, names, shap, healthy, CATALOGUE, reader)
    assert [first_families(r)[0] for r in readings] == ["key_users", "support"]


def test_cause_agreement_counts_first_and_any_of_three_per_cause() -> None:
    as_of = pd.Timestamp("2025-01-01")
    causes = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "as_of": [as_of] * 4,
            "dominant_cause": ["key_user_gone", "key_user_gone", "support_storm", "none"],
        }
    )
    rows = causes[["account_id", "as_of"]]
    shown = [["key_users"], ["users", "outcomes", "key_users"], ["users"], ["usage"]]
    found = cause_agreement(causes, rows, shown)
    assert found["cause_rows"] == 3
    assert found["cause_first_driver"] == pytest.approx(1 / 3)
    assert found["cause_first_three"] == pytest.approx(2 / 3)
    assert found["cause_first_driver_key_user_gone"] == pytest.approx(0.5)
    assert found["cause_first_three_key_user_gone"] == pytest.approx(1.0)
    assert found["cause_first_three_support_storm"] == pytest.approx(0.0)
