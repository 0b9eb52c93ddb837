"""The monitor on a simulated world: planted changes raise the right alarm within one
monthly run; the unchanged world raises none over 12 monthly runs.

Changes are planted in the tables after the simulation (`tests.support.planted`), at a date
after the champion's training reference was taken, as a product release, a new price list,
a new customer segment or a change in the product's event tracking would reach a company's
export. Only the tracking change is diagnosed as one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from features.compute import compute_features
from features.definitions import feature
from features.labels import compute_labels
from features.source import load_source
from simulator.world import simulate
from store import SCORE_LOG_COLUMNS, Store
from tests.support import write_tables
from tests.support.planted import (
    add_small_accounts,
    drop_module_usage,
    log_fewer_events,
    reprice,
)
from tests.support.serving import make_model
from training.monitor.reference import reference_at
from training.monitor.run import monitor
from training.monitor.thresholds import load_thresholds

WORLD_END = datetime(2026, 7, 1)  # 30 months from 2024-01-01
TRAINED = datetime(2025, 12, 1)  # the champion's training date (its reference)
CHANGED = datetime(2025, 12, 3)  # the planted change
FIRST_RUN = datetime(2026, 1, 1)  # the first monthly run after it
NO_LOG = pd.DataFrame(columns=list(SCORE_LOG_COLUMNS))


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return simulate(300, seed=5, months=30).tables


@pytest.fixture(scope="module")
def world(tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("monitor-world") / "world", "parquet")


def _champion(world: Path, trained: datetime):
    model = make_model("churn", seed=3, trees=10)
    model.reference = reference_at(str(world), trained, model)
    return model


def _families(alarms) -> set[str]:
    return {feature(a.subject).family for a in alarms if a.kind in ("feature", "missing")}


def test_an_unchanged_world_raises_no_alarm_over_twelve_monthly_runs(world: Path):
    model = _champion(world, datetime(2025, 6, 1))  # never retrained: the reference ages
    thresholds = load_thresholds()
    runs = [pd.Timestamp("2025-07-01") + pd.DateOffset(months=m) for m in range(12)]
    false_alarms = []
    largest = 0.0
    for when in runs:
        report, _ = monitor(str(world), model, "1", NO_LOG, thresholds, when.to_pydatetime())
        false_alarms += [f"{when:%Y-%m}: {a.message}" for a in report.alarms]
        false_alarms += [f"{when:%Y-%m}: {d}" for d in report.diagnosis]
        largest = max(largest, float(report.features["psi"].max()))
    print(f"false alarms over {len(runs)} runs: {len(false_alarms)}; largest PSI {largest:.2f}")
    assert largest > 0.25  # the customer base did age: a threshold alone would have fired
    assert false_alarms == []


def _first_run(changed: dict[str, pd.DataFrame], world: Path, tmp_path: Path):
    model = _champion(world, TRAINED)
    data = write_tables(changed, tmp_path / "changed", "parquet")
    report, _ = monitor(str(data), model, "1", NO_LOG, load_thresholds(), FIRST_RUN)
    control, _ = monitor(str(world), model, "1", NO_LOG, load_thresholds(), FIRST_RUN)
    assert control.alarms == []  # the same month without the change: quiet
    assert control.tracking is None
    return report


def _first_run_alarms(changed: dict[str, pd.DataFrame], world: Path, tmp_path: Path):
    report = _first_run(changed, world, tmp_path)
    assert report.tracking is None  # customers, prices or a module: not how events are logged
    return report.alarms


def test_a_module_renamed_by_a_release_raises_a_usage_alarm(tables, world: Path, tmp_path: Path):
    alarms = _first_run_alarms(drop_module_usage(tables, "reports", CHANGED), world, tmp_path)
    assert _families(alarms) == {"usage"}
    assert {"features_used_30d", "modules_used_30d"} <= {a.subject for a in alarms}


def test_a_price_change_raises_an_arr_alarm(tables, world: Path, tmp_path: Path):
    alarms = _first_run_alarms(reprice(tables, CHANGED, 1.3), world, tmp_path)
    assert _families(alarms) == {"contract"}
    assert "arr_per_seat" in {a.subject for a in alarms}
    assert "Annual recurring revenue per licensed seat" in alarms[0].message


def test_a_new_segment_of_small_accounts_raises_size_alarms(tables, world: Path, tmp_path: Path):
    changed = add_small_accounts(tables, CHANGED, count=60, world_end=WORLD_END)
    alarms = _first_run_alarms(changed, world, tmp_path)
    subjects = {a.subject for a in alarms}
    assert {"contract_seats", "contract_arr", "employees"} <= subjects
    assert alarms[0].subject in {"contract_seats", "contract_arr", "employees"}  # largest first


def test_events_logged_at_half_the_rate_are_diagnosed_as_a_tracking_change(
    tables, world: Path, tmp_path: Path
):
    # the twelfth audit: half the views and actions logged from a date, the same people
    report = _first_run(log_fewer_events(tables, CHANGED, keep=0.5), world, tmp_path)
    assert "events_per_active_user_30d" in {a.subject for a in report.alarms}
    change = report.tracking
    assert change is not None and change.fell
    assert change.since == TRAINED and change.since_label == "when v1 was trained"
    assert 0.4 < change.ratio < 0.7 and change.share >= 0.6
    assert abs(change.users_now - change.users_then) <= 1
    assert report.diagnosis[0].startswith("Events per active user fell")
    assert any(line.startswith("Diagnosis: Events per active user fell") for line in report.lines())


def test_a_backfill_is_not_judged_while_scores_made_at_the_time_are(world: Path, tmp_path: Path):
    """Thirteenth audit: a CRM backfill asked the API for past dates; those scores matured at
    once, survivors picked after the fact, and read as a miscalibrated model (exit 1)."""
    model = _champion(world, TRAINED)
    made_then, unkept, backfilled = datetime(2025, 3, 1), datetime(2025, 4, 1), datetime(2025, 5, 1)
    with load_source(str(world)) as source:
        snapshot = compute_features(source.con, [made_then, unkept, backfilled])
        labels = compute_labels(source.con, [made_then, unkept, backfilled], WORLD_END)
    known = labels.loc[labels["churn"].notna()].groupby("as_of").size()
    scores = snapshot[["account_id", "as_of"]].assign(
        churn_probability=model.predict_proba(snapshot), upsell_probability=None,
        model_version="retain-churn:v1", next_best_action="none",
    )  # fmt: skip
    at = scores["as_of"]
    with Store(f"sqlite:///{tmp_path}/store.db") as store:
        store.log_scores(scores[at == made_then].assign(horizon=made_then), "batch")
        store.log_scores(scores[at == unkept], "batch")  # logged before horizons were kept
        store.log_scores(scores[at == backfilled].assign(horizon=WORLD_END), "api")
        log = store.monthly_scores()
    report, _ = monitor(str(world), model, "1", log, load_thresholds(), WORLD_END)
    left_out = int(known[pd.Timestamp(backfilled)])
    assert left_out > 100 and report.backdated == left_out
    judged = int(known[pd.Timestamp(made_then)] + known[pd.Timestamp(unkept)])
    assert report.outcomes["matured"].tolist() == [judged]
    said = (
        f"{left_out} matured score(s) made for dates more than 7 days before the data's end at"
        " the time (a backfill) are not judged"
    )
    assert any(said in line for line in report.lines())
    assert report.as_json()["backdated_scores"] == left_out
