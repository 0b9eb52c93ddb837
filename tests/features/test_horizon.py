"""The end of the data when one table's dates run days past the latest event.

The sixth audit's hand-written export held six tickets closed up to nine days after
everything else (the exporter's clock, or tickets exported days after the events):
training and scoring ran as of that later day, every account looked days without use,
and `validate` said nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from features.compute import compute_features
from features.horizon import data_horizon, late_activity_warning, latest_activity, latest_data
from retain.cli import app
from tests.support import tiny_world, write_tables
from tests.support.tables import typed_connection
from tests.support.tiny import LAST_EVENT, late_closings


def test_a_table_running_days_past_the_last_event_does_not_set_the_end() -> None:
    con = typed_connection(late_closings())
    assert data_horizon(con) == LAST_EVENT
    assert latest_activity(con) == LAST_EVENT
    assert latest_data(con) == datetime(2024, 2, 15, 17, 30)  # what --as-of may still choose
    assert con.execute("SELECT count(*) FROM tickets").fetchone() == (9,)  # nothing dropped


def test_the_warning_names_the_column_the_rows_and_the_dates() -> None:
    warning = late_activity_warning(typed_connection(late_closings()))
    assert warning is not None and warning.startswith("Warning: ")
    assert (
        "tickets.closed_at has 6 rows after 2024-02-06T12:00:00Z, the latest activity elsewhere"
        " (events.ts), up to 15 Feb 2024" in warning
    )
    assert "the end of the data: it is read as 2024-02-06T12:00:00Z" in warning
    assert "--as-of" in warning and "opened_at" not in warning
    assert late_activity_warning(typed_connection(tiny_world())) is None


def test_touchpoints_dated_ahead_are_named_as_meetings_booked() -> None:
    # the eighteenth audit: a CRM exports the QBRs booked for the next three weeks; the
    # warning called them an exporter's clock, and a cancelled one is read as held
    tables = tiny_world()
    booked = pd.DataFrame(
        {
            "touchpoint_id": ["b1", "b2"],
            "account_id": ["1001", "1003"],
            "ts": [pd.Timestamp("2024-02-12"), pd.Timestamp("2024-02-20 15:00")],
            "type": ["business_review", "training"],
            "owner": [None, None],
            "notes": ["QBR (planned)", None],
        }
    )
    tables["touchpoints"] = pd.concat([tables["touchpoints"], booked], ignore_index=True)
    warning = late_activity_warning(typed_connection(tables))
    assert warning is not None
    assert "touchpoints.ts has 2 rows after 2024-02-06T12:00:00Z" in warning
    assert "meetings booked in the CRM" in warning and "never held still counts" in warning
    # tickets closed late are no meeting
    closings = late_activity_warning(typed_connection(late_closings()))
    assert closings is not None and "meetings booked" not in closings


def test_features_as_of_the_end_read_the_late_rows_as_not_yet_happened() -> None:
    # The rows stay: as of the end, each of those tickets is open, exactly as if the
    # export had been taken before they closed.
    late = compute_features(typed_connection(late_closings()), [LAST_EVENT])
    still_open = compute_features(typed_connection(late_closings([None] * 6)), [LAST_EVENT])
    pd.testing.assert_frame_equal(late, still_open)
    assert late.set_index("account_id").loc["1003", "open_tickets"] == 3


def test_activity_within_two_days_of_the_last_event_still_sets_the_end() -> None:
    # Exports of one source taken the same day or the next morning: as before.
    closed = ["2024-02-03", "2024-02-04", "2024-02-05", "2024-02-06", "2024-02-07",
              "2024-02-08 11:00"]  # fmt: skip
    con = typed_connection(late_closings(closed))
    assert data_horizon(con) == datetime(2024, 2, 8, 11)
    assert late_activity_warning(con) is None


def test_a_source_without_events_takes_its_end_from_the_rest() -> None:
    tables = late_closings()
    del tables["events"]
    con = typed_connection(tables)
    assert data_horizon(con) == datetime(2024, 2, 15, 17, 30)
    assert late_activity_warning(con) is None


def test_validate_warns_and_still_passes(tmp_path: Path) -> None:
    source = write_tables(late_closings(), tmp_path / "export")
    result = CliRunner().invoke(app, ["validate", "--data", str(source)])
    assert result.exit_code == 0, result.output
    assert "follows the data contract" in result.output
    assert "Warning: tickets.closed_at has 6 rows after 2024-02-06T12:00:00Z" in result.output


# --- events stamped past the end of their own stream (a wrong clock) ------------------

STEADY_END = datetime(2025, 12, 31, 23, 50)


def _busy_events(extra: list[str]) -> dict[str, pd.DataFrame]:
    """An event a minute for 28 days to STEADY_END, and `extra`."""
    steady = pd.date_range("2025-12-04", STEADY_END, freq="1min")
    ts = pd.DatetimeIndex([*steady, STEADY_END, *pd.to_datetime(extra)])
    accounts = ["a1", "a2"]
    events = pd.DataFrame(
        {"ts": ts, "account_id": [accounts[i % 2] for i in range(len(ts))], "module": "m",
         "event_type": "view"}
    )  # fmt: skip
    created = pd.Timestamp("2025-01-01")
    terms = [("s1", "a1", "2025-01-01", "2026-01-02"), ("s2", "a2", "2025-01-01", "2026-03-01")]
    subscriptions = pd.DataFrame(
        [(key, account, "new", pd.Timestamp(start).date(), pd.Timestamp(end).date(), 100.0)
         for key, account, start, end in terms],
        columns=["subscription_id", "account_id", "kind", "start_date", "end_date", "arr"],
    )  # fmt: skip
    return {
        "accounts": pd.DataFrame({"account_id": accounts, "created_at": created}),
        "subscriptions": subscriptions,
        "events": events,
    }


def test_a_few_events_stamped_days_ahead_do_not_set_the_end() -> None:
    # the fourteenth audit: 25 events up to four days past the last day moved the end four
    # days, and accounts whose terms ended in them fell out of scoring
    stray = ["2026-01-01 03:53", "2026-01-02 10:00", "2026-01-04 21:27"]
    con = typed_connection(_busy_events(stray))
    assert data_horizon(con) == STEADY_END
    assert latest_data(con) == datetime(2026, 1, 4, 21, 27)  # what --as-of may still choose
    assert con.execute("SELECT count(*) FROM events WHERE ts > ?", [STEADY_END]).fetchone() == (
        3,
    )  # nothing dropped
    warning = late_activity_warning(con)
    assert warning is not None
    assert warning.startswith(
        "Warning: events.ts has 3 rows after 2025-12-31T23:50:00Z, the end of the steady"
        " stream of events, up to 04 Jan 2026, on days holding under 1% of a usual day's"
        " events. These dates read as an artefact of the export"
    )
    assert "it is read as 2025-12-31T23:50:00Z" in warning and "--as-of" in warning
    # a1's term ends on 2 Jan 2026: in force at the end, so scored
    features = compute_features(con, [data_horizon(con)])
    assert sorted(features["account_id"]) == ["a1", "a2"]


def test_an_export_taken_after_midnight_keeps_its_minutes_and_a_quiet_world_its_events() -> None:
    # 30 minutes of the next day at the usual pace are steady, not stray
    early = [f"2026-01-01 00:{minute:02d}" for minute in range(30)]
    con = typed_connection(_busy_events(early))
    assert data_horizon(con) == datetime(2026, 1, 1, 0, 29)
    assert late_activity_warning(con) is None
    # a world of a few events a day: one event on a day is not stray there
    assert late_activity_warning(typed_connection(tiny_world())) is None
