"""`validate` says when the configured action costs do not look like the ARR's money.

The contract's `arr` has no unit and the uplift YAML's `costs` are absolute money in the
same units (the twentieth audit: ARR in cents made every action pay, ARR in thousands none).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from retain.cli import app
from tests.support import write_tables
from training.uplift.config import UpliftConfig, cost_scale_note, load_uplift_config

SHIPPED = load_uplift_config()


def test_costs_in_the_arrs_money_say_nothing() -> None:
    assert cost_scale_note(6_000.0, SHIPPED) is None
    assert cost_scale_note(400_000.0, SHIPPED) is None  # 500 is 0.125%: an enterprise book
    assert cost_scale_note(250.0, SHIPPED) is None  # 50 is 20%: a very small book
    assert cost_scale_note(249.0, SHIPPED) is not None
    assert cost_scale_note(None, SHIPPED) is None
    assert cost_scale_note(6.0, UpliftConfig()) is None  # no costs configured


def test_costs_negligible_against_the_arr_are_named() -> None:
    note = cost_scale_note(601_392.0, SHIPPED)
    assert note is not None
    assert "(exec_sponsor_call 500) is 0.08% of it" in note
    assert "median term's ARR is 601,392" in note
    assert "training/uplift/uplift.yaml" in note
    assert "actions/plan.yaml" in note


def test_costs_overwhelming_against_the_arr_are_named() -> None:
    note = cost_scale_note(6.01392, SHIPPED)
    assert note is not None
    assert "(health_check 50) is 831% of it" in note
    assert "in thousands" in note
    assert "`costs` (and `default_cost`) in training/uplift/uplift.yaml" in note


def _validate(tables: dict[str, pd.DataFrame], scale: float, tmp_path: Path) -> str:
    subscriptions = tables["subscriptions"].copy()
    subscriptions["arr"] = subscriptions["arr"] * scale
    directory = write_tables({**tables, "subscriptions": subscriptions}, tmp_path, "csv")
    result = CliRunner().invoke(app, ["validate", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_validate_notes_the_arrs_scale(
    tiny_tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    assert "configured cost" not in _validate(tiny_tables, 1.0, tmp_path / "as_is")
    cents = _validate(tiny_tables, 100.0, tmp_path / "cents")
    assert "Note: the median term's ARR is 1,250,000" in cents  # new/renewal terms only
    thousands = _validate(tiny_tables, 0.001, tmp_path / "thousands")
    assert "Note: the median term's ARR is 12.5, and even the cheapest" in thousands


def test_train_notes_the_arrs_scale_too(
    tiny_tables: dict[str, pd.DataFrame], tmp_path: Path, monkeypatch
) -> None:
    from tests.support.datasets import AS_OF
    from training.train import TrainingResult

    def fake_train(*args: object, **kwargs: object) -> TrainingResult:
        return TrainingResult(AS_OF, 0, [], {})

    monkeypatch.setattr("training.train.train", fake_train)
    subscriptions = tiny_tables["subscriptions"].assign(
        arr=tiny_tables["subscriptions"]["arr"] / 1000
    )
    directory = write_tables({**tiny_tables, "subscriptions": subscriptions}, tmp_path, "csv")
    result = CliRunner().invoke(app, ["train", "--data", str(directory)])
    assert result.exit_code == 0, result.output
    assert "Note: the median term's ARR is 12.5, and even the cheapest" in result.output
    unreadable = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "missing")])
    assert unreadable.exit_code == 0, unreadable.output
    assert "configured cost" not in unreadable.output
