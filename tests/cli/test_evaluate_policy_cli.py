"""`retain evaluate-policy` needs the uplift champion and says so in one line without it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from retain.cli import app
from tests.support.cli import keep_keywords, learning_before_tracking

runner = CliRunner()


def test_without_an_uplift_champion_it_says_to_train_first(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/mlflow.db")
    result = runner.invoke(app, ["evaluate-policy", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "retain-uplift champion" in result.output
    assert "retain train" in result.output
    assert "Traceback" not in result.output


def test_it_reads_the_touchpoints_recorded_through_the_service(tmp_path: Path, monkeypatch):
    """Training learns from the store's touchpoints; the estimate of the same history must too."""
    import pandas as pd

    from tests.support.stores import recorded_touchpoints

    recorded_touchpoints(tmp_path)
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    monkeypatch.setattr("training.uplift.offpolicy_run.load_champion", lambda uri: object())
    seen = keep_keywords(monkeypatch, "training.uplift.offpolicy_run.evaluate_policy")
    result = runner.invoke(app, ["evaluate-policy", "--data", "anything"])
    assert result.exit_code == 1 and "stop here" in result.output
    given = seen["recorded"]
    assert isinstance(given, pd.DataFrame)
    assert given["touchpoint_id"].tolist() == ["p2", "svc-1", "svc-2"]


def test_the_estimate_reads_the_recorded_touchpoints_with_the_sources(monkeypatch):
    import pandas as pd

    from training.uplift import offpolicy_run

    recorded = pd.DataFrame({"touchpoint_id": ["svc-1"]})
    seen: dict[str, object] = {}

    def until(data: str, as_of: object, given: object = None) -> pd.DataFrame:
        seen["recorded"] = given
        return pd.DataFrame()

    # two accounts, each judged in three months before its renewal; one not yet renewed
    history = pd.DataFrame(
        {
            "account_id": ["a", "a", "a", "b", "b", "b", "c"],
            "as_of": ["2025-01-01", "2025-02-01", "2025-03-01"] * 2 + ["2025-03-01"],
            "renewal_date": ["2025-04-01"] * 6 + ["2026-01-01"],
            "churn": [0, 0, 0, 1, 1, 1, None],
            "arr": [10_000.0] * 7,
        }
    )
    as_of = datetime(2025, 6, 1)

    def built(*args: object, **kwargs: object) -> tuple[pd.DataFrame, datetime]:
        seen["features"] = args[3] if len(args) > 3 else None
        return history, as_of

    monkeypatch.setattr("training.train.build_training_set", built)
    monkeypatch.setattr("training.train.touchpoints_until", until)
    monkeypatch.setattr(offpolicy_run, "evaluate_on_history", lambda *a: [])
    model = offpolicy_run.UpliftModel()  # not used: the estimate itself is replaced
    said: list[str] = []
    offpolicy_run.evaluate_policy("anything", model, None, report=said.append, recorded=recorded)
    assert seen["recorded"] is recorded
    assert seen["features"] is recorded  # the features count them too, as when scoring
    # The fourth audit read 8.8M "ARR saved" where all churned ARR was 5.4M: the sum is
    # over monthly decisions, and the header must say so
    assert "summed over 6 decisions on 2 accounts" in said[-1]
    assert "one per account and snapshot (every 1M)" in said[-1]
    assert "not ARR saved in a year" in said[-1]


