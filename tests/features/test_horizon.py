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
