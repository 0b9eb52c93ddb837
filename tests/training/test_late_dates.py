"""Training when one table's dates run days past the latest event (the sixth audit)."""

from __future__ import annotations

from pathlib import Path

from tests.support import write_tables
from tests.support.tiny import LAST_EVENT, late_closings
from training.config import load_config
from training.train import build_training_set


def test_the_training_set_ends_at_the_last_event_and_says_why(tmp_path: Path) -> None:
    source = str(write_tables(late_closings(), tmp_path / "export"))
    config = load_config().model_copy(update={"warmup_days": 0})  # the tiny world is short
    said: list[str] = []
    dataset, as_of = build_training_set(source, None, config, report=said.append)
    assert as_of == LAST_EVENT
    assert dataset["as_of"].max() <= LAST_EVENT
    assert len(said) == 1 and said[0].startswith("Warning: tickets.closed_at has 6 rows")
