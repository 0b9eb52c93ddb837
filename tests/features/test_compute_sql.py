# mypy: disable-error-code="arg-type,call-overload"
"""The fast feature SQL (per-snapshot scans, only the needed relations) gives the same
numbers as a plain per-T recomputation from the events, including events exactly on
window edges and at T itself, and a feature subset equals those columns of the full run.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from features.compute import compute_features, features_sql, readers_of
from features.definitions import FEATURES, feature
from tests.support.tables import random_world, typed_connection

MOMENTS = [datetime(2024, 3, 1), datetime(2024, 5, 17, 13, 45, 7), datetime(2024, 5, 20, 6)]


def _with_edge_events(world: dict[str, pd.DataFrame], account: str) -> dict[str, pd.DataFrame]:
    """Add `account` events exactly at T, T - 7/30/90 days, 1 s after T, 1 s inside 30 days."""
    events = world["events"]
    template = events[(events["account_id"] == account) & events["user_id"].notna()].iloc[0]
    rows = []
    for t in MOMENTS:
        stamp = pd.Timestamp(t)
        for offset in ("0s", "7D", "30D", "90D", "-1s", "29D 23:59:59", "1D"):
            row = template.copy()
            row["ts"] = stamp - pd.Timedelta(offset)
            rows.append(row)
    return {**world, "events": pd.concat([events, pd.DataFrame(rows)], ignore_index=True)}


def _by_hand(events: pd.DataFrame, users: pd.DataFrame, t: datetime) -> pd.DataFrame:
    """Usage features of one T straight from the events, one account at a time."""
    seen = events[events["ts"] <= t]
    frames: dict[str, pd.Series] = {}
    for days in (7, 30, 90):
        window = seen[seen["ts"] > t - pd.Timedelta(days=days)]
        grouped = window.groupby("account_id")
        frames[f"events_{days}d"] = grouped.size()
        frames[f"active_users_{days}d"] = grouped["user_id"].nunique()
        frames[f"active_days_{days}d"] = grouped["ts"].apply(lambda s: s.dt.floor("D").nunique())
        if days == 90:
            frames["modules_used_90d"] = grouped["module"].nunique()
        if days == 30:
            value = window["event_type"].eq("value").groupby(window["account_id"])
            frames["value_share_30d"] = value.mean()
            known = users[users["created_at"] <= t]
            key = window["user_id"].isin(known.loc[known["is_key_user"], "user_id"])
            by_user = window[window["user_id"].notna()]
            frames["key_user_event_share_30d"] = (
                key[window["user_id"].notna()].groupby(by_user["account_id"]).mean()
            )
    latest = seen.groupby("account_id")["ts"].max()  # an event without a user is use too
    frames["days_since_last_activity"] = (t - latest).dt.total_seconds() / 86400.0
    return pd.DataFrame(frames)


def test_usage_features_equal_a_plain_recomputation_at_window_edges() -> None:
    world = random_world(11)
    active = compute_features(typed_connection(world), MOMENTS).groupby("account_id").size()
    edge = str(active.index[active == len(MOMENTS)][0])  # active at every T
    world = _with_edge_events(world, edge)
    computed = compute_features(typed_connection(world), MOMENTS)
    events = world["events"].copy()
    events["ts"] = pd.to_datetime(events["ts"])
    users = world["users"].assign(created_at=lambda u: pd.to_datetime(u["created_at"]))
    checked = 0
    for t in MOMENTS:
        ours = computed[computed["as_of"] == pd.Timestamp(t)].set_index("account_id")
        expected = _by_hand(events, users, t).reindex(ours.index)
        for name in expected.columns:
            want = expected[name]
            if not name.startswith(("value_share", "days_since", "key_user_event")):
                want = want.fillna(0.0)
            np.testing.assert_allclose(ours[name], want, rtol=1e-9, equal_nan=True, err_msg=name)
            checked += int(want.notna().sum())
    assert checked > 500


def test_each_family_alone_equals_the_full_computation() -> None:
    con = typed_connection(random_world(12))
    full = compute_features(con, MOMENTS)
    by_source: dict[str, list[str]] = {}
    for f in FEATURES:
        if f.source != "features":
            by_source.setdefault(f.source, []).append(f.name)
    for source, names in by_source.items():
        alone = con.execute(features_sql(MOMENTS, [feature(n) for n in names])).df()
        np.testing.assert_allclose(
            alone[names].to_numpy(dtype=float),
            full[names].to_numpy(dtype=float),
            rtol=1e-12,
            equal_nan=True,
            err_msg=source,
        )


def test_a_subset_builds_only_the_relations_it_reads() -> None:
    sql = features_sql(MOMENTS, [feature("events_30d"), feature("active_days_30d")])
    assert "window_events AS" in sql and "account_days AS" in sql
    for unused in ("last_seen AS", "user_windows AS", "src_tickets AS", "product AS"):
        assert unused not in sql
    full = features_sql(MOMENTS)
    for used in ("last_seen AS", "user_windows AS", "src_tickets AS", "product AS"):
        assert used in full


def test_the_readers_of_a_table_are_found_in_the_sql() -> None:
    touchpoints = readers_of("touchpoints")
    family = tuple(f for f in FEATURES if f.family == "touchpoints")
    assert touchpoints.features == touchpoints.inputs == family
    assert touchpoints.relations == {"src_touchpoints"}  # per account: no helper, not the spine
    events = readers_of("events")
    names = {f.name for f in events.features}
    assert {"events_30d", "events_per_active_user_30d", "seat_utilization_30d"} <= names
    assert "contract_seats" not in names  # read by a derived reader: an input, not a reader
    assert "contract_seats" in {f.name for f in events.inputs}
    assert {"product", "window_events"} <= events.relations  # shared by every account
    assert "spine" in readers_of("subscriptions").relations


def test_the_features_of_chosen_accounts_equal_their_rows_of_all() -> None:
    con = typed_connection(random_world(12))
    full = compute_features(con, MOMENTS)
    chosen = sorted(set(full["account_id"]))[:3] + ["no-such-account", "it's"]
    some = compute_features(con, MOMENTS, accounts=chosen)
    expected = full[full["account_id"].isin(chosen)].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)  # every feature, exactly
    assert compute_features(con, MOMENTS, accounts=[]).empty
    reading = readers_of("touchpoints").inputs
    alone = compute_features(con, MOMENTS, reading, accounts=chosen)
    columns = ["account_id", "as_of", *(f.name for f in reading)]
    pd.testing.assert_frame_equal(alone, expected[columns])


def test_snapshots_computed_in_parts_equal_one_query(monkeypatch) -> None:
    # Long histories are computed a few snapshots per query (DuckDB's memory grows with
    # them): the parts must give the one query's rows, in its order.
    import features.compute

    con = typed_connection(random_world(13))
    moments = [*MOMENTS, datetime(2024, 4, 2), datetime(2024, 1, 15)]
    whole = compute_features(con, moments)
    monkeypatch.setattr(features.compute, "SNAPSHOTS_PER_QUERY", 2)
    parts = compute_features(con, moments)
    assert whole["as_of"].nunique() == 5 and len(whole) > 20
    pd.testing.assert_frame_equal(parts, whole)
