"""A matrix of data shapes a company may bring, from the simulator's knobs (issue 17).

Export shapes (id formats, timestamp styles, each optional table left out and all at
once) change only how one small world is written: each is validated and its features
computed, in seconds. Company shapes (history of 6, 12, 18 and 36 months; monthly, annual
and mixed terms; growth as expansion rows, only at renewal, or none) change the world
itself: each runs `validate`, `train`, `score` and `serve` end to end, and every model
either trains or says in one line why not (marked slow: about 20-40 s a world). The
20,000-account case only validates and computes features (minutes to train).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retain.cli import app
from simulator.config import SimConfig
from simulator.shapes import OPTIONAL_TABLES, reshape
from simulator.world import World, simulate, simulate_to_dir
from simulator.writer import write_world

runner = CliRunner()
KEY = "shape-test-key-0123456789"


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MLflow store, serving cache and service store inside `tmp_path`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("RETAIN_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path


# --- export shapes: the same world written the way other companies export it ----------


@pytest.fixture(scope="module")
def small_world() -> World:
    return simulate(60, seed=17, months=5)


EXPORTS: dict[str, dict[str, Any]] = {
    "ids with spaces, sub-second timestamps, CSV": {
        "id_style": "spaces", "timestamps": "subsecond", "fmt": "csv"},
    "unicode ids, time-zoned timestamps, CSV": {
        "id_style": "unicode", "timestamps": "zoned", "fmt": "csv"},
    "ids with leading zeros, time-zoned timestamps": {
        "id_style": "leading_zeros", "timestamps": "zoned"},
    **{f"no {name}": {"tables": tuple(t for t in OPTIONAL_TABLES if t != name)}
       for name in OPTIONAL_TABLES},
    "no optional table": {"tables": ()},
}  # fmt: skip


@pytest.mark.parametrize("shape", list(EXPORTS))
def test_every_export_shape_validates_and_gives_features(small_world, shape, workspace):
    knobs = dict(EXPORTS[shape])
    fmt = knobs.pop("fmt", "parquet")
    config = dataclasses.replace(SimConfig(), **knobs)
    tables = {name: frame.copy() for name, frame in small_world.tables.items()}
    truth = {name: frame.copy() for name, frame in small_world.truth.items()}
    reshape(tables, truth, config.tables, config.id_style, config.timestamps,
            np.random.default_rng(0))  # fmt: skip
    world = dataclasses.replace(small_world, tables=tables, truth=truth, config=config)
    data = workspace / "export"
    write_world(world, data, fmt=fmt)

    code, output = _cli("validate", "--data", str(data))
    assert code == 0, output
    out = workspace / "features.parquet"
    code, output = _cli("features", "--data", str(data), "--as-of", "2024-05-01",
                        "--output", str(out))  # fmt: skip
    assert code == 0, output
    features = pd.read_parquet(out)
    assert set(features["account_id"]) <= set(tables["accounts"]["account_id"])  # ids as given
    assert len(features) > 20


# --- company shapes: validate, train, score and serve -------------------------------------


@dataclass(frozen=True)
class Company:
    """A simulated company and what `retain train` must do with its history."""

    accounts: int
    months: int
    knobs: dict[str, Any] = field(default_factory=dict)
    fmt: str = "parquet"
    trains: tuple[str, ...] = ("churn", "upsell")  # the others say why not


COMPANIES: dict[str, Company] = {
    "6 months: nothing to learn from yet": Company(60, 6, trains=()),
    "12 months, monthly terms, growth billed at renewal, unicode ids, zoned CSV, no surveys":
        Company(300, 12, {"monthly_term_share": 1.0, "expansions": "renewal",
                          "id_style": "unicode", "timestamps": "zoned",
                          "tables": ("tickets", "outcomes", "milestones", "touchpoints")},
                fmt="csv", trains=("churn",)),
    "18 months, annual terms, no growth, leading-zero ids, sub-second CSV, no tickets":
        Company(60, 18, {"monthly_term_share": 0.0, "expansions": "none",
                         "id_style": "leading_zeros", "timestamps": "subsecond",
                         "tables": ("surveys", "outcomes", "milestones", "touchpoints")},
                fmt="csv", trains=("churn",)),
    "36 months, mixed terms, expansion rows, ids with spaces, no outcomes":
        Company(60, 36, {"id_style": "spaces",
                         "tables": ("tickets", "surveys", "milestones", "touchpoints")}),
    "24 months, growth billed at renewal, no optional table at all":
        Company(60, 24, {"expansions": "renewal", "tables": ()}),
    "18 months, mixed terms, no milestones": Company(
        150, 18, {"tables": ("tickets", "surveys", "outcomes", "touchpoints")}),
    "18 months, monthly terms, no touchpoints": Company(
        150, 18, {"monthly_term_share": 1.0,
                  "tables": ("tickets", "surveys", "outcomes", "milestones")}),
}  # fmt: skip


def _serve(data: Path, workspace: Path) -> tuple[dict, dict, dict]:
    from retain.settings import Settings
    from serving.app import create_app

    settings = Settings(
        data=str(data),
        mlflow_uri=f"sqlite:///{workspace}/mlflow.db",
        model_cache=workspace / "cache",
        api_keys=KEY,  # type: ignore[arg-type]
        reload_seconds=3600,
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz").json()
        models = client.get("/v1/models", headers={"X-API-Key": KEY}).json()
        some = pd.read_parquet(workspace / "scores.parquet")["account_id"].head(3).tolist()
        scored = client.post(
            "/v1/score", json={"account_ids": some}, headers={"X-API-Key": KEY}
        ).json()
    return ready, models, scored


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMPANIES))
def test_each_company_shape_validates_trains_what_it_can_scores_and_serves(name, workspace):
    company = COMPANIES[name]
    data = workspace / "company"
    # A company's export carries no ground truth: none is drawn (one look-ahead path, the
    # world's own draws unchanged) and none is left beside the tables.
    config = SimConfig(**company.knobs, truth_draws=1, effect_draws=1)
    world = simulate_to_dir(data, company.accounts, seed=9, months=company.months,
                            fmt=company.fmt, config=config)  # fmt: skip
    shutil.rmtree(data / "_truth")
    code, output = _cli("validate", "--data", str(data))
    assert code == 0, output

    code, output = _cli("train", "--data", str(data))
    for model in ("churn", "upsell"):
        if model in company.trains:
            assert f"retain-{model} v1: champion" in output, output
        else:  # one line naming the model and why
            assert f"{model}: not trained: " in output, output
    if "churn" not in company.trains:
        assert code == 1 and "Traceback" not in output and "longer history" in output
        return
    assert code == 0, output
    # the chosen model against a plain LightGBM and a logistic regression, same test rows
    assert output.count("model - plain_lightgbm ROC-AUC") == len(company.trains)
    assert "worse beyond noise" not in output, output

    code, output = _cli("score", "--data", str(data), "--output", "scores.parquet")
    assert code == 0, output
    scores = pd.read_parquet(workspace / "scores.parquet")
    assert set(scores["account_id"]) <= set(world.tables["accounts"]["account_id"])
    assert scores["churn_probability"].between(0, 1).all()
    if "upsell" in company.trains:
        assert scores["upsell_probability"].between(0, 1).all()
    else:
        assert scores["upsell_probability"].isna().all()
        assert not (scores["next_best_action"] == "upsell_offer").any()

    ready, models, scored = _serve(data, workspace)
    assert ready["ready"] and len(scored["scores"]) == 3 and not scored["unknown"]
    missing_tables = set(OPTIONAL_TABLES) - set(world.config.tables)
    assert "touchpoints" not in missing_tables or "retain-uplift" in models["missing_models"]
    if "upsell" not in company.trains:
        reason = models["missing_models"]["retain-upsell"]
        assert reason.startswith("upsell: not trained: ")
        assert ready["missing_models"]["retain-upsell"] == reason
        assert all(s["upsell_probability"] is None for s in scored["scores"])
    family = {"tickets": "support", "surveys": "nps", "outcomes": "outcomes",
              "milestones": "milestones", "touchpoints": "touchpoints"}  # fmt: skip
    assert {family[t] for t in missing_tables} <= set(models["missing_families"])
    for score in scored["scores"]:
        shown = {d["feature"] for d in score["drivers"]}
        assert all(d["value"] is not None for d in score["drivers"]), shown


@pytest.mark.slow
def test_twenty_thousand_accounts_validate_and_give_features(workspace):
    """Training this size takes minutes; the shape point here is that loading scales."""
    data = workspace / "big"
    simulate_to_dir(data, 20_000, seed=5, months=3, config=SimConfig(truth_draws=2, effect_draws=2))
    code, output = _cli("validate", "--data", str(data))
    assert code == 0, output
    code, output = _cli("features", "--data", str(data), "--as-of", "2024-03-01",
                        "--output", str(workspace / "f.parquet"))  # fmt: skip
    assert code == 0, output
    assert len(pd.read_parquet(workspace / "f.parquet")) > 15_000
