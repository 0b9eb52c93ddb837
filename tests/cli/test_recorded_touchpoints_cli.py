"""`retain features`, `score` and `plan` count the touchpoints recorded through the service."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.support.stores import DOWN, recorded_touchpoints


def test_retain_features_counts_the_store_touchpoints(tiny_parquet_dir, tmp_path, monkeypatch):
    from retain.cli import app
    from retain.settings import get_settings

    recorded_touchpoints(tmp_path)  # svc-1: account 1003, 2024-02-05 (p2 is in both)
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    output = tmp_path / "features.csv"
    args = ["features", "--data", str(tiny_parquet_dir), "--as-of", "2024-02-06"]
    result = CliRunner().invoke(app, [*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(output, dtype={"account_id": str}).set_index("account_id")
    assert frame.loc["1003", "days_since_touchpoint"] == pytest.approx(1.0)
    assert frame.loc["1001", "touchpoints_90d"] == 1  # p2 once
    monkeypatch.setenv("RETAIN_STORE_URL", DOWN)  # without the store: the source's, and a note
    get_settings.cache_clear()
    result = CliRunner().invoke(app, [*args, "--output", str(output)])
    assert result.exit_code == 0 and "without the touchpoints recorded" in result.output
    again = pd.read_csv(output, dtype={"account_id": str}).set_index("account_id")
    assert again["days_since_touchpoint"].isna()["1003"]  # the source's alone


@pytest.mark.parametrize("command", ["features", "dataset"])
def test_reading_a_store_that_was_never_written_creates_no_file(
    command, tiny_parquet_dir, tmp_path, monkeypatch
):
    from retain.cli import app

    store = tmp_path / "var" / "store.db"
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{store}")
    dates = (
        ["--as-of", "2024-02-06"]
        if command == "features"
        else ["--from", "2023-12-01", "--to", "2024-01-01"]
    )
    args = [command, "--data", str(tiny_parquet_dir), *dates, "--output", str(tmp_path / "out.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.csv").exists()
    assert not store.exists() and not store.parent.exists()


@pytest.mark.parametrize("command", ["score", "plan"])
def test_score_and_plan_load_the_features_with_the_store_touchpoints(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retain.cli import app

    recorded_touchpoints(tmp_path)
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    seen: dict[str, object] = {}

    def from_source(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr("serving.snapshots.FeatureStore.from_source", from_source)
    # the plan opens the registry first: a fresh clone has no champions to open
    monkeypatch.setattr("serving.models.ModelStore.open", lambda *a, **k: object())
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(app, [command, "--data", "anything", "--output", str(output)])
    assert result.exit_code == 1 and "stop here" in result.output
    given = seen["touchpoints"]
    assert isinstance(given, pd.DataFrame)
    assert given["touchpoint_id"].tolist() == ["p2", "svc-1", "svc-2"]
