"""validate's notes on a data pipeline's faults, on small hand-made tables.

The fourteenth audit's warehouse export had a day of events loaded twice (the median
account's events of the last 7 days rose 13%), a batch of touchpoints loaded again under
new ids, and old terms whose outcome was never recorded though a renewal followed; it
followed the contract, and validate said nothing of any.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from features.compute import compute_features
from features.contract import TABLES
from features.pipeline_notes import (
    duplicate_events_note,
    duplicate_touchpoints_note,
    events_before_signup_note,
    missing_columns_note,
    unsettled_terms_note,
    zero_arr_terms_note,
)
from features.source import open_source
from retain.cli import app
from tests.support import write_tables
from tests.support.tables import typed_connection

EVENT = {"account_id": "a", "user_id": "u1", "module": "m", "event_type": "view"}


def _events(day: str, n: int, duration: float | None = 10.0) -> pd.DataFrame:
    """`n` events a minute apart from noon of `day`."""
    ts = pd.Timestamp(day) + pd.Timedelta(hours=12) + pd.to_timedelta(range(n), unit="min")
    return pd.DataFrame({"ts": ts, **EVENT, "feature": None, "duration_s": duration})


def test_a_day_loaded_twice_is_named_with_its_copies() -> None:
    june, july = _events("2025-06-10", 5), _events("2025-07-01", 4)
    events = pd.concat([june, june, july, july.iloc[:1]], ignore_index=True)
    note = duplicate_events_note(typed_connection({"events": events}))
    assert note is not None
    assert note.startswith(
        "Note: 6 events are exact copies of another (the same time, account, user, module,"
        " feature, type and duration), on 2 days: 10 Jun 2025 (5 of 10 events),"
        " 01 Jul 2025 (1 of 5 events)."
    )
    assert "every copy counts as use" in note and "nothing is dropped" in note


def test_events_that_differ_in_any_column_or_share_only_nulls_are_no_copies() -> None:
    one = _events("2025-06-10", 3)
    other_user = one.assign(user_id="u2")
    other_length = one.assign(duration_s=11.0)
    assert duplicate_events_note(typed_connection({"events": one})) is None
    events = pd.concat([one, other_user, other_length], ignore_index=True)
    assert duplicate_events_note(typed_connection({"events": events})) is None
    # null in the same columns is the same row: a replayed event without feature or duration
    empty = _events("2025-06-10", 2, duration=None)
    note = duplicate_events_note(typed_connection({"events": pd.concat([empty, empty])}))
    assert note is not None and note.startswith("Note: 2 events are exact copies")


def _touchpoints(ids: list[str], notes: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "touchpoint_id": ids,
            "account_id": "a",
            "ts": pd.Timestamp("2025-12-01 10:00"),
            "type": "health_check",
            "owner": None,
            "notes": notes,
        }
    )


def test_touchpoints_loaded_again_under_new_ids_are_named() -> None:
    frame = _touchpoints(["tp_1", "TP-R-1", "tp_2"], [None, None, "called"])
    note = duplicate_touchpoints_note(typed_connection({"touchpoints": frame}))
    assert note is not None
    assert note.startswith(
        "Note: 1 touchpoint repeats another's account, time, type, owner and notes under a"
        " new touchpoint_id ('TP-R-1' and 'tp_1'; at 1 account)."
    )
    three = _touchpoints(["x1", "x2", "x3"], ["n", "n", "n"])
    note = duplicate_touchpoints_note(typed_connection({"touchpoints": three}))
    assert note is not None and note.startswith("Note: 2 touchpoints repeat")
    assert "'x1' and 'x2', 'x1' and 'x3'" in note
    # the same id twice is a duplicated key (validate's problem), not a copy under a new id
    same_id = _touchpoints(["z1", "z1", "z2"], ["n", "n", "m"])
    assert duplicate_touchpoints_note(typed_connection({"touchpoints": same_id})) is None
    apart = _touchpoints(["y1", "y2"], ["first call", "second call"])
    assert duplicate_touchpoints_note(typed_connection({"touchpoints": apart})) is None


def _terms(rows: list[tuple]) -> pd.DataFrame:
    columns = ["subscription_id", "account_id", "kind", "start_date", "end_date", "outcome"]
    frame = pd.DataFrame(rows, columns=columns).assign(arr=1000.0)
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def test_an_old_term_without_outcome_followed_by_another_is_named() -> None:
    subscriptions = _terms(
        [
            ("s1", "a", "new", "2023-01-01", "2024-01-01", None),  # a renewal followed
            ("s2", "a", "renewal", "2024-01-01", "2025-01-01", "renewed"),
            ("s3", "a", "renewal", "2025-01-01", "2026-01-01", None),  # open: the latest
            ("s4", "b", "new", "2023-06-01", "2024-06-01", None),  # back after a gap
            ("s5", "b", "new", "2024-09-01", "2025-09-01", None),
            ("x1", "b", "expansion", "2024-10-01", "2025-09-01", None),
            ("s6", "c", "new", "2024-01-01", "2025-01-01", None),  # lapsed: lapsed_terms_note
        ]
    )
    note = unsettled_terms_note(typed_connection({"subscriptions": subscriptions}))
    assert note is not None
    assert note.startswith(
        "Note: 2 new/renewal terms have no outcome though they ended before a later term of"
        " the account began ('s1' of 'a' ended 01 Jan 2024, 's4' of 'b' ended 01 Jun 2024)."
    )
    assert "training leaves them out" in note and "record `renewed`" in note
    outcomes: list[str | None] = ["renewed", "renewed", None, "churned", None, None, None]
    settled = subscriptions.assign(outcome=pd.Series(outcomes, dtype=object))
    assert unsettled_terms_note(typed_connection({"subscriptions": settled})) is None


def test_validate_says_the_three_notes_on_an_export_with_a_replay_file(tmp_path: Path) -> None:
    created = pd.Timestamp("2023-01-01")
    subscriptions = _terms(
        [
            ("s1", "a", "new", "2023-01-01", "2024-01-01", None),
            ("s2", "a", "renewal", "2024-01-01", "2026-01-01", None),
        ]
    )
    tables = {
        "accounts": pd.DataFrame({"account_id": ["a"], "created_at": [pd.Timestamp("2025-06-11")]}),
        "users": pd.DataFrame(
            {"user_id": ["u1"], "account_id": ["a"], "is_key_user": [True], "created_at": created}
        ),
        "subscriptions": subscriptions,
        "touchpoints": _touchpoints(["tp_1", "TP-R-1"], ["called", "called"]),
    }
    for name, frame in tables.items():  # every contract column, nullable ones empty
        tables[name] = frame.reindex(columns=list(TABLES[name].column_names))
    directory = write_tables(tables, tmp_path / "source", "csv")
    (directory / "events").mkdir()
    june = _events("2025-06-10", 3)  # and before 'a' was created (a trial)
    june.to_parquet(directory / "events" / "2025-06.parquet", index=False)
    june.to_parquet(directory / "events" / "2025-06-replay.parquet", index=False)
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Note: 3 events are exact copies of another" in said
    assert "Note: 1 touchpoint repeats another's account" in said
    assert "Note: 1 new/renewal term has no outcome though it ended" in said
    assert "Note: 6 events are dated before their account's created_at" in said


def test_an_event_file_without_an_optional_column_is_named(tmp_path: Path) -> None:
    directory = tmp_path / "events"
    directory.mkdir()
    _events("2024-06-10", 3).to_parquet(directory / "2024-06.parquet", index=False)
    july = _events("2024-07-10", 4).drop(columns=["feature"])
    july.to_parquet(directory / "2024-07.parquet", index=False)
    august = _events("2024-08-10", 2).drop(columns=["feature", "duration_s"])
    august.to_parquet(directory / "2024-08.parquet", index=False)
    with open_source(tmp_path) as source:
        note = missing_columns_note(source)
    assert note is not None
    assert note.startswith(
        "Note: in events/, `duration_s` is missing from 1 of its 3 files (2024-08.parquet,"
        " 2 rows); `feature` is missing from 2 of its 3 files (2024-07.parquet, 4 rows,"
        " 2024-08.parquet, 2 rows). The files are read together by column name"
    )
    (directory / "2024-07.parquet").unlink()
    (directory / "2024-08.parquet").unlink()
    with open_source(tmp_path) as source:
        assert missing_columns_note(source) is None


def test_events_without_a_feature_are_no_function_used() -> None:
    # a month exported without `feature` had added one function per module used
    named = _events("2024-07-10", 3).assign(feature=["f1", "f2", "f1"])
    unnamed = _events("2024-07-11", 5)  # same module, feature null
    accounts = pd.DataFrame({"account_id": ["a"], "created_at": [pd.Timestamp("2024-01-01")]})
    subscriptions = _terms([("s1", "a", "new", "2024-01-01", "2025-01-01", None)])
    tables = {"accounts": accounts, "subscriptions": subscriptions}
    with_nulls = pd.concat([named, unnamed], ignore_index=True)
    as_of = [pd.Timestamp("2024-07-31").to_pydatetime()]
    row = compute_features(typed_connection({**tables, "events": with_nulls}), as_of).iloc[0]
    assert row["features_used_30d"] == 2 and row["feature_coverage_90d"] == 1.0
    assert row["modules_used_30d"] == 1
    row = compute_features(typed_connection({**tables, "events": unnamed}), as_of).iloc[0]
    assert row["features_used_30d"] == 0 and row["modules_used_30d"] == 1


def test_events_before_their_accounts_sign_up_are_named() -> None:
    accounts = pd.DataFrame(
        {"account_id": ["a", "b"], "created_at": pd.to_datetime(["2025-06-12", "2025-01-01"])}
    )
    early = pd.concat([_events("2025-06-10", 3), _events("2025-06-12", 2)], ignore_index=True)
    tables = {"accounts": accounts, "events": early.assign(account_id="a")}
    note = events_before_signup_note(typed_connection(tables))
    assert note is not None
    assert note.startswith(
        "Note: 3 events are dated before their account's created_at, at 1 account ('a': 3"
        " from 10 Jun 2025, created 12 Jun 2025). They count as the account's use"
    )
    after = {"accounts": accounts, "events": _events("2025-06-12", 2).assign(account_id="a")}
    assert events_before_signup_note(typed_connection(after)) is None


def test_terms_at_arr_zero_are_named() -> None:
    subscriptions = _terms(
        [
            ("s1", "a", "new", "2024-01-01", "2025-01-01", "renewed"),
            ("s2", "a", "renewal", "2025-01-01", "2026-01-01", None),
            ("x1", "a", "expansion", "2025-03-01", "2026-01-01", None),
        ]
    )
    assert zero_arr_terms_note(typed_connection({"subscriptions": subscriptions})) is None
    free = subscriptions.assign(arr=[1000.0, 0.0, 0.0])  # an expansion at 0 says nothing
    note = zero_arr_terms_note(typed_connection({"subscriptions": free}))
    assert note is not None
    assert note.startswith(
        "Note: 1 new/renewal term has ARR 0 ('s2' of 'a' from 01 Jan 2025). The contract"
        " allows it (a free term), and it reads so: no ARR at risk"
    )
