"""The touchpoints features read the source's touchpoints with those recorded through the
service (the store's), each touchpoint once, and still only what was done by T."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from features.compute import compute_features
from features.horizon import data_horizon
from features.source import include_touchpoints, load_source
from store import combine_touchpoints
from tests.support import tiny_world, write_tables
from tests.support.stores import recorded_touchpoints

AS_OF = datetime(2024, 2, 6)  # the tiny world's horizon is 2024-02-06 12:00
COLUMNS = ["days_since_touchpoint", "touchpoints_90d", "touchpoints_onboarding_push_180d"]


def features_of(data: Path, recorded: pd.DataFrame | None, as_of: datetime = AS_OF) -> pd.DataFrame:
    with load_source(data, recorded) as source:
        return compute_features(source.con, [as_of]).set_index("account_id")


def value(frame: pd.DataFrame, account_id: str, column: str) -> float:
    return float(frame.loc[account_id, column])  # type: ignore[arg-type]


def touchpoint(touchpoint_id: str, account_id: str, ts: str, kind: str) -> dict[str, object]:
    return {"touchpoint_id": touchpoint_id, "account_id": account_id, "ts": pd.Timestamp(ts),
            "type": kind, "owner": "dana", "notes": None, "plan_line_id": None,
            "recorded_at": pd.Timestamp("2024-02-06")}  # fmt: skip


def test_a_recorded_touchpoint_counts_in_the_features(tiny_parquet_dir, tmp_path):
    alone = features_of(tiny_parquet_dir, None)
    both = features_of(tiny_parquet_dir, recorded_touchpoints(tmp_path))
    assert math.isnan(value(alone, "1003", "days_since_touchpoint"))  # not in the source
    assert alone.loc["1003", "touchpoints_90d"] == 0
    assert both.loc["1003", "days_since_touchpoint"] == pytest.approx(1.0)  # svc-1, 2024-02-05
    assert both.loc["1003", "touchpoints_90d"] == 1  # svc-2 (April) is after T
    assert both.loc["1003", "touchpoints_onboarding_push_180d"] == 1
    others = ["1001", "1002"]
    pd.testing.assert_frame_equal(alone.loc[others], both.loc[others])  # p2 is in both: once


def test_a_touchpoint_in_the_source_and_the_store_counts_once(tiny_parquet_dir):
    source_copy = touchpoint("p2", "1001", "2024-01-20", "business_review")
    other_account = touchpoint("p1", "1003", "2024-02-01", "health_check")  # p1 is 1002's
    recorded = pd.DataFrame([source_copy, other_account])
    alone = features_of(tiny_parquet_dir, None)
    both = features_of(tiny_parquet_dir, recorded)
    assert value(both, "1001", "touchpoints_90d") == value(alone, "1001", "touchpoints_90d") == 1
    assert both.loc["1001", "touchpoints_business_review_180d"] == 1
    # the same id at another account is another touchpoint (as `combine_touchpoints` says)
    assert value(both, "1002", "touchpoints_90d") == value(alone, "1002", "touchpoints_90d") == 1
    assert both.loc["1003", "touchpoints_90d"] == 1
    with load_source(tiny_parquet_dir, recorded) as source:
        view = source.con.execute("SELECT touchpoint_id, account_id FROM touchpoints").df()
        own = source.con.execute("SELECT * FROM source_touchpoints").df()
    expected = combine_touchpoints(own, recorded, until=AS_OF)
    key = ["touchpoint_id", "account_id"]
    assert sorted(map(tuple, view[key].values)) == sorted(map(tuple, expected[key].values))


def test_a_recorded_touchpoint_after_t_changes_nothing(tiny_parquet_dir):
    horizon = datetime(2024, 2, 6, 12)
    later = pd.DataFrame(
        [
            touchpoint("late-1", "1003", "2024-02-06 00:00:01", "onboarding_push"),
            touchpoint("late-2", "1002", "2024-02-06 11:00", "exec_sponsor_call"),
            touchpoint("after-horizon", "1001", "2025-06-01", "training"),
        ]
    )
    pd.testing.assert_frame_equal(
        features_of(tiny_parquet_dir, None), features_of(tiny_parquet_dir, later)
    )
    with load_source(tiny_parquet_dir, later) as source:
        assert data_horizon(source.con) == horizon  # one recorded later never moves it
    at_horizon = features_of(tiny_parquet_dir, later, horizon)
    assert at_horizon.loc["1002", "days_since_touchpoint"] == pytest.approx(1 / 24)
    assert at_horizon.loc["1001", "touchpoints_training_180d"] == 0  # after the horizon


def test_a_recorded_touchpoint_at_the_edge_of_booked_ahead_rows_moves_no_end() -> None:
    # A review found that a touchpoint recorded at midnight after the last event, where a
    # term booked to start that midnight set the end of the data, became the latest
    # activity and let a user created the next day move the end by a day.
    from features.source import counted_touchpoints
    from tests.support.tables import typed_connection

    con = typed_connection(
        {
            "accounts": pd.DataFrame({"account_id": ["a"], "created_at": ["2024-01-01"]}),
            "subscriptions": pd.DataFrame(
                {
                    "subscription_id": ["s1", "s2"],
                    "account_id": ["a", "a"],
                    "kind": ["new", "renewal"],
                    "start_date": ["2024-01-01", "2024-03-01"],
                    "end_date": ["2024-03-01", "2025-03-01"],
                    "arr": [100.0, 100.0],
                }
            ),
            "events": pd.DataFrame(
                {
                    "ts": ["2024-02-29 15:00"],
                    "account_id": ["a"],
                    "module": ["m"],
                    "event_type": ["view"],
                }
            ),  # fmt: skip
            "users": pd.DataFrame(
                {"user_id": ["u1"], "account_id": ["a"], "created_at": ["2024-03-01 09:00"]}
            ),
        }
    )
    assert data_horizon(con) == datetime(2024, 3, 1)  # the renewal starting that midnight

    class Held:  # what `counted_touchpoints` needs of a source
        pass

    source = Held()
    source.con = con  # type: ignore[attr-defined]
    edge = pd.DataFrame([touchpoint("edge", "a", "2024-03-01 00:00", "health_check")])
    assert counted_touchpoints(source, edge).empty  # after the latest activity: not counted
    within = pd.DataFrame([touchpoint("in", "a", "2024-02-29 12:00", "health_check")])
    assert len(counted_touchpoints(source, within)) == 1


def test_recorded_touchpoints_replace_those_included_before(tiny_parquet_dir, tmp_path):
    with load_source(tiny_parquet_dir, recorded_touchpoints(tmp_path)) as source:
        include_touchpoints(source, None)
        again = compute_features(source.con, [AS_OF]).set_index("account_id")
    pd.testing.assert_frame_equal(again, features_of(tiny_parquet_dir, None))


def test_without_a_touchpoints_table_the_store_gives_the_family(tmp_path):
    tables = tiny_world()
    del tables["touchpoints"]  # optional in the contract
    data = write_tables(tables, tmp_path / "bare", "csv")
    alone = features_of(data, None)
    assert (alone["touchpoints_90d"] == 0).all() and alone["days_since_touchpoint"].isna().all()
    both = features_of(data, recorded_touchpoints(tmp_path))
    assert both.loc["1001", "days_since_touchpoint"] == pytest.approx(17.0)  # p2, 2024-01-20
    assert both.loc["1003", "touchpoints_onboarding_push_180d"] == 1
    assert both.loc["1002", "touchpoints_90d"] == 0
