"""`retain retrain` trains with the training YAML given, as `retain train --config` does.

The fifteenth audit's company needs `learn_before_tracking: true` to train at all (its events
began 139 days before the end of six years of terms); the monthly retrain read the packaged
settings only and would train nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli import app
from tests.support.cli import keep_keywords, learning_before_tracking

runner = CliRunner()


def test_retrain_passes_the_training_yaml_given(tmp_path: Path, monkeypatch) -> None:
    seen = keep_keywords(monkeypatch, "training.monitor.retrain.retrain")
    given = learning_before_tracking(tmp_path)
    result = runner.invoke(app, ["retrain", "--data", "x", "--config", str(given)])
    assert result.exit_code == 1 and "stop here" in result.output
    options = seen["train_options"]
    assert isinstance(options, dict) and options["config"].learn_before_tracking is True
    runner.invoke(app, ["retrain", "--data", "x"])
    assert seen["train_options"] is None  # the packaged settings, as before


def test_a_typo_in_the_yaml_given_is_one_line(tmp_path: Path) -> None:
    given = tmp_path / "train.yaml"
    given.write_text("learn_before_trackin: true\n")
    result = runner.invoke(app, ["retrain", "--data", "x", "--config", str(given)])
    assert result.exit_code == 1
    assert "learn_before_trackin" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["retrain", "evaluate-policy"])
def test_the_help_names_the_option(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert "--config" in result.output
