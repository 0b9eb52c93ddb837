"""`retain train` hands the touchpoints recorded through the service to training."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from tests.support.stores import DOWN, recorded_touchpoints


def test_retain_train_passes_the_store_touchpoints_in(tmp_path, monkeypatch):
    from retain.cli import app

    recorded_touchpoints(tmp_path)
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    seen: dict[str, object] = {}

    def fake_train(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr("training.train.train", fake_train)
    result = CliRunner().invoke(app, ["train", "--data", "anything"])
    assert result.exit_code == 1 and "stop here" in result.output
    given = seen["recorded_touchpoints"]
    assert isinstance(given, pd.DataFrame)
    assert given["touchpoint_id"].tolist() == ["p2", "svc-1", "svc-2"]


def test_retain_train_with_the_store_down_says_so(tmp_path, monkeypatch):
    from retain.cli import app

    monkeypatch.setenv("RETAIN_STORE_URL", DOWN)
    result = CliRunner().invoke(app, ["train", "--data", "anything"])
    assert result.exit_code == 1
    assert "store" in result.output and "unavailable" in result.output
