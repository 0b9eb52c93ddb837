"""`make serve` and `make retrain` use RETAIN_DATA as retain reads it: the environment, then
`.env` (README: `cp .env.example .env`, then `make serve`), then the demo world."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _recipes(folder: Path, env_file: str | None, data: str | None) -> list[str]:
    """The `retain` lines `make -n serve retrain` would run in a copy of the project root."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, folder / name)
    (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    if env_file is not None:
        (folder / ".env").write_text(env_file, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "RETAIN_DATA"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if data is not None:
        env["RETAIN_DATA"] = data
    run = subprocess.run(
        ["make", "-n", "serve", "retrain"], cwd=folder, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return [line for line in run.stdout.splitlines() if "/retain " in line]


def test_the_env_file_names_the_source(tmp_path: Path) -> None:
    lines = _recipes(tmp_path, "RETAIN_DATA=/srv/crm-export\n", data=None)
    assert lines == [
        '.venv/bin/retain serve --data "/srv/crm-export"',
        '.venv/bin/retain retrain --data "/srv/crm-export"',
    ]


def test_the_environment_beats_the_env_file(tmp_path: Path) -> None:
    lines = _recipes(tmp_path, "RETAIN_DATA=/srv/crm-export\n", data="duckdb:///crm.db")
    assert all(line.endswith('--data "duckdb:///crm.db"') for line in lines) and len(lines) == 2


def test_without_either_the_demo_world(tmp_path: Path) -> None:
    lines = _recipes(tmp_path, None, data=None)
    assert all(line.endswith('--data "data/demo"') for line in lines) and len(lines) == 2


def test_the_mlflow_ui_opens_the_store_retain_uses(tmp_path: Path) -> None:
    """`make mlflow-ui` opened mlruns/ whatever RETAIN_MLFLOW_URI said (the docs audit)."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "RETAIN_MLFLOW_URI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))

    def shown(extra: dict[str, str]) -> list[str]:
        run = subprocess.run(
            ["make", "-n", "mlflow-ui"], cwd=tmp_path, env={**env, **extra},
            capture_output=True, text=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        return [line for line in run.stdout.splitlines() if "mlflow ui" in line]

    assert shown({}) == ['.venv/bin/mlflow ui --backend-store-uri "sqlite:///mlruns/mlflow.db"']
    uri = "postgresql://mlflow@db/mlflow"
    assert shown({"RETAIN_MLFLOW_URI": uri}) == [f'.venv/bin/mlflow ui --backend-store-uri "{uri}"']
