"""CLI arguments are checked before any work and wrong ones get one line saying what to fix."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retain.cli import app, quiet_mlflow
from tests.support.tiny import tiny_world, write_tables

runner = CliRunner()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_tables(tiny_world(), tmp_path / "source", fmt="parquet")


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("as_of", ["2025-13-01", "20250101", "yesterday"])
def test_a_wrong_as_of_is_one_line_before_any_work(tmp_path, as_of):
    output = tmp_path / "scores.csv"
    result = runner.invoke(
        app,
        ["score", "--data", str(tmp_path / "nowhere"), "--output", str(output), "--as-of", as_of],
    )
    assert result.exit_code == 2
    assert "--as-of" in _one_line_error(result)
    assert not output.exists()


def test_an_output_that_is_a_directory_fails_before_scoring(tmp_path):
    folder = tmp_path / "scores.csv"
    folder.mkdir()
    result = runner.invoke(
        app, ["score", "--data", str(tmp_path / "nowhere"), "--output", str(folder)]
    )
    assert result.exit_code == 2
    assert "is a directory" in _one_line_error(result)


def test_an_output_under_a_file_fails_before_scoring(tmp_path):
    (tmp_path / "exports").write_text("a file, not a folder")
    output = tmp_path / "exports" / "scores.csv"
    result = runner.invoke(
        app, ["score", "--data", str(tmp_path / "nowhere"), "--output", str(output)]
    )
    assert result.exit_code == 2
    assert "not a writable folder" in _one_line_error(result)


def test_as_of_after_the_data_is_refused_like_the_api_and_writes_nothing(source, tmp_path):
    output = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["score", "--data", str(source), "--output", str(output), "--as-of", "2030-01-01"]
    )
    assert result.exit_code == 1
    assert "after the latest data in the source" in _one_line_error(result)
    assert not output.exists()


def test_as_of_before_any_account_writes_no_header_only_file(source, tmp_path):
    output = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["score", "--data", str(source), "--output", str(output), "--as-of", "2000-01-01"]
    )
    assert result.exit_code == 1
    assert "no account is active as of 2000-01-01T00:00:00Z" in _one_line_error(result)
    assert not output.exists()


def test_mlflow_chatter_goes_to_debug_and_retain_output_stays(caplog):
    with caplog.at_level(logging.DEBUG):
        quiet_mlflow()
        logging.getLogger("mlflow.pyfunc").warning("cloudpickle version mismatch")
        logging.getLogger("retain.train").warning("retain's own progress")
    shown = {(r.name, r.levelno, r.getMessage()) for r in caplog.records}
    assert ("retain.train", logging.WARNING, "retain's own progress") in shown
    assert not any(name.startswith("mlflow") for name, _, _ in shown)
    assert any(
        name == "retain.mlflow" and level == logging.DEBUG and "cloudpickle" in message
        for name, level, message in shown
    )


@pytest.fixture
def loud_mlflow():  # type: ignore[no-untyped-def]
    """MLflow's loggers as a fresh process has them: no filter of quiet_mlflow's yet."""
    from training.tracking import _MlflowChatter

    def unfilter() -> None:
        loggers = [logging.getLogger("mlflow"), logging.getLogger()]
        for holder in [*loggers, *(h for lg in loggers for h in lg.handlers)]:
            for chatter in [f for f in holder.filters if isinstance(f, _MlflowChatter)]:
                holder.removeFilter(chatter)

    unfilter()
    yield
    unfilter()


@pytest.mark.parametrize(
    ("command", "work"),
    [
        (["plan", "--output", "plan.csv"], "serving.plan.run_plan"),
        (["experiments"], "serving.plan_experiments.run_experiments"),
        (["monitor"], "training.monitor.run.run_monitor"),
        (["retrain"], "training.monitor.retrain.retrain"),
    ],
)
def test_every_command_that_loads_models_keeps_mlflow_chatter_out(
    command, work, loud_mlflow, source, monkeypatch, caplog, tmp_path
):
    """docs/operations.md: MLflow's warnings never reach the CLI output (cron mails it)."""

    def chatty(*args, **kwargs):  # type: ignore[no-untyped-def]
        logging.getLogger("mlflow.pyfunc").warning("cloudpickle chatter")
        raise ValueError("stopped after the chatter")

    monkeypatch.setattr(work, chatty)
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.DEBUG):
        result = runner.invoke(app, [command[0], "--data", str(source), *command[1:]])
    assert "stopped after the chatter" in result.output
    shown = {(r.name, r.getMessage()) for r in caplog.records}
    assert ("mlflow.pyfunc", "cloudpickle chatter") not in shown
    assert ("retain.mlflow", "mlflow.pyfunc: cloudpickle chatter") in shown


