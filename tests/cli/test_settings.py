"""One settings model for every command: `.env` and `RETAIN_*` reach train, models, promote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli import app
from retain.settings import Settings, get_settings


@pytest.fixture
def in_folder_with_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("RETAIN_MLFLOW_URI", "RETAIN_PLAYBOOK", "RETAIN_DATA"):
        monkeypatch.delenv(name, raising=False)
    store = tmp_path / "elsewhere" / "mlflow.db"
    (tmp_path / ".env").write_text(f"RETAIN_MLFLOW_URI=sqlite:///{store}\n")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_settings_read_the_env_file(in_folder_with_env: Path):
    assert Settings().mlflow_uri == f"sqlite:///{in_folder_with_env}"


def test_models_command_uses_the_registry_the_env_file_names(in_folder_with_env: Path):
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "No registered models yet" in result.output
    assert in_folder_with_env.exists()  # the store .env names, not ./mlruns
    assert not (Path("mlruns") / "mlflow.db").exists()


def test_promote_command_uses_the_registry_the_env_file_names(in_folder_with_env: Path):
    result = CliRunner().invoke(app, ["promote", "--model", "churn", "--version", "3"])
    assert result.exit_code == 1
    assert result.output.strip() == "retain-churn has no version 3"  # a sentence, not a repr
    assert in_folder_with_env.exists()


def test_env_example_shows_every_setting():
    """README sends users to `.env.example` for the settings: each one is shown there."""
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text(encoding="utf-8")
    shown = {line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line}
    expected = {f"RETAIN_{name.upper()}" for name in Settings.model_fields}
    assert expected - shown == set()
