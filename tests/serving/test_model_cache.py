"""Replicas sharing one model cache copy a champion into it without undoing each other."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from serving.models import fetch_model


def test_two_processes_copying_one_version_at_once_both_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixth audit: both staged in one folder, so one deleted the other's download (one of
    two replicas started together failed in 3 of 5 trials)."""
    both_downloading = threading.Barrier(2, timeout=10)

    def download(artifact_uri: str, dst_path: str) -> str:
        both_downloading.wait()  # each is mid-download when the other starts
        (Path(dst_path) / "MLmodel").write_text(f"from {artifact_uri}")
        return dst_path

    class Client:
        def __init__(self, **_: object) -> None: ...

        def get_model_version(self, name: str, version: str) -> SimpleNamespace:
            return SimpleNamespace(run_id="abc123")

    monkeypatch.setattr("mlflow.MlflowClient", Client)
    monkeypatch.setattr("mlflow.artifacts.download_artifacts", download)
    found: list[Path] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            found.append(fetch_model("sqlite:///x.db", "retain-churn", "3", tmp_path))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    target = tmp_path / "retain-churn" / "3-abc123"
    assert found == [target, target] and (target / "MLmodel").is_file()
    assert [p.name for p in (tmp_path / "retain-churn").iterdir()] == ["3-abc123"]  # no staging
