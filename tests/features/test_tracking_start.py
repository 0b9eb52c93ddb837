"""Product analytics installed years after billing began (the fifteenth audit).

Its company billed from January 2021 and tracked events from 15 August 2026, four and a
half months before the end of the data: `retain train` held one snapshot month and trained
nothing, and `validate` said nothing of it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from features.contract import TABLES
from features.tracking_start import (
    late_tracking_note,
    tracked_features,
    tracking_starts,
    unknown_before_tracking,
)
from retain.cli import app
from tests.support import write_tables
from tests.support.tables import START, random_world, typed_connection, with_old_term


def _world(events_from: pd.Timestamp | None = None, tickets_from: pd.Timestamp | None = None):
    tables = random_world(3)
    tables["subscriptions"] = with_old_term(tables["subscriptions"])
    if events_from is not None:
        tables["events"] = tables["events"][tables["events"]["ts"] >= events_from]
    if tickets_from is not None:
        tables["tickets"] = tables["tickets"][tables["tickets"]["opened_at"] >= tickets_from]
    return tables


def test_events_begun_months_before_the_end_and_years_after_the_terms_are_noted() -> None:
    # a billing history of under two years before the events is nothing to note
    tables = random_world(3)
    tables["events"] = tables["events"][tables["events"]["ts"] >= START + pd.Timedelta(days=600)]
    assert late_tracking_note(typed_connection(tables)) is None
    late = START + pd.Timedelta(days=600)  # the world ends 720 days after its start
    note = late_tracking_note(typed_connection(_world(late)))
    assert note is not None
    assert f"product events begin on {late:%d %b %Y}" in note
    assert "`learn_before_tracking: true`" in note
    # events from the start, or from 220 days (over the warm-up and four months) before the end:
    # nothing to say
    assert late_tracking_note(typed_connection(_world())) is None
    assert late_tracking_note(typed_connection(_world(START + pd.Timedelta(days=500)))) is None


def test_the_help_desk_begun_apart_from_the_events_is_named_in_the_note() -> None:
    late, desk = START + pd.Timedelta(days=600), START + pd.Timedelta(days=400)
    tables = _world(late, desk)
    note = late_tracking_note(typed_connection(tables))
    first_ticket = tables["tickets"]["opened_at"].min()
    assert note is not None and f"Tickets begin on {first_ticket:%d %b %Y}" in note


def test_features_read_from_events_include_the_ratios_over_them_and_not_the_contract() -> None:
    events = tracked_features("events")
    assert events["events_90d"] == 90 and events["events_change_30d"] == 60
    assert {"seat_utilization_30d", "events_per_active_user_30d"} <= set(events)
    assert "days_since_last_activity" in events
    assert not {"contract_arr", "tickets_opened_90d", "seat_fill", "key_users"} & set(events)
    assert tracked_features("tickets")["tickets_opened_90d"] == 90


def test_usage_before_the_first_event_and_its_window_is_unknown_not_zero() -> None:
    first_event = datetime(2026, 8, 15)
    snapshots = pd.to_datetime(["2026-07-01", "2026-09-20", "2026-12-01"])
    frame = pd.DataFrame(
        {
            "account_id": "a",
            "as_of": snapshots,
            "events_30d": [0.0, 40.0, 50.0],
            "events_90d": [0.0, 40.0, 150.0],
            "tickets_opened_90d": [0.0, 1.0, 2.0],
            "contract_arr": [1000.0, 1000.0, 1000.0],
        }
    )
    starts = {"events": first_event, "tickets": datetime(2021, 1, 10)}
    masked, said = unknown_before_tracking(frame, starts, datetime(2021, 2, 1))
    assert masked["events_30d"].tolist()[1:] == [40.0, 50.0] and np.isnan(masked["events_30d"][0])
    assert np.isnan(masked["events_90d"][:2]).all() and masked["events_90d"][2] == 150.0
    assert masked["tickets_opened_90d"].tolist() == [0.0, 1.0, 2.0]  # tracked from the start
    assert masked["contract_arr"].tolist() == [1000.0] * 3
    assert len(said) == 1 and said[0].startswith("events begin on 15 Aug 2026")
    # training that starts after the events began (the default warm-up) changes nothing
    same, said = unknown_before_tracking(frame, starts, datetime(2026, 11, 13))
    pd.testing.assert_frame_equal(same, frame)
    assert said == []


def test_tracking_starts_are_the_first_rows_and_a_missing_table_has_none() -> None:
    tables = _world(START + pd.Timedelta(days=600))
    del tables["tickets"]
    starts = tracking_starts(typed_connection(tables))
    assert starts["events"] == tables["events"]["ts"].min().to_pydatetime()
    assert "tickets" not in starts


def test_validate_says_it(tmp_path: Path) -> None:
    tables = _world(START + pd.Timedelta(days=600))
    for name, frame in tables.items():  # every contract column, the nullable ones empty
        for column in TABLES[name].column_names:
            if column not in frame:
                frame[column] = None
    source = write_tables(tables, tmp_path / "export", fmt="parquet")
    result = CliRunner().invoke(app, ["validate", "--data", str(source)])
    assert result.exit_code == 0, result.output
    assert "Note: product events begin on 23 Aug 2024" in result.output