def test_without_touchpoints_it_says_nothing_can_be_judged(tmp_path: Path, monkeypatch):
    """The third audit's export had no touchpoints: `retain train` said no effects can be
    learned, and evaluate-policy then told the user to run `retain train` first."""
    source = tmp_path / "source"
    source.mkdir()
    tables = {
        "accounts": "account_id,name,industry,region,employees,created_at,csm_owner,value_driver\n"
        "Müller GmbH 7,,,,,2026-01-01,,\n",
        "subscriptions": "subscription_id,account_id,kind,start_date,end_date,arr,seats,plan,"
        "outcome\ns1,Müller GmbH 7,new,2026-01-01,2026-02-01,100,,,\n",
        "users": "user_id,account_id,role,is_key_user,created_at,deactivated_at\n"
        "u,Müller GmbH 7,,true,2026-01-01,\n",
        "events": "ts,account_id,user_id,module,feature,event_type,duration_s\n"
        "2026-01-10,Müller GmbH 7,u,Berichte,,view,\n",
    }
    for table, text in tables.items():
        (source / f"{table}.csv").write_text(text, encoding="utf-8")
    monkeypatch.setenv("RETAIN_MLFLOW_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    result = runner.invoke(app, ["evaluate-policy", "--data", str(source)])
    assert result.exit_code == 1
    assert "no touchpoints" in result.output and "nothing to evaluate" in result.output
    assert "run `retain train` first" not in result.output
    assert "Traceback" not in result.output


def test_the_report_ends_with_the_most_any_policy_could_save(monkeypatch):
    import pandas as pd

    from training.uplift import offpolicy_run
    from training.uplift.offpolicy import PolicyEstimate

    history = pd.DataFrame(
        {
            "account_id": ["a"],
            "as_of": ["2025-01-01"],
            "renewal_date": ["2025-04-01"],
            "churn": [0],
            "arr": [10_000.0],
        }
    )
    monkeypatch.setattr(
        "training.train.build_training_set", lambda *a, **k: (history, datetime(2025, 6, 1))
    )
    monkeypatch.setattr("training.train.touchpoints_until", lambda *a: pd.DataFrame())
    found = PolicyEstimate(
        "learned", 9_000.0, 1_000.0, 20_000.0, ceiling=4_000.0, ceiling_high=7_000.0
    )
    monkeypatch.setattr(offpolicy_run, "evaluate_on_history", lambda *a: [found])
    said: list[str] = []
    offpolicy_run.evaluate_policy("anything", offpolicy_run.UpliftModel(), None, said.append)
    assert "this history cannot judge it" in said[-2]  # 9,000 saved of 4,000 at stake
    assert said[-1].startswith("  No policy can save more than 4,000 (its 90% interval reaching")
    assert "7,000), the ARR that would churn" in said[-1]
    # with a currency set (RETAIN_CURRENCY), every amount is money in it (a new-user audit)
    from features.units import use_currency

    use_currency("EUR")
    said.clear()
    offpolicy_run.evaluate_policy("anything", offpolicy_run.UpliftModel(), None, said.append)
    assert said[-2].startswith(f"  {'learned':<12} {'€9,000':>12}   90% interval [€1,000, €20,000]")
    assert "above the €4,000 that would churn" in said[-2], said[-2]
    assert said[-1].startswith("  No policy can save more than €4,000 (its 90% interval reaching")
    assert "€7,000), the ARR that would churn" in said[-1]


def test_a_table_running_past_the_last_event_is_a_warning_here_too(tmp_path: Path, monkeypatch):
    """The sixth audit's late tickets: validate, train and score warned that they do not set
    the end of the data; evaluate-policy takes that end itself and said nothing."""
    from tests.support import write_tables
    from tests.support.tiny import late_closings
    from training import config
    from training.uplift import offpolicy_run

    source = str(write_tables(late_closings(), tmp_path / "export"))
    short = config.load_config().model_copy(update={"warmup_days": 0})  # the world is short
    monkeypatch.setattr(config, "load_config", lambda: short)
    monkeypatch.setattr(offpolicy_run, "evaluate_on_history", lambda *a: [])  # not the point
    said: list[str] = []
    offpolicy_run.evaluate_policy(source, offpolicy_run.UpliftModel(), None, report=said.append)
    warned = [line for line in said if "tickets.closed_at has 6 rows" in line]
    assert len(warned) == 1 and warned[0].startswith("Warning: ")


def test_the_training_config_given_builds_the_history(tmp_path: Path, monkeypatch):
    """evaluate-policy builds its history as training did: with the training YAML given
    (here one with the fifteenth audit's `learn_before_tracking`, which starts the history
    at the first term), else the packaged settings, which start after the events began."""
    monkeypatch.setenv("RETAIN_STORE_URL", f"sqlite:///{tmp_path}/store.db")
    monkeypatch.setattr("training.uplift.offpolicy_run.load_champion", lambda uri: object())
    seen = keep_keywords(monkeypatch, "training.uplift.offpolicy_run.evaluate_policy")
    given = learning_before_tracking(tmp_path)
    result = runner.invoke(app, ["evaluate-policy", "--data", "x", "--config", str(given)])
    assert result.exit_code == 1 and "stop here" in result.output
    assert seen["config"].learn_before_tracking is True  # type: ignore[attr-defined]
    runner.invoke(app, ["evaluate-policy", "--data", "x"])
    assert seen["config"] is None  # the packaged settings, as before
