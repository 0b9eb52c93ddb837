"""The tracking-change diagnosis on hand-made snapshots: said where events per active user
moved for most accounts while active users held, silent on drift with another cause."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.monitor.alarms import Alarm
from training.monitor.report import MonitorReport
from training.monitor.thresholds import TrackingThresholds
from training.monitor.tracking import diagnose, event_count_features, tracking_change

TRAINED = datetime(2024, 8, 31)
NOW = datetime(2024, 9, 30)
ACCOUNTS = 100


def _snapshot(
    when: datetime, users: np.ndarray, per_user: np.ndarray | float = 40.0
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(len(users))],
            "as_of": pd.Timestamp(when),
            "events_30d": np.round(users * per_user),
            "active_users_30d": users.astype(float),
        }
    )


def _users() -> np.ndarray:
    return 8 + np.arange(ACCOUNTS) % 11  # 8 to 18 people a month, median 13


def _moved(share: float, events: float, users: float = 1.0) -> pd.DataFrame:
    """Today: the first `share` of the accounts log `events` times as many events with
    `users` times as many active users; the others as at training."""
    moved = np.arange(ACCOUNTS) < round(share * ACCOUNTS)
    people = np.where(moved, np.round(_users() * users), _users())
    volume = np.where(moved, _users() * 40.0 * events, _users() * 40.0)
    return _snapshot(NOW, people, volume / people)


def test_events_halved_for_most_accounts_while_users_hold_is_a_tracking_change():
    then = _snapshot(TRAINED, _users())
    change = tracking_change(then, _moved(0.92, 0.55), TrackingThresholds(), "when v1 was trained")
    assert change is not None and change.fell
    assert change.ratio == pytest.approx(0.55, abs=0.01)
    assert change.share == pytest.approx(0.92)
    assert (change.users_then, change.users_now, change.accounts) == (13, 13, ACCOUNTS)
    sentence = change.sentence()
    assert sentence.startswith(
        "Events per active user fell 45% at the median account (fell by more than 30% at 92%"
        " of the 100 accounts active both times) between 2024-08-31 (when v1 was trained)"
        " and 2024-09-30, while active users held (the median account's moved +0%; median 13"
        " against 13 per account): a"
        " change in how events are logged (tracking, de-duplication, a renamed event) looks"
        " more likely than a change in customers' use."
    )
    assert "read low for every account" in sentence


def test_a_return_from_a_season_is_not_read_as_a_tracking_change():
    """Back in September after a summer away: as many people as in June, but their 30 days
    hold the August weeks away, so events per active user read low; the people's own
    30-day trend shows they just came back, which a tracking release never shows."""
    then = _snapshot(TRAINED, _users())
    back = _moved(0.92, 0.55)
    back["active_users_change_30d"] = 0.67  # 5 times as many people as the 30 days before
    assert tracking_change(then, back, TrackingThresholds(), "when v1 was trained") is None
    steady = _moved(0.92, 0.55)
    steady["active_users_change_30d"] = 0.02  # the same people: the release is still read
    assert tracking_change(then, steady, TrackingThresholds(), "when v1 was trained")


def test_events_doubled_for_most_accounts_is_said_as_a_rise():
    then = _snapshot(TRAINED, _users())
    change = tracking_change(then, _moved(0.8, 2.0), TrackingThresholds(), "a month earlier")
    assert change is not None and not change.fell
    assert "Events per active user rose 100% at the median account (rose by more than 40%" in (
        change.sentence()
    )
    assert "read high for every account" in change.sentence()


@pytest.mark.parametrize(
    ("why", "share", "events", "users"),
    [
        ("real churn: people leave with their events", 0.92, 0.4, 0.6),
        ("one segment's decline is not most accounts", 0.2, 0.5, 1.0),
        ("events rise slightly", 1.0, 1.1, 1.0),
        ("events fall, but within the usual swing", 1.0, 0.8, 1.0),
        ("just under the share of accounts", 0.59, 0.5, 1.0),
    ],
)
def test_drift_with_another_cause_is_not_diagnosed(why, share, events, users):
    then = _snapshot(TRAINED, _users())
    now = _moved(share, events, users)
    assert tracking_change(then, now, TrackingThresholds(), "when v1 was trained") is None, why


def test_a_handful_of_accounts_is_not_enough_to_say_it():
    then = _snapshot(TRAINED, _users())
    now = _moved(0.92, 0.5)
    few = TrackingThresholds(min_accounts=ACCOUNTS + 1)
    assert tracking_change(then, now, few, "when v1 was trained") is None
    assert tracking_change(then.iloc[:0], now, TrackingThresholds(), "x") is None


def test_the_training_date_is_tried_first_then_the_month_before():
    trained = _snapshot(datetime(2023, 9, 30), np.round(_users() / 1.3))  # a year of growth
    month_before = _snapshot(datetime(2024, 8, 31), _users())
    now = _moved(0.92, 0.5)
    alarms = [
        Alarm("feature", "events_per_active_user_30d", "..."),
        Alarm("feature", "value_share_30d", "..."),
        Alarm("feature", "contract_arr", "..."),
        Alarm("tier", "high", "..."),
    ]
    earlier = [("when v1 was trained", trained), ("a month earlier", month_before)]
    change = diagnose(now, earlier, TrackingThresholds(), alarms)
    assert change is not None and change.since_label == "a month earlier"
    assert (change.event_alarms, change.alarms) == (2, 3)
    assert "; 2 of the 3 feature alarms are on event counts" in change.sentence()
    assert diagnose(now, earlier[:1], TrackingThresholds(), alarms) is None  # users grew 30%
    at_training = _snapshot(TRAINED, _users())  # a change since training shows both times:
    both = [("when v1 was trained", at_training), ("a month earlier", month_before)]
    change = diagnose(now, both, TrackingThresholds(), alarms)
    assert change is not None and change.since_label == "when v1 was trained"  # says so


def test_event_counts_are_told_apart_from_the_people_who_use_the_product():
    counted = event_count_features()
    assert {
        "events_30d",
        "value_events_30d",
        "usage_hours_30d",
        "value_share_30d",
        "action_share_30d",
        "events_per_active_user_30d",
        "usage_minutes_per_active_user_30d",
        "events_change_30d",
    } <= counted
    assert not counted & {
        "active_users_30d",
        "active_days_30d",
        "modules_used_30d",
        "days_since_last_activity",
        "contract_arr",
    }


def _report(**extra) -> MonitorReport:
    features = pd.DataFrame(
        columns=["feature", "psi", "js", "missing_then", "missing_now", "natural_psi"]
    )
    return MonitorReport(NOW, "1", ACCOUNTS, features, {}, {}, pd.DataFrame(), **extra)


def test_the_diagnosis_is_printed_and_written_to_the_results(tmp_path: Path):
    change = tracking_change(
        _snapshot(TRAINED, _users()), _moved(0.92, 0.55), TrackingThresholds(), "x"
    )
    assert change is not None
    report = _report(tracking=change, alarms=[Alarm("feature", "events_30d", "shifted")])
    assert f"Diagnosis: {change.sentence()}" in report.lines()
    report.write_json(tmp_path / "latest.json")
    assert json.loads((tmp_path / "latest.json").read_text())["diagnosis"] == [change.sentence()]
    quiet = _report()
    assert not any(line.startswith("Diagnosis") for line in quiet.lines())
    assert quiet.as_json()["diagnosis"] == []


def test_the_retrain_page_keeps_the_diagnosis_when_the_new_model_has_no_alarm(tmp_path: Path):
    from training.monitor.retrain_report import write_retrain_report

    change = tracking_change(
        _snapshot(TRAINED, _users()), _moved(0.92, 0.55), TrackingThresholds(), "x"
    )
    assert change is not None
    served = _report(tracking=change, alarms=[Alarm("feature", "events_30d", "shifted")])
    replaced_by = MonitorReport(NOW, "2", ACCOUNTS, served.features, {}, {}, pd.DataFrame())
    page = write_retrain_report(
        tmp_path / "page.md",
        served,
        {},
        {},
        {},
        replaced_by=replaced_by,
        learned_until=datetime(2024, 8, 1),
    ).read_text()
    assert "0 alarm(s) remain. Fewer alarms do not mean the signals read as before" in page
    assert (
        "the diagnosis below still stands. v2 learned from account snapshots up to 2024-08-01"
        " (the latest whose renewals are known), all of them before the change." in page
    )
    assert f"**Diagnosis**: {change.sentence()}" in page
    assert "- Events look logged differently since 2024-08-31" in page
    later = write_retrain_report(
        tmp_path / "later.md", served, {}, {}, {}, replaced_by, datetime(2024, 12, 1)
    ).read_text()
    assert "of which only those after 2024-08-31 carry the new counts" in later
    plain = write_retrain_report(
        tmp_path / "plain.md", _report(), {}, {}, {}, replaced_by, datetime(2024, 8, 1)
    ).read_text()
    assert "Diagnosis" not in plain and "Fewer alarms" not in plain


@pytest.mark.parametrize(
    ("diagnosed", "alarms", "code"),
    [(True, 0, 1), (False, 0, 0), (False, 1, 1)],
    ids=["diagnosis-alone", "quiet", "alarm"],
)
def test_retrain_exits_1_while_a_diagnosis_stands_without_an_alarm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, diagnosed: bool, alarms: int, code: int
):
    """Twelfth audit: after the retrain the new champion's alarms go quiet (its reference
    holds the new counts), so cron, which mails on exit 1, never heard of the change."""
    from typer.testing import CliRunner

    import training.monitor.retrain as retrain_module
    from retain.cli import app
    from training.monitor.retrain import RetrainOutcome

    change = tracking_change(
        _snapshot(TRAINED, _users()), _moved(0.92, 0.55), TrackingThresholds(), "x"
    )
    assert change is not None
    found = _report(
        tracking=change if diagnosed else None,
        alarms=[Alarm("feature", "events_30d", "shifted")] * alarms,
    )
    monkeypatch.setattr(
        retrain_module, "retrain", lambda *a, **k: RetrainOutcome(None, found, tmp_path / "p.md")
    )
    result = CliRunner().invoke(app, ["retrain", "--data", str(tmp_path)])
    assert result.exit_code == code, result.output
    assert ("Diagnosis: " in result.output) == diagnosed


@pytest.mark.parametrize(("diagnosed", "code"), [(True, 1), (False, 0)], ids=["diagnosis", "quiet"])
def test_monitor_exits_1_on_a_diagnosis_without_an_alarm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, diagnosed: bool, code: int
):
    from typer.testing import CliRunner

    import training.monitor.run as run
    from retain.cli import app

    change = tracking_change(
        _snapshot(TRAINED, _users()), _moved(0.92, 0.55), TrackingThresholds(), "x"
    )
    found = _report(tracking=change if diagnosed else None)
    monkeypatch.setattr(run, "run_monitor", lambda *a, **k: found)
    result = CliRunner().invoke(app, ["monitor", "--data", str(tmp_path)])
    assert result.exit_code == code, result.output
