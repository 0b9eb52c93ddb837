"""`retain evaluate-policy` needs the uplift champion and says so in one line without it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from retain.cli import app

runner = CliRunner()


def test_without_an_uplift_champion_it_says_to_train_first(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/mlflow.db")
    result = runner.invoke(app, ["evaluate-policy", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "retain-uplift champion" in result.output
    assert "retain train" in result.output
    assert "Traceback" not in result.output
