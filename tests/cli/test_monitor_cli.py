"""`retain monitor` end to end on a small simulated world with a small registered champion.

The champion is a real calibrated LightGBM model (`tests.support.serving.make_model`); its
training reference is taken from the world itself, as `retain train` does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retain.cli import app
from simulator.world import simulate_to_dir
from store import Store
from tests.support.registry import new_registry, promote, register_python_model
from tests.support.serving import make_model, test_settings
from training.model import AccountModel
from training.monitor.reference import reference_at

runner = CliRunner()
HORIZON = datetime(2025, 3, 1)  # the world's end: 14 months from 2024-01-01


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("monitor") / "world"
    simulate_to_dir(data, n_accounts=90, seed=4, months=14)
    return data


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """One registry, store and results file for the module (each test promotes its own)."""
    from retain.settings import get_settings

    root = tmp_path_factory.mktemp("monitor-registry")
    uri = new_registry(root)
    store_url = f"sqlite:///{root}/store.db"
    results = root / "monitor" / "latest.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIN_MLFLOW_URI", uri)
        patch.setenv("RETAIN_STORE_URL", store_url)
        patch.setenv("RETAIN_MONITOR_RESULTS", str(results))
        get_settings.cache_clear()
        yield {"uri": uri, "store_url": store_url, "results": results}
    get_settings.cache_clear()


def _champion(
    uri: str, data: Path, with_reference: bool = True, **attributes: object
) -> AccountModel:
    model = make_model("churn", seed=3, trees=10)
    if with_reference:
        model.reference = reference_at(str(data), HORIZON, model)
    for name, value in attributes.items():
        setattr(model, name, value)
    promote(uri, "retain-churn", register_python_model(uri, "retain-churn", model))
    return model


def _monitor(data: Path, *extra: str):
    result = runner.invoke(app, ["monitor", "--data", str(data), *extra])
    return result, result.output


def test_an_empty_score_log_says_there_is_nothing_to_judge_yet(world: Path, setup: dict):
    _champion(setup["uri"], world)
    with Store(setup["store_url"]) as store:
        assert store.score_log().empty  # this test runs before any score is logged
    result, output = _monitor(world)
    assert "nothing to judge yet" in output
    assert "Largest feature shifts since training" in output
    assert result.exit_code == 0, output  # the reference is today's snapshot: nothing moved
    assert setup["results"].exists()


def test_a_champion_without_a_reference_gets_a_fallback_message(world: Path, setup: dict):
    _champion(setup["uri"], world, with_reference=False)
    result, output = _monitor(world)
    assert result.exit_code == 0, output
    assert "registered without a training reference" in output
    assert "make retrain" in output


def test_features_the_source_no_longer_has_are_named(world: Path, setup: dict, tmp_path: Path):
    _champion(setup["uri"], world)
    bare = tmp_path / "bare"
    shutil.copytree(world, bare)
    (bare / "tickets.parquet").unlink()  # the help-desk export stopped
    result, output = _monitor(bare)
    assert result.exit_code == 1
    assert "no longer has" in output
    assert "open_tickets (table tickets)" in output
    assert "days_to_close_90d (table tickets)" in output


def test_a_source_without_optional_tables_is_monitored_when_the_model_never_had_them(
    world: Path, setup: dict, tmp_path: Path
):
    bare = tmp_path / "bare"
    shutil.copytree(world, bare)
    for table in ("tickets", "surveys", "outcomes", "milestones", "touchpoints"):
        (bare / f"{table}.parquet").unlink()
    families = ["milestones", "nps", "outcomes", "support", "touchpoints"]
    model = make_model("churn", seed=3, trees=10)
    model.missing_families = families
    model.reference = reference_at(str(bare), HORIZON, model)
    version = register_python_model(setup["uri"], "retain-churn", model)
    promote(setup["uri"], "retain-churn", version)
    result, output = _monitor(bare)
    assert result.exit_code == 0, output
    assert "No alarm" in output


def test_logged_scores_are_held_against_the_renewals_since_and_shown_on_metrics(
    world: Path, setup: dict
):
    from features.compute import compute_features
    from features.source import load_source
    from serving.app import create_app
    from tests.support.serving import API_KEY, make_service

    model = _champion(setup["uri"], world)
    with load_source(str(world)) as source:
        early = compute_features(source.con, [datetime(2024, 6, 1), datetime(2024, 7, 1)])
    early["churn_probability"] = model.predict_proba(early)
    early["upsell_probability"] = None
    early["model_version"] = "retain-churn:v1,retain-upsell:v1"
    early["next_best_action"] = "health_check"
    with Store(setup["store_url"]) as store:
        store.log_scores(early, "batch")
    result, output = _monitor(world, "--as-of", "2025-03-01")
    assert "Churn model v1 on" in output, output
    matured = int(output.split("Churn model v1 on ")[1].split(" ")[0])
    assert 0 < matured <= len(early)

    import mlflow

    runs = mlflow.search_runs(
        experiment_names=["retain"], filter_string="tags.kind = 'monitor'", output_format="list"
    )
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(runs[0].info.run_id, "monitor")}
    assert {"monitor/calibration.png", "monitor/score_shift.png", "monitor/report.txt"} <= logged
    assert runs[0].data.metrics["outcome.v1.matured"] == matured

    settings = test_settings(monitor_results=setup["results"])
    with TestClient(create_app(settings, make_service())) as client:
        metrics = client.get("/metrics", headers={"X-API-Key": API_KEY}).text
    assert "retain_monitor_results_present 1.0" in metrics
    assert 'retain_monitor_feature_psi{feature="days_to_renewal"}' in metrics
    assert 'retain_monitor_outcome{measure="matured",version="1"}' in metrics
    assert pd.notna(matured)


def test_a_table_running_past_the_last_event_is_a_warning(world: Path, setup: dict, tmp_path: Path):
    # The sixth audit's late tickets: validate, train and score warned that they do not set
    # the end of the data; monitor takes that end itself and said nothing.
    _champion(setup["uri"], world)
    late = tmp_path / "late"
    shutil.copytree(world, late)
    last_event = pd.read_parquet(late / "events", columns=["ts"])["ts"].max()  # a day a file
    tickets = pd.read_parquet(late / "tickets.parquet")
    closed = tickets.index[tickets["closed_at"].notna()][:3]
    tickets.loc[closed, "closed_at"] = last_event + pd.Timedelta(days=9)  # the export's clock
    tickets.to_parquet(late / "tickets.parquet", index=False)
    result, output = _monitor(late)
    assert result.exit_code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith(f"Monitor as of {HORIZON:%Y-%m-%d}")  # the end stays the events'
    assert lines[1].startswith("Warning: tickets.closed_at has 3 rows after")
    assert "Note: Warning" not in output
    assert json.loads(setup["results"].read_text())["warnings"] == [lines[1]]
    chosen, said = _monitor(late, "--as-of", f"{HORIZON:%Y-%m-%d}")
    assert chosen.exit_code == 0 and "Warning" not in said  # a date chosen: nothing to warn of
