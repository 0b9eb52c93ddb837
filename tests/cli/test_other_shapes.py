"""End to end on data shaped unlike the demo: what a real company's export looks like.

Optional tables missing, integer ids, module names of any shape, CSV files, and a
company with only a few months of history. Each must validate, train and score without
code changes, or fail with a message that says what is missing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli import app
from simulator.config import SimConfig
from simulator.world import simulate
from tests.support import write_tables

pytestmark = pytest.mark.slow
runner = CliRunner()
# An export carries no ground truth: one look-ahead path (the world's own draws unchanged).
NO_TRUTH = SimConfig(truth_draws=1, effect_draws=1)


def _reshaped(n_accounts: int, seed: int, months: int) -> dict[str, pd.DataFrame]:
    """A simulated world as a different company would export it: bare, renamed, numeric."""
    export = simulate(n_accounts, seed, months=months, config=NO_TRUTH).tables
    tables = {k: v.copy() for k, v in export.items()}
    for name in ("tickets", "surveys", "outcomes", "milestones", "touchpoints"):
        del tables[name]  # only the required tables
    numeric = {a: 7_000_000 + i for i, a in enumerate(tables["accounts"]["account_id"])}
    people = {u: 90_000 + i for i, u in enumerate(tables["users"]["user_id"])}
    for frame in tables.values():
        frame["account_id"] = frame["account_id"].map(numeric)  # integer ids
        if "user_id" in frame:
            frame["user_id"] = frame["user_id"].map(people).astype("Int64")
    modules = {m: f"Modul Ä/{i} (beta)" for i, m in enumerate(tables["events"]["module"].unique())}
    tables["events"]["module"] = tables["events"]["module"].map(modules)
    return tables


def _invoke(*args: str):
    result = runner.invoke(app, list(args))
    return result, result.output  # stdout and stderr, as a terminal shows them


def test_a_bare_csv_export_with_integer_ids_validates_trains_and_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    data = write_tables(_reshaped(300, seed=21, months=24), tmp_path / "export", fmt="csv")
    monkeypatch.chdir(tmp_path)  # the MLflow store and serving cache land in tmp_path
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("RETAIN_MODEL_CACHE", str(tmp_path / "cache"))
    from retain.settings import get_settings

    get_settings.cache_clear()

    result, output = _invoke("validate", "--data", str(data))
    assert result.exit_code == 0, output

    result, output = _invoke("train", "--data", str(data))
    assert result.exit_code == 0, output
    assert "champion" in output

    scores_file = tmp_path / "scores.csv"
    result, output = _invoke("score", "--data", str(data), "--output", str(scores_file))
    assert result.exit_code == 0, output
    scores = pd.read_csv(scores_file, dtype={"account_id": str})
    assert len(scores) > 100
    assert scores["account_id"].str.fullmatch(r"7\d{6}").all()  # ids kept as given
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["next_best_action"].notna().all()
    get_settings.cache_clear()


def test_a_few_months_of_history_gets_a_clear_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    data = write_tables(_reshaped(150, seed=22, months=4), tmp_path / "young", fmt="parquet")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/mlflow.db")
    from retain.settings import get_settings

    get_settings.cache_clear()
    result, output = _invoke("validate", "--data", str(data))
    assert result.exit_code == 0, output
    result, output = _invoke("features", "--data", str(data), "--as-of", "2024-04-01")
    assert result.exit_code == 0, output
    result, output = _invoke("train", "--data", str(data))
    assert result.exit_code == 1
    assert "Traceback" not in output and "history" in output.lower()
