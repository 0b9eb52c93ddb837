"""Each command's --help names the stores it reads and writes, with their defaults."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from retain.cli import app
from retain.settings import Settings

DEFAULT = {name: str(field.default) for name, field in Settings.model_fields.items()}
Named = tuple[str, str | None]
MLFLOW: Named = ("RETAIN_MLFLOW_URI", DEFAULT["mlflow_uri"])
STORE = ("RETAIN_STORE_URL", DEFAULT["store_url"])
CACHE = ("RETAIN_MODEL_CACHE", DEFAULT["model_cache"])
RESULTS = ("RETAIN_MONITOR_RESULTS", DEFAULT["monitor_results"])

NAMED: dict[str, tuple[Named, ...]] = {
    "train": (MLFLOW, STORE),
    "serve": (MLFLOW, CACHE, STORE, ("RETAIN_API_KEYS", None)),
    "score": (MLFLOW, CACHE, STORE),
    "plan": (MLFLOW, CACHE, STORE),
    "evaluate-policy": (MLFLOW, STORE),
    "experiments": (MLFLOW, STORE),
    "models": (MLFLOW,),
    "promote": (MLFLOW,),
    "monitor": (MLFLOW, STORE, RESULTS),
    "retrain": (MLFLOW, STORE, RESULTS),
}


@pytest.mark.parametrize("command", NAMED)
def test_help_names_the_settings_and_their_defaults(command):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for variable, default in NAMED[command]:
        said = f"{variable} (no default" if default is None else f"{variable} (default {default}"
        assert said in text, (said, text)
    assert "relative to the current directory" in text
