"""Training on billing history older than the product analytics (the fifteenth audit).

With events from four and a half months before the end of three years of terms, training
started 90 days after the first event and trained nothing, saying only "more history".
It now says why; `learn_before_tracking: true` starts it at the first term, with the usage
features unknown before the events begin.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.contract import TABLES
from tests.support import write_tables
from tests.support.tables import START, random_world, with_old_term
from training.config import load_config
from training.train import build_training_set

FIRST_EVENT = START + pd.Timedelta(days=600)  # the random world runs 720 days


def _late_source(tmp_path: Path) -> str:
    tables = random_world(5)
    tables["subscriptions"] = with_old_term(tables["subscriptions"])
    tables["events"] = tables["events"][tables["events"]["ts"] >= FIRST_EVENT]
    for name, frame in tables.items():  # every contract column, the nullable ones empty
        for column in TABLES[name].column_names:
            if column not in frame:
                frame[column] = None
    return str(write_tables(tables, tmp_path / "export", fmt="parquet"))


def test_by_default_training_starts_after_the_events_and_says_the_terms_go_back(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    dataset, _ = build_training_set(_late_source(tmp_path), None, load_config(), report=said.append)
    assert pd.to_datetime(dataset["as_of"]).min() > FIRST_EVENT
    noted = [line for line in said if line.startswith("Note: product events begin on")]
    assert len(noted) == 1 and "`learn_before_tracking: true`" in noted[0]
    assert not any(line.startswith("Tracking began late") for line in said)


def test_learning_before_tracking_starts_at_the_first_term_with_usage_unknown(
    tmp_path: Path,
) -> None:
    config = load_config().model_copy(update={"learn_before_tracking": True})
    said: list[str] = []
    dataset, _ = build_training_set(_late_source(tmp_path), None, config, report=said.append)
    moments = pd.to_datetime(dataset["as_of"])
    assert moments.min() < START + pd.Timedelta(days=60)
    before = dataset[moments < FIRST_EVENT]
    after = dataset[moments >= FIRST_EVENT + pd.Timedelta(days=90)]
    assert len(before) > len(after) > 0
    for name in (
        "events_90d",
        "active_users_30d",
        "days_since_last_activity",
        "seat_utilization_30d",
    ):
        assert before[name].isna().all(), name
    assert after["events_90d"].notna().all()
    assert before["contract_arr"].notna().all()  # the billing history is kept
    late = [line for line in said if line.startswith("Tracking began late")]
    assert len(late) == 1 and late[0].startswith("Tracking began late: events begin on")
    assert not any("`learn_before_tracking: true`" in line for line in said)  # it is set
