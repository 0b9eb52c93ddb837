"""Scoring when one table's dates run days past the latest event (the sixth audit)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from serving.snapshots import FeatureStore
from tests.support import write_tables
from tests.support.tiny import LAST_EVENT, late_closings


def test_scores_are_as_of_the_last_event_with_a_warning_and_as_of_may_go_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = str(write_tables(late_closings(), tmp_path / "export"))
    with caplog.at_level(logging.WARNING, logger="serving.snapshots"):
        assert FeatureStore.from_source(source).latest.as_of == LAST_EVENT
    assert "tickets.closed_at has 6 rows after 2024-02-06T12:00:00Z" in caplog.text
    assert "--as-of" not in caplog.text  # the service has none to pass
    caplog.clear()
    chosen = datetime(2024, 2, 12)  # --as-of: the user reads the tickets as the end
    assert FeatureStore.from_source(source, as_of=chosen).latest.as_of == chosen
    assert "tickets.closed_at" not in caplog.text  # their own date: nothing to warn of
    latest = r"2024-02-16T00:00:00Z is after the latest data in the source \(2024-02-15T17:30:00Z\)"
    with pytest.raises(ValueError, match=latest):
        FeatureStore.from_source(source, as_of=datetime(2024, 2, 16))


def test_a_store_as_of_an_earlier_date_keeps_the_data_horizon(tmp_path: Path) -> None:
    # logged with each score: `retain score --as-of` a past date is a backfill
    source = str(write_tables(late_closings(), tmp_path / "export"))
    earlier = datetime(2024, 2, 1)
    features = FeatureStore.from_source(source, as_of=earlier)
    assert features.latest.as_of == earlier and features.horizon == LAST_EVENT
