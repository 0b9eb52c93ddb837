"""A model trained before churn's causes changed shows its calibration decay on matured
renewals, and the scheduled retrain (`make retrain`) recovers it.

From July 2025 on, small companies leave at their renewal far more often (planted in the
tables after the simulation). The champion trained in July 2025 keeps scoring them as
before; its logged scores are held against what happened. The retrain a year later
learns the new cause, is promoted by the gate, and its scores hold up on the same later
renewals where the old model's do not.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from features.compute import compute_features
from features.source import load_source
from simulator.world import simulate
from store import Store
from tests.support import write_tables
from tests.support.planted import new_churn_cause
from training.monitor.retrain import retrain
from training.monitor.run import load_champion
from training.tracking import configure_mlflow

pytestmark = pytest.mark.slow
CHANGED = datetime(2025, 7, 1)
RETRAINED = datetime(2026, 7, 1)
WORLD_END = datetime(2027, 7, 1)  # 42 months from 2024-01-01: every later score matures
QUIET = {"uplift": False}  # next-best-action is judged elsewhere


def _log(store_url: str, data: Path, model, version: str, months: list[datetime]) -> None:
    with load_source(str(data)) as source:
        snapshot = compute_features(source.con, months)
    snapshot["churn_probability"] = model.predict_proba(snapshot)
    snapshot["upsell_probability"] = None
    snapshot["model_version"] = f"retain-churn:v{version}"
    snapshot["next_best_action"] = "none"
    with Store(store_url) as store:
        store.log_scores(snapshot, "batch")


def test_calibration_decay_is_seen_on_matured_renewals_and_the_retrain_recovers_it(
    tmp_path: Path,
):
    from mlflow.tracking import MlflowClient

    tables = simulate(400, seed=8, months=42).tables
    accounts = tables["accounts"]
    small = set(accounts.loc[accounts["employees"] <= accounts["employees"].median(), "account_id"])
    data = write_tables(new_churn_cause(tables, CHANGED, small, 0.4), tmp_path / "world", "parquet")
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    store_url = f"sqlite:///{tmp_path}/store.db"
    lines: list[str] = []
    run = partial(  # the same source, registry, store and pages each time
        retrain,
        str(data),
        uri,
        store_url,
        reports=tmp_path / "reports",
        results=tmp_path / "m.json",
        report=lines.append,
        train_options=QUIET,
    )

    # July 2025: the first champion, trained before the change showed in any renewal
    first = run(as_of=CHANGED)
    configure_mlflow(uri)
    old_version, old_model = load_champion(MlflowClient())
    assert first.monitor.outcomes.empty  # nothing logged yet: nothing to judge
    _log(store_url, data, old_model, old_version, [datetime(2025, m, 1) for m in (7, 8, 9, 10)])

    # July 2026: the scheduled retrain; the old scores have matured
    second = run(as_of=RETRAINED)
    decision = second.training.targets["churn"].decision
    assert decision.promoted, decision.reason
    assert second.previous is not None  # the page judges the model that served the year
    decayed = second.previous.outcomes.set_index("version").loc[old_version]
    print(second.previous.lines())
    assert decayed["miscalibrated_deciles"] >= 3
    assert decayed["churn_rate"] > decayed["predicted_rate"] + 0.05
    assert any(a.kind == "outcome" and a.subject == old_version for a in second.previous.alarms)
    assert not [a for a in second.monitor.alarms if a.kind == "outcome"]  # v1 no longer serves
    page = second.page.read_text()
    assert f"churn model v{old_version} is miscalibrated" in page
    assert "new model v" in page and "The retrain replaced it with v" in page

    # the new champion and the old model score the same accounts; judged half a year later
    configure_mlflow(uri)
    new_version, new_model = load_champion(MlflowClient())
    later = [datetime(2026, m, 1) for m in (7, 8, 9)]
    _log(store_url, data, old_model, old_version, later)
    _log(store_url, data, new_model, new_version, later)
    with Store(store_url) as store:
        log = store.score_log()
    only_later = log.loc[pd.to_datetime(log["as_of"]) >= later[0]]
    from training.monitor.run import monitor
    from training.monitor.thresholds import load_thresholds

    judged, _ = monitor(str(data), new_model, new_version, only_later, load_thresholds(), WORLD_END)
    by_version = judged.outcomes.set_index("version")
    print(judged.lines())
    old, new = by_version.loc[old_version], by_version.loc[new_version]
    assert new["matured"] == old["matured"] >= 100
    assert new["miscalibrated_deciles"] < old["miscalibrated_deciles"]
    assert abs(new["churn_rate"] - new["predicted_rate"]) < abs(
        old["churn_rate"] - old["predicted_rate"]
    )
    # ranking is not asserted: within the segment the planted cause is a coin flip
    assert not [a for a in judged.alarms if "miscalibrated" in a.message]  # v2 serves
