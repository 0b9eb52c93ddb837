"""The learned actions are made champion only if held-out history does not say they lose."""

from __future__ import annotations

from pathlib import Path

from mlflow import MlflowClient

from tests.support.registry import StandInUplift, new_registry, register_python_model
from training.names import CHALLENGER, CHAMPION
from training.uplift.offpolicy import PolicyEstimate
from training.uplift.run import REGISTERED_NAME, HistoryCheck, UpliftRun, _set_aliases


def _check(low: float, high: float) -> HistoryCheck:
    estimates = [
        PolicyEstimate("learned", (low + high) / 2, low, high, ["training (done 3 times)"]),
        PolicyEstimate("playbook", 0.0, -1.0, 1.0),
        PolicyEstimate("cs_team", 0.0, -1.0, 1.0),
    ]
    return HistoryCheck(estimates, accounts=60, snapshots=400)


def test_only_an_interval_wholly_below_zero_is_a_loss() -> None:
    assert _check(-90_000.0, -1_000.0).loses
    assert not _check(-90_000.0, 17_000.0).loses  # history cannot tell: not refused
    text = _check(-90_000.0, -1_000.0).describe()
    assert "not made champion" in text and "60 accounts" in text
    assert "done 3 times" not in text  # where history is thin is evaluate-policy's to say
    assert "not made champion" not in _check(-90_000.0, 17_000.0).describe()


def test_a_model_that_loses_on_held_out_history_stays_challenger(tmp_path: Path) -> None:
    uri = new_registry(tmp_path)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    model = StandInUplift()
    losing = register_python_model(uri, REGISTERED_NAME, model)
    said = _set_aliases(
        UpliftRun(model, version=losing, check=_check(-90_000.0, -1_000.0))  # type: ignore[arg-type]
    )
    assert said.startswith("challenger") and "lose money" in said
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHALLENGER).version) == losing
    assert CHAMPION not in client.get_registered_model(REGISTERED_NAME).aliases
    tag = client.get_model_version(REGISTERED_NAME, losing).tags["history_check"]
    assert tag == "-45500 [-90000, -1000]"
    unsure = register_python_model(uri, REGISTERED_NAME, model)
    said = _set_aliases(
        UpliftRun(model, version=unsure, check=_check(-90_000.0, 17_000.0))  # type: ignore[arg-type]
    )
    assert said.startswith("champion")
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHAMPION).version) == unsure


def _run(version: str, check: HistoryCheck) -> UpliftRun:
    return UpliftRun(StandInUplift(), version=version, check=check)  # type: ignore[arg-type]


def test_on_a_companys_data_the_fit_on_later_history_replaces_the_champion(
    tmp_path: Path,
) -> None:
    # The fourth audit retrained three months later, twice: without a simulated truth there
    # is no value share, and every version after the first stayed challenger ("champion v1
    # kept"), so the touchpoints recorded since never reached the recommendations.
    from datetime import datetime

    uri = new_registry(tmp_path)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    model = StandInUplift()
    unsure = _check(-90_000.0, 17_000.0)
    first = register_python_model(uri, REGISTERED_NAME, model)
    said = _set_aliases(_run(first, unsure), datetime(2025, 6, 30))
    assert said.startswith("champion (first version)")
    later = register_python_model(uri, REGISTERED_NAME, model)
    said = _set_aliases(_run(later, unsure), datetime(2025, 9, 30))
    assert said.startswith(f"champion (replaces v{first}") and "latest history" in said
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHAMPION).version) == later
    assert client.get_model_version(REGISTERED_NAME, later).tags["promotion"] == said
    # a fit as of an earlier date than the champion's does not replace it
    earlier = register_python_model(uri, REGISTERED_NAME, model)
    said = _set_aliases(_run(earlier, unsure), datetime(2025, 3, 31))
    assert said == (
        f"challenger (champion v{later} kept: it was trained on history up to 2025-09-30,"
        " this one only up to 2025-03-31)"
    )
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHAMPION).version) == later
    # nor does a later one whose actions lose money on held-out history
    losing = register_python_model(uri, REGISTERED_NAME, model)
    said = _set_aliases(_run(losing, _check(-90_000.0, -1_000.0)), datetime(2025, 12, 31))
    assert said.startswith("challenger") and "lose money" in said
    assert str(client.get_model_version_by_alias(REGISTERED_NAME, CHAMPION).version) == later
