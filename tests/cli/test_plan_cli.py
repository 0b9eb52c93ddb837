"""`retain plan` and `retain experiments` from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retain.cli import app
from serving.models import ModelStore
from store import Store
from tests.support import tiny_world, write_tables
from tests.support.serving import make_bundle

runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/none.db")
    monkeypatch.setenv("RETAIN_MODEL_CACHE", str(tmp_path / "no-cache"))
    tables = tiny_world()
    # activity (at 1003, which has no owner) up to 1 May 2024, so the data reaches past
    # 1002's renewal (1 March, churned): its label is known, and the June weeks planned
    # below come after the data
    late = tables["events"].iloc[[4]].assign(ts=pd.Timestamp("2024-05-01 00:00"))
    tables["events"] = pd.concat([tables["events"], late], ignore_index=True)
    return write_tables(tables, tmp_path / "tiny")


def test_a_bad_plan_file_is_an_error_naming_the_field(world: Path, tmp_path: Path) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_text("hours: {business_review: -3, exec_call: 1}\ncsm_hours: {default: 10}\n")
    result = runner.invoke(
        app,
        ["plan", "--data", str(world), "--output", str(tmp_path / "p.csv"), "--config", str(bad)],
    )
    assert result.exit_code == 1
    assert "hours.business_review: Input should be greater than or equal to 0" in result.output
    assert "hours.exec_call: unknown action code 'exec_call'" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_retain_plan_writes_and_stores_the_week(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ModelStore, "open", classmethod(lambda cls, *a, **k: cls(make_bundle())))
    output = tmp_path / "plan.csv"
    args = ["plan", "--data", str(world), "--output", str(output), "--week", "2024-06-03"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "greedy plan" in result.output and "bound" in result.output
    assert re.search(r"; \d+ more accounts with an action worth doing wait", result.output)
    # the seventh audit read "30 no CSM owner" for 16 accounts: the counts are candidate lines
    assert "candidate lines (an account and an action each) left out:" in result.output
    lines = pd.read_csv(output)
    doing = lines.loc[lines["arm"] != "control", "expected_saved_arr"].sum()
    assert f"its lines to do are expected to save {doing:,.0f} ARR" in result.output
    stored = Store(f"sqlite:///{tmp_path}/store.db").plan_lines(pd.Timestamp("2024-06-03").date())
    assert len(lines) == len(stored) > 0
    assert set(lines["csm"]) <= {"dana", "lee"}  # 1003 has no owner: never planned
    assert sorted(stored["assignment_probability"]) == sorted(lines["probability"])
    again = runner.invoke(app, args)
    assert "(already stored)" in again.output


def test_retain_plan_writes_money_in_the_currency_set(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new-user audit set RETAIN_CURRENCY=EUR and read no "€" in the plan's summary or its
    lines' reasons ("ARR 310,748"): both wrote money past `features.units.money`."""
    monkeypatch.setattr(ModelStore, "open", classmethod(lambda cls, *a, **k: cls(make_bundle())))
    monkeypatch.setenv("RETAIN_CURRENCY", "EUR")
    output = tmp_path / "plan.csv"
    args = ["plan", "--data", str(world), "--output", str(output), "--week", "2024-06-03"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = pd.read_csv(output)
    doing = lines.loc[lines["arm"] != "control", "expected_saved_arr"].sum()
    said = result.output
    assert f"its lines to do are expected to save €{doing:,.0f} ARR" in said, said
    assert re.search(r"chosen at those values: €[\d,]+ for its optimised lines", said), said
    assert re.search(r"greedy plan €[\d,]+, bound €[\d,]+\)", said), said
    assert len(lines) > 0 and lines["why"].str.contains(r"ARR €[\d,]+").all(), lines["why"]


def test_a_date_in_the_week_plans_the_week_from_its_monday(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ModelStore, "open", classmethod(lambda cls, *a, **k: cls(make_bundle())))
    output = str(tmp_path / "plan.csv")
    thursday = runner.invoke(
        app, ["plan", "--data", str(world), "--output", output, "--week", "2024-06-06"]
    )
    assert thursday.exit_code == 0, thursday.output
    assert "for the week of 2024-06-03:" in thursday.output
    assert set(pd.read_csv(output)["week"].str[:10]) == {"2024-06-03"}
    default = runner.invoke(app, ["plan", "--data", str(world), "--output", output])
    assert default.exit_code == 0, default.output
    weeks = Store(f"sqlite:///{tmp_path}/store.db").plans()["week"]
    assert len(weeks) == 2 and all(pd.Timestamp(w).weekday() == 0 for w in weeks)


def test_a_week_that_is_not_a_date_is_an_error_naming_the_option(
    world: Path, tmp_path: Path
) -> None:
    output = tmp_path / "p.csv"
    args = ["plan", "--data", str(world), "--output", str(output), "--week", "03/11/2025"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--week: '03/11/2025' is not a date; give it as YYYY-MM-DD" in result.output
    assert "isoformat" not in result.output and not output.exists()


def plan_file(tmp_path: Path, week: str, arms: dict[str, str]) -> Path:
    path = tmp_path / f"lines-{week}.csv"
    pd.DataFrame(
        {
            "week": week,
            "account_id": list(arms),
            "action": "business_review",
            "arm": list(arms.values()),
            "probability": [0.95 if a == "planned" else 0.05 for a in arms.values()],
        }
    ).to_csv(path, index=False)
    return path


def test_experiments_measure_the_randomized_slice(world: Path, tmp_path: Path) -> None:
    # As of 2023-06-01, 1001 renews (churn 0) and 1002 churns (churn 1): planned - control.
    path = plan_file(tmp_path, "2023-06-01", {"1001": "planned", "1002": "control"})
    result = runner.invoke(app, ["experiments", "--data", str(world), "--plan", str(path)])
    assert result.exit_code == 0, result.output
    assert "business review: churn -100.0 pts" in result.output
    assert "on 1 planned renewal (1 line) vs 1 control renewal (1 line)" in result.output


def test_experiments_count_an_account_planned_in_two_weeks_once(
    world: Path, tmp_path: Path
) -> None:
    # 1001 is planned in two weeks before its one renewal (1 January 2024): one outcome.
    first = plan_file(tmp_path, "2023-06-05", {"1001": "planned", "1002": "control"})
    second = plan_file(tmp_path, "2023-06-12", {"1001": "planned"})
    args = ["experiments", "--data", str(world), "--plan", str(first), "--plan", str(second)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 with a known renewal, for 2 distinct renewals" in result.output
    assert "on 1 planned renewal (2 lines) vs 1 control renewal (1 line)" in result.output


def test_experiments_say_when_there_is_nothing_to_judge(world: Path, tmp_path: Path) -> None:
    path = plan_file(tmp_path, "2024-06-03", {"1001": "planned", "1003": "control"})
    result = runner.invoke(app, ["experiments", "--data", str(world), "--plan", str(path)])
    assert result.exit_code == 0, result.output
    assert "Nothing to judge yet" in result.output
    empty = runner.invoke(app, ["experiments", "--data", str(world)])
    assert "No plan lines yet" in empty.output


@pytest.mark.parametrize("command", ["plan", "score"])
def test_before_any_training_it_says_to_train_first(
    world: Path, tmp_path: Path, command: str
) -> None:
    # Found at the end of the third audit's session: `retain plan` (and `score`) on a fresh
    # machine before `retain train` ended in a RuntimeError traceback.
    output = str(tmp_path / "out.csv")
    result = runner.invoke(app, [command, "--data", str(world), "--output", output])
    assert result.exit_code == 1
    assert "no champion models" in result.output and "retain train --data SOURCE" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_owner_the_plan_file_misspells_is_named_with_the_closest(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifth audit: hours for a misspelt owner were silently unused (the CSM got the default)."""
    monkeypatch.setattr(ModelStore, "open", classmethod(lambda cls, *a, **k: cls(make_bundle())))
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "hours: {business_review: 2}\ncsm_hours: {default: 10, owners: {dnaa: 4, lee: 6}}\n"
    )
    output = tmp_path / "plan.csv"
    args = ["plan", "--data", str(world), "--output", str(output), "--config", str(plan)]
    result = runner.invoke(app, [*args, "--week", "2024-06-03"])
    assert result.exit_code == 0, result.output  # the team's plan does not wait on the file
    assert (
        f"Warning: {plan}: csm_hours.owners names 'dnaa', who owns no account in the data"
        " (did you mean 'dana'?)" in result.output
    )
    assert "'lee'" not in result.output  # an owner in the data is not named
    stored = Store(f"sqlite:///{tmp_path}/store.db").plans().iloc[0]
    said = [w for w in stored["summary"]["warnings"] if "hours stay free" not in w]
    assert said == [
        f"{plan}: csm_hours.owners names 'dnaa', who owns no account in the data (did you"
        " mean 'dana'?); those hours are not used"
    ]  # what GET /v1/plan gives as `warnings`
