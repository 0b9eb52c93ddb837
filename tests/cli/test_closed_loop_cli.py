"""`retain closed-loop`: bad settings are clear errors before anything is simulated."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_world(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to simulate fails the test: the settings must be refused first."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("simulated a world with bad settings")

    monkeypatch.setattr("simulator.closed_loop.LiveWorld.open", refuse)


def test_a_share_out_of_bounds_names_the_field(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["closed-loop", "--random-share", "0.9", "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "random_share" in result.output
    assert not (tmp_path / "out" / "months.csv").exists()


def test_a_follow_chance_out_of_bounds_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["closed-loop", "--follow", "1.5", "--output", str(tmp_path)])
    assert result.exit_code == 2
    assert "--follow" in result.output


def test_a_loop_without_months_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["closed-loop", "--months", "0", "--output", str(tmp_path)])
    assert result.exit_code == 1
    assert "months >= 1" in result.output


def test_an_own_team_chance_out_of_bounds_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["closed-loop", "--own-team", "2", "--output", str(tmp_path)])
    assert result.exit_code == 1
    assert "own_team must be between 0 and 1" in result.output
    assert not (tmp_path / "months.csv").exists()
