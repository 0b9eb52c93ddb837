"""Touchpoints in the store: idempotent by id, conflicts named, read back, counted once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from store import (
    TOUCHPOINT_COLUMNS,
    Plan,
    PlanLine,
    Store,
    Touchpoint,
    TouchpointConflict,
    UnknownPlanLine,
    combine_touchpoints,
)

WHEN = datetime(2026, 6, 3, 14, 30, 15, 123456)


def touchpoint(i: int = 1, **changes: object) -> Touchpoint:
    values: dict[str, object] = {
        "touchpoint_id": f"crm-{i}",
        "account_id": "acct-0001",
        "ts": WHEN + timedelta(hours=i),
        "type": "health_check",
        "owner": "dana",
        "notes": "walked through the new dashboard",
    }
    values.update(changes)
    return Touchpoint(**values)  # type: ignore[arg-type]


def test_a_touchpoint_is_stored_once_and_read_back_whole(store: Store) -> None:
    first = store.add_touchpoint(touchpoint())
    again = store.add_touchpoint(touchpoint())
    assert first.created and not again.created
    assert again.touchpoint == first.touchpoint
    assert again.recorded_at == first.recorded_at
    frame = store.touchpoints()
    assert list(frame.columns) == list(TOUCHPOINT_COLUMNS)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["ts"] == pd.Timestamp(WHEN + timedelta(hours=1))  # microseconds kept
    assert (row["touchpoint_id"], row["type"], row["owner"]) == ("crm-1", "health_check", "dana")


def test_the_same_id_with_other_content_is_a_conflict_naming_the_fields(store: Store) -> None:
    store.add_touchpoint(touchpoint())
    with pytest.raises(TouchpointConflict) as raised:
        store.add_touchpoint(touchpoint(type="exec_sponsor_call", notes="other"))
    assert raised.value.fields == ("type", "notes")
    assert "crm-1" in str(raised.value)
    assert len(store.touchpoints()) == 1


def test_an_aware_time_is_stored_as_naive_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    store.add_touchpoint(touchpoint(ts=datetime(2026, 6, 3, 9, 0, tzinfo=tokyo)))
    assert store.touchpoints().iloc[0]["ts"] == pd.Timestamp("2026-06-03 00:00")
    # the same moment given in UTC is the same touchpoint, not a conflict
    again = store.add_touchpoint(touchpoint(ts=datetime(2026, 6, 3, 0, 0, tzinfo=UTC)))
    assert not again.created


def test_touchpoints_filter_by_account_and_time(store: Store) -> None:
    for i in range(1, 5):
        store.add_touchpoint(touchpoint(i, account_id="acct-0002" if i == 3 else "acct-0001"))
    assert store.touchpoints(account_id="acct-0001")["touchpoint_id"].tolist() == [
        "crm-1", "crm-2", "crm-4",
    ]  # fmt: skip
    until = store.touchpoints(until=WHEN + timedelta(hours=2))
    assert until["touchpoint_id"].tolist() == ["crm-1", "crm-2"]
    assert store.touchpoints(account_id="nobody").empty


def test_a_touchpoint_following_a_plan_line_must_name_a_stored_one(store: Store) -> None:
    with pytest.raises(UnknownPlanLine):
        store.add_touchpoint(touchpoint(plan_line_id="line-9"))
    assert store.touchpoints().empty
    line = PlanLine("line-9", "acct-0001", "health_check", owner="dana")
    store.save_plan(Plan("plan-1", WHEN.date(), [line]))
    store.add_touchpoint(touchpoint(plan_line_id="line-9"))
    assert store.touchpoints()["plan_line_id"].tolist() == ["line-9"]


def test_a_touchpoint_cannot_follow_another_accounts_plan_line(store: Store) -> None:
    # The fourth audit recorded a touchpoint for one account with another's plan line: it
    # was stored, and would have counted as following that line in `retain experiments`.
    line = PlanLine("line-9", "acct-0001", "health_check", owner="dana")
    store.save_plan(Plan("plan-1", WHEN.date(), [line]))
    with pytest.raises(UnknownPlanLine, match="is for another account, not 'acct-0002'"):
        store.add_touchpoint(touchpoint(account_id="acct-0002", plan_line_id="line-9"))
    assert store.touchpoints().empty


def test_concurrent_writers_of_one_id_store_it_once(store: Store) -> None:
    results: list[bool] = []

    def record() -> None:
        results.append(store.add_touchpoint(touchpoint(7)).created)

    threads = [threading.Thread(target=record) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert store.touchpoints()["touchpoint_id"].tolist() == ["crm-7"]


def test_touchpoints_survive_reopening(store_url: str) -> None:
    with Store(store_url) as first:
        first.add_touchpoint(touchpoint())
    with Store(store_url) as reopened:
        assert reopened.touchpoints()["touchpoint_id"].tolist() == ["crm-1"]
        assert not reopened.add_touchpoint(touchpoint()).created


def test_a_touchpoint_in_both_the_source_and_the_store_counts_once(store: Store) -> None:
    store.add_touchpoint(touchpoint(1, plan_line_id=None))
    store.add_touchpoint(touchpoint(2))
    source = pd.DataFrame(
        {
            "touchpoint_id": ["crm-1", "crm-0"],  # crm-1 exported back by the CRM
            "account_id": ["acct-0001", "acct-0003"],
            "ts": pd.to_datetime([WHEN + timedelta(hours=1), WHEN]),
            "type": ["health_check", "exec_sponsor_call"],
        }
    )
    combined = combine_touchpoints(source, store.touchpoints())
    assert combined["touchpoint_id"].tolist() == ["crm-0", "crm-1", "crm-2"]
    assert list(combined.columns) == [*source.columns, "plan_line_id"]
    assert combined["plan_line_id"].isna().all()  # neither recorded one follows a plan line
    cut = combine_touchpoints(source, store.touchpoints(), until=WHEN + timedelta(hours=1))
    assert cut["touchpoint_id"].tolist() == ["crm-0", "crm-1"]
    alone = combine_touchpoints(source, None)
    assert alone["touchpoint_id"].tolist() == ["crm-0", "crm-1"]


def test_a_source_touchpoint_whose_id_was_recorded_for_another_account_is_kept(
    store: Store,
) -> None:
    # A second audit: the API accepted crm-5 for one account while the source's crm-5 was
    # another account's training; training then silently lost the source's row.
    store.add_touchpoint(touchpoint(5, account_id="acct-0001"))
    source = pd.DataFrame(
        {
            "touchpoint_id": ["crm-5"],
            "account_id": ["acct-0009"],
            "ts": pd.to_datetime([WHEN - timedelta(days=30)]),
            "type": ["training"],
        }
    )
    combined = combine_touchpoints(source, store.touchpoints())
    assert sorted(zip(combined["touchpoint_id"], combined["account_id"], strict=True)) == [
        ("crm-5", "acct-0001"),
        ("crm-5", "acct-0009"),
    ]
