# mypy: disable-error-code="arg-type,assignment,call-overload"
"""Individual features on tiny hand-made accounts with answers worked out by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from features.compute import compute_features
from features.definitions import FAMILIES, FEATURE_NAMES, FEATURES, feature
from tests.support.tables import typed_connection

T = datetime(2024, 6, 1)


def _world() -> dict[str, pd.DataFrame]:
    accounts = pd.DataFrame(
        {
            "account_id": ["acme", "quiet", "gone"],
            "created_at": ["2023-01-01", "2024-01-01", "2022-01-01"],
            "employees": [120, 10, 50],
        }
    )
    subscriptions = pd.DataFrame(
        {
            "subscription_id": ["s1", "s2", "s3", "s4", "s5"],
            "account_id": ["acme", "acme", "acme", "quiet", "gone"],
            "kind": ["new", "renewal", "expansion", "new", "new"],
            "start_date": ["2023-01-01", "2024-01-01", "2024-03-01", "2024-05-01", "2022-01-01"],
            "end_date": ["2024-01-01", "2025-01-01", "2025-01-01", "2024-06-01", "2023-01-01"],
            "arr": [1000.0, 1200.0, 300.0, 50.0, 10.0],
            "seats": [10, 10, 5, 2, 1],
            "outcome": ["renewed", None, None, None, "churned"],
        }
    )
    users = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "account_id": ["acme"] * 4,
            "is_key_user": [True, False, True, False],
            "created_at": ["2023-01-01", "2023-01-01", "2023-01-01", "2024-05-20"],
            "deactivated_at": [None, None, "2024-05-01", None],
        }
    )
    events = pd.DataFrame(
        {
            "ts": [
                "2024-04-21 10:00",  # key user u1, 41 days before T
                "2024-05-30 09:00",
                "2024-05-31 09:00",
                "2024-05-31 10:00",
                "2024-06-01 00:00",  # exactly T: counts
                "2024-06-01 00:00:01",  # after T: ignored
                "2024-01-01 10:00",  # older than 90 days
            ],
            "account_id": ["acme"] * 7,
            "user_id": ["u1", "u2", "u2", "u4", "u2", "u1", "u3"],
            "module": ["Reports", "Reports", "Campaigns", "Reports", "Reports", "Reports", "Admin"],
            "feature": ["save", "view", "send", None, "view", "save", "x"],
            "event_type": ["value", "view", "value", "action", "view", "value", "view"],
            "duration_s": [60.0, 120.0, 60.0, None, 0.0, 10.0, 5.0],
        }
    )
    milestones = pd.DataFrame(
        {
            "account_id": ["acme", "quiet"],
            "milestone": ["first_value", "first_value"],
            "due_date": ["2023-03-01", "2024-05-21"],
            "achieved_at": ["2023-03-11", "2024-06-10"],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3"],
            "account_id": ["acme"] * 3,
            "opened_at": ["2024-05-01", "2024-05-20", "2024-05-25"],
            "closed_at": ["2024-05-05", None, "2024-06-03"],
            "priority": ["low", "urgent", "high"],
            "category": ["bug", "bug", "how_to"],
            "csat": [4, None, 1],
        }
    )
    outcomes = pd.DataFrame(
        {
            "account_id": ["acme"] * 4,
            "period_end": ["2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"],
            "kpi": ["hours_saved"] * 4,
            "target": [100.0, 100.0, 0.0, 100.0],
            "actual": [80.0, 50.0, 10.0, 200.0],
        }
    )
    surveys = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "account_id": ["acme"] * 3,
            "user_id": ["u1", "u2", "u1"],
            "ts": ["2024-02-01", "2024-05-01", "2024-07-01"],
            "score": [10, 3, 0],
        }
    )
    touchpoints = pd.DataFrame(
        {
            "touchpoint_id": ["p1", "p2"],
            "account_id": ["acme", "acme"],
            "ts": ["2024-05-22", "2024-06-02"],
            "type": ["business_review", "health_check"],
        }
    )
    return {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "users": users,
        "events": events,
        "milestones": milestones,
        "tickets": tickets,
        "outcomes": outcomes,
        "surveys": surveys,
        "touchpoints": touchpoints,
    }


@pytest.fixture(scope="module")
def rows() -> dict[str, pd.Series]:
    frame = compute_features(typed_connection(_world()), [T])
    return {row["account_id"]: row for _, row in frame.iterrows()}


def test_one_row_per_active_account(rows: dict[str, pd.Series]) -> None:
    # "gone" churned in 2023 and is not a customer at T; "quiet" is in a monthly term.
    # quiet's monthly term ends exactly at T (T < end_date fails): not active at T.
    assert set(rows) == {"acme"}


def test_usage(rows: dict[str, pd.Series]) -> None:
    acme = rows["acme"]
    assert acme["events_7d"] == 4
    assert acme["events_90d"] == 5
    assert acme["active_users_30d"] == 2  # u2, u4
    assert acme["active_users_90d"] == 3
    assert acme["active_days_7d"] == 3  # May 30, May 31 and June 1 (the event at T)
    assert acme["value_share_30d"] == pytest.approx(1 / 4)
    assert acme["modules_used_90d"] == 2
    # the product's modules in use by T: Reports and Campaigns; Admin, last used by anyone
    # in January, is not among them (`test_a_module_renamed_leaves_the_product`)
    assert acme["module_coverage_90d"] == 1.0
    assert acme["feature_coverage_90d"] == 1.0  # Reports/save, /view, /, Campaigns/send
    assert acme["usage_hours_30d"] == pytest.approx(180 / 3600)
    assert acme["events_change_30d"] == pytest.approx((4 - 1) / (4 + 1))


def test_key_users_and_seats(rows: dict[str, pd.Series]) -> None:
    acme = rows["acme"]
    assert acme["days_since_key_user_active"] == pytest.approx(40 + 14 / 24)
    assert acme["days_since_last_activity"] == 0
    assert acme["key_users"] == 1  # u3 left on May 1
    assert acme["key_users_lost_90d"] == 1
    assert acme["key_users_lost_unreplaced_90d"] == 1
    assert acme["licensed_users"] == 3
    assert acme["new_users_30d"] == 1
    assert acme["contract_seats"] == 15
    assert acme["seat_utilization_30d"] == pytest.approx(2 / 15)
    assert acme["key_user_event_share_30d"] == 0


def test_contract(rows: dict[str, pd.Series]) -> None:
    acme = rows["acme"]
    assert acme["contract_arr"] == 1500
    assert acme["arr_growth_since_first_term"] == pytest.approx(1.5)
    assert acme["renewals_so_far"] == 1
    assert acme["expansions_this_term"] == 1
    assert acme["days_to_renewal"] == 214
    assert acme["term_length_days"] == 366
    assert acme["tenure_days"] == 517
    assert acme["employees"] == 120


def test_milestones_support_outcomes_nps_touchpoints(rows: dict[str, pd.Series]) -> None:
    acme = rows["acme"]
    assert acme["first_value_reached"] == 1
    assert acme["first_value_days_late"] == 10
    assert acme["open_tickets"] == 2  # t3 closes after T
    assert acme["open_tickets_urgent"] == 1 and acme["open_tickets_low"] == 0
    assert acme["bug_share_90d"] == pytest.approx(2 / 3)
    assert acme["days_to_close_90d"] == 4
    assert acme["csat_mean_180d"] == 4  # t3's csat is not known before it closes
    assert acme["oldest_open_ticket_days"] == 12
    # latest period (May) has target 0: attainment unknown, not infinite
    assert np.isnan(acme["kpi_attainment_latest"])
    assert acme["kpi_attainment_mean_180d"] == pytest.approx((0.8 + 0.5) / 2)
    assert acme["kpi_periods_below_target_180d"] == 2
    assert acme["nps_latest"] == 3
    assert acme["nps_180d"] == 0  # one promoter, one detractor
    assert acme["nps_response_rate_180d"] == pytest.approx(2 / 3)
    assert acme["days_since_touchpoint"] == 10
    assert acme["touchpoints_business_review_180d"] == 1
    assert acme["touchpoints_health_check_180d"] == 0


def test_account_without_events_or_optional_tables() -> None:
    world = _world()
    tables = {name: world[name] for name in ("accounts", "subscriptions", "users")}
    frame = compute_features(typed_connection(tables), [T])
    acme = frame.set_index("account_id").loc["acme"]
    assert acme["events_30d"] == 0 and acme["active_users_90d"] == 0
    assert acme["module_coverage_90d"] == 0
    assert np.isnan(acme["value_share_30d"])
    assert np.isnan(acme["days_since_key_user_active"])
    assert acme["open_tickets"] == 0 and np.isnan(acme["nps_latest"])
    assert acme["first_value_reached"] == 0
    assert acme["contract_arr"] == 1500


def test_monthly_terms_and_many_snapshots() -> None:
    world = _world()
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    world["subscriptions"] = pd.DataFrame(
        {
            "subscription_id": [f"m{i}" for i in range(6)],
            "account_id": ["quiet"] * 6,
            "kind": ["new"] + ["renewal"] * 5,
            "start_date": months,
            "end_date": list(months[1:]) + [pd.Timestamp("2024-07-01")],
            "arr": [100.0 + i for i in range(6)],
            "seats": [2] * 6,
            "outcome": ["renewed"] * 5 + [None],
        }
    )
    stamps = [m.to_pydatetime() for m in months] + [datetime(2024, 3, 15)]
    frame = compute_features(typed_connection(world), stamps)
    assert list(frame["account_id"].unique()) == ["quiet"]
    assert len(frame) == 7
    mid = frame[frame["as_of"] == pd.Timestamp("2024-03-15")].iloc[0]
    assert mid["contract_arr"] == 102 and mid["days_to_renewal"] == 17
    assert mid["renewals_so_far"] == 2 and mid["term_length_days"] == 31


def test_registry_is_complete() -> None:
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) >= 60
    for f in FEATURES:
        assert f.healthy in ("higher", "lower", "neutral")
        assert f.description and f.unit and f.family in FAMILIES
    assert feature("days_since_key_user_active").healthy == "lower"


def test_a_win_back_counts_its_return_from_the_day_it_came_back() -> None:
    """Eleventh audit: tenure counts a win-back's time away, and nothing said it came back.

    `back` churned at the end of 2023 and signed a new contract on 1 June 2024; `two`
    bought a second product line as another `new` term while the first ran (not a
    return); `rewritten` wrote its renewal as a `new` row starting the day the first ended
    (no time away: not a return either).
    """
    world = _world()
    world["accounts"] = pd.DataFrame(
        {
            "account_id": ["back", "two", "rewritten"],
            "created_at": ["2023-01-01"] * 3,
            **{
                c: [None] * 3
                for c in world["accounts"].columns
                if c not in ("account_id", "created_at")
            },
        }
    )
    world["subscriptions"] = pd.DataFrame(
        {
            "subscription_id": ["b1", "b2", "t1", "t2", "r1", "r2"],
            "account_id": ["back", "back", "two", "two", "rewritten", "rewritten"],
            "kind": ["new"] * 6,
            "start_date": [
                "2023-01-01",
                "2024-06-01",
                "2023-01-01",
                "2023-06-01",
                "2023-01-01",
                "2024-01-01",
            ],  # fmt: skip
            "end_date": [
                "2024-01-01",
                "2025-06-01",
                "2024-01-01",
                "2024-06-01",
                "2024-01-01",
                "2025-01-01",
            ],  # fmt: skip
            "arr": [100.0] * 6,
            "seats": [2] * 6,
            "outcome": ["churned", None, "renewed", "renewed", "renewed", None],
        }
    )
    for table in ("users", "events", "milestones", "tickets", "outcomes", "surveys", "touchpoints"):
        world[table] = world[table].iloc[0:0]
    stamps = [datetime(2023, 9, 1), datetime(2024, 7, 1)]
    frame = compute_features(typed_connection(world), stamps)

    def snapshot(account: str, as_of: str) -> pd.Series:
        found = frame[(frame["account_id"] == account) & (frame["as_of"] == pd.Timestamp(as_of))]
        assert len(found) == 1, (account, as_of)
        return found.iloc[0]

    before = snapshot("back", "2023-09-01")  # the return is in its future
    assert before["returns_after_leaving"] == 0 and np.isnan(before["days_since_return"])
    after = snapshot("back", "2024-07-01")
    assert after["returns_after_leaving"] == 1 and after["days_since_return"] == 30
    assert after["tenure_days"] == 547  # since 1 January 2023, the time away included
    for account, as_of in (("two", "2023-09-01"), ("rewritten", "2024-07-01")):
        row = snapshot(account, as_of)
        assert row["returns_after_leaving"] == 0 and np.isnan(row["days_since_return"])


def test_a_module_renamed_leaves_the_product() -> None:
    """Twelfth audit: a module renamed (Reports -> Insights) stayed among the product's
    modules for good, so every account's coverage fell for good ("29% of the product's
    modules" for accounts using 4 of the 4 still in use). The product's modules at T are
    those anyone used in the 90 days up to T."""
    world = _world()
    world["events"] = pd.DataFrame(
        {
            "ts": ["2023-11-01 10:00", "2024-05-20 10:00", "2024-05-21 10:00", "2024-05-22 10:00"],
            "account_id": ["acme", "acme", "quiet", "quiet"],
            "user_id": ["u1", "u2", "u4", "u4"],
            "module": ["Reports", "Insights", "Insights", "Campaigns"],
            "feature": ["save", "save", "save", "send"],
            "event_type": ["value"] * 4,
            "duration_s": [60.0] * 4,
        }
    )
    frame = compute_features(typed_connection(world), [T]).set_index("account_id")
    # in use by anyone since 3 March: Insights and Campaigns (quiet's term ended by T, its
    # use in May still shows the product); Reports, last used in November, was renamed
    assert list(frame.index) == ["acme"]
    assert frame.loc["acme", "module_coverage_90d"] == pytest.approx(1 / 2)
    assert frame.loc["acme", "feature_coverage_90d"] == pytest.approx(1 / 2)