def test_an_unreachable_registry_is_one_line_without_its_password(monkeypatch):
    from retain.settings import get_settings

    monkeypatch.setenv("RETAIN_MLFLOW_URI", "http://bob:s3cret@127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["models"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    line = _one_line_error(result)
    assert "127.0.0.1:9" in line and "s3cret" not in line and "bob" not in line


def test_monitor_reads_its_as_of_by_the_api_rules(monkeypatch, tmp_path):
    # it took `datetime.fromisoformat`: `...Z` or `+02:00` came through unconverted
    import training.monitor.run as run

    seen = []

    def judged(_data, _mlflow, _store, _thresholds, as_of, _results):  # type: ignore[no-untyped-def]
        seen.append(as_of)
        raise run.NoChampion("stop here")

    monkeypatch.setattr(run, "run_monitor", judged)
    args = ["monitor", "--data", str(tmp_path), "--as-of", "2026-06-01T12:00:00+02:00"]
    assert runner.invoke(app, args).exit_code == 1
    assert str(seen[0]) == "2026-06-01 10:00:00"  # UTC, naive: the contract's time
    assert "--as-of" in _one_line_error(runner.invoke(app, [*args[:-1], "yesterday"]))


def test_retain_dataset_reads_upsell_with_a_minimum_rise(tmp_path: Path) -> None:
    # As `upsell_min_rise` in the training config: 1001 renews 12,000 -> 13,000 (+8%) with
    # the same seats, an upsell at any rise and none at a 10% minimum.
    import pandas as pd

    tables = tiny_world()
    subscriptions = tables["subscriptions"]
    subscriptions.loc[subscriptions["subscription_id"] == "s2", "seats"] = 10
    directory = write_tables(tables, tmp_path / "source", fmt="parquet")
    found = {}
    for rise in ("0", "0.1"):
        out = tmp_path / f"dataset-{rise}.parquet"
        args = ["dataset", "--data", str(directory), "--from", "2023-08-01", "--to", "2023-08-01"]
        result = runner.invoke(app, [*args, "--upsell-min-rise", rise, "--output", str(out)])
        assert result.exit_code == 0, result.output
        frame = pd.read_parquet(out).set_index("account_id")
        found[rise] = frame.loc["1001", "upsell"]
    assert found == {"0": 1.0, "0.1": 0.0}
    wrong = runner.invoke(app, ["dataset", "--data", str(directory), "--from", "2023-08-01",
                                "--to", "2023-08-01", "--upsell-min-rise", "1.5"])  # fmt: skip
    assert wrong.exit_code == 2 and "upsell-min-rise" in wrong.output


def test_retain_dataset_says_when_recent_upsell_labels_are_positives_known_early(
    tmp_path: Path,
) -> None:
    # Twelfth audit: the file's upsell rate read 1.0 for its last five months, where only
    # the positives (an expansion already came) are known, not yet the negatives.
    directory = write_tables(tiny_world(), tmp_path / "source", fmt="parquet")
    args = ["dataset", "--data", str(directory), "--from", "2023-04-01"]
    recent = runner.invoke(app, [*args, "--to", "2024-12-01"])
    assert recent.exit_code == 0, recent.output
    assert (
        "Note: 9 upsell positives are snapshots from the last 180 days before the data's end"
        " (2024-02-06)" in recent.output
    )
    settled = runner.invoke(app, [*args, "--to", "2023-08-01"])  # 180 days passed for each
    assert settled.exit_code == 0 and "Note" not in settled.output
