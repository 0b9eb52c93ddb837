"""Champions from the MLflow registry: hot reload without failed requests, offline cache."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from features.definitions import FEATURE_NAMES
from serving.app import create_app
from serving.models import (
    CHURN_MODEL,
    RETRY_CAP_SECONDS,
    RETRY_FIRST_SECONDS,
    UPSELL_MODEL,
    ModelBundle,
    ModelStore,
    load_from_cache,
)
from tests.support.serving import (
    API_KEY,
    make_bundle,
    make_model,
    make_service,
    random_features,
    test_settings,
)
from training.tracking import log_account_model

AUTH = {"X-API-Key": API_KEY}


def register(uri: str, target: str, seed: int) -> str:
    """Log and register a small real AccountModel; returns its version."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run():
        info = log_account_model(
            make_model(target, seed=seed, trees=10), random_features(20), f"retain-{target}"
        )
    return str(info.registered_model_version)


def promote(uri: str, name: str, version: str) -> None:
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        name, "champion", version
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlruns")
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("serving-test", str(root / "a")))
    for target in ("churn", "upsell"):
        promote(uri, f"retain-{target}", register(uri, target, seed=1))
    return uri, root / "cache"


def test_champions_load_from_the_registry_into_the_cache(registry):
    uri, cache = registry
    store = ModelStore.open(uri, cache)
    bundle = store.bundle
    assert bundle.origin == "registry"
    assert bundle.versions == {CHURN_MODEL: "1", UPSELL_MODEL: "1"}
    assert store.registry_error is None
    assert (cache / "champions.json").exists()
    assert hasattr(bundle.churn, "contributions") and bundle.churn.tier_thresholds["high"] > 0
    assert store.refresh() is False  # nothing new promoted


def test_promoted_champion_is_picked_up_without_restart_or_failed_requests(registry):
    uri, cache = registry
    store = ModelStore.open(uri, cache)
    service = make_service(n=30, store=store)
    app = create_app(test_settings(reload_seconds=0.2), service)
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def keep_scoring(client: TestClient) -> None:
        while not stop.is_set():
            response = client.post(
                "/v1/score", json={"account_ids": ["acct-0001", "acct-0002"]}, headers=AUTH
            )
            statuses.append(response.status_code)
            if response.status_code == 200:
                versions.update(s["model_version"] for s in response.json()["scores"])

    with TestClient(app) as client:
        workers = [threading.Thread(target=keep_scoring, args=(client,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        try:
            new_version = register(uri, "churn", seed=2)
            promote(uri, CHURN_MODEL, new_version)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and store.bundle.versions[CHURN_MODEL] != new_version:
                time.sleep(0.1)
            time.sleep(0.5)  # keep requests running across and after the switch
        finally:
            stop.set()
            for worker in workers:
                worker.join()
        models = client.get("/v1/models", headers=AUTH).json()
    assert store.bundle.versions[CHURN_MODEL] == new_version == "2"
    assert models["model_version"] == "retain-churn:v2,retain-upsell:v1"
    assert len(statuses) > 10 and set(statuses) == {200}
    assert versions == {"retain-churn:v1,retain-upsell:v1", "retain-churn:v2,retain-upsell:v1"}


def test_unreachable_registry_serves_cached_champions_and_readyz_says_so(registry, tmp_path):
    _, cache = registry
    down = f"sqlite:///{tmp_path}/no/such/dir/mlflow.db"
    store = ModelStore.open(down, cache)
    assert store.bundle.origin == "cache"
    assert store.registry_error
    assert store.bundle.versions == load_from_cache(cache).versions
    with TestClient(create_app(test_settings(), make_service(n=5, store=store))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["ready"] is True and body["models_from"] == "cache"
        assert "cached models" in body["status"] and body["registry_error"]
        scored = client.get("/v1/accounts/acct-0001", headers=AUTH)
        assert scored.status_code == 200
        assert client.get("/v1/models", headers=AUTH).json()["origin"] == "cache"


def test_registry_going_down_later_keeps_the_loaded_champions(registry, tmp_path):
    uri, cache = registry
    store = ModelStore.open(uri, cache)
    before = store.bundle
    store.tracking_uri = f"sqlite:///{tmp_path}/gone/mlflow.db"
    assert store.refresh() is False
    assert store.bundle is before and store.registry_error


def test_no_registry_and_no_cache_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="no cached champion models"):
        ModelStore.open(f"sqlite:///{tmp_path}/none/mlflow.db", tmp_path / "empty-cache")


def test_a_recreated_registry_never_serves_the_stale_cached_version(registry, tmp_path):
    import numpy as np

    _, cache = registry
    ModelStore.open(registry[0], cache)  # v1 of the first registry is now in the cache
    uri = f"sqlite:///{tmp_path}/mlflow.db"  # a new store: version numbers start again
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("again", str(tmp_path / "a")))
    for target in ("churn", "upsell"):
        promote(uri, f"retain-{target}", register(uri, target, seed=2))
    store = ModelStore.open(uri, cache)
    assert store.bundle.versions == {CHURN_MODEL: "1", UPSELL_MODEL: "1"}
    rows = random_features(5)[list(FEATURE_NAMES)].to_numpy(dtype=float)
    fresh = make_model("churn", seed=2, trees=10)
    np.testing.assert_allclose(store.bundle.churn.raw_score(rows), fresh.raw_score(rows))
    mlflow.set_tracking_uri(registry[0])


# --- a promoted champion that does not load is tried again, with a growing pause ---------


class FakeRegistry:
    """The alias names churn v2; its load fails `failures` times (None: always), then works."""

    def __init__(self, failures: int | None) -> None:
        self.failures, self.loads, self.now = failures, 0, 0.0
        self.champions = {CHURN_MODEL: "2", UPSELL_MODEL: "1"}

    def versions(self, _uri: str) -> dict[str, str]:
        return dict(self.champions)

    def load(self, _uri: str, _cache: object, versions: dict[str, str]) -> ModelBundle:
        self.loads += 1
        if self.failures is None or self.loads <= self.failures:
            raise OSError("the artifact store did not answer (connection reset)")
        return replace(make_bundle(), versions=dict(versions), origin="registry")

    def store(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModelStore:
        import serving.models as models

        monkeypatch.setattr(models, "champion_versions", self.versions)
        monkeypatch.setattr(models, "load_from_registry", self.load)
        old = replace(make_bundle(), origin="registry")  # v1 of both serves
        return ModelStore(old, tracking_uri="fake", cache_dir=tmp_path, clock=lambda: self.now)


def test_a_champion_that_failed_to_load_once_is_loaded_on_the_retry(monkeypatch, tmp_path, caplog):
    registry = FakeRegistry(failures=1)
    store = registry.store(monkeypatch, tmp_path)
    with caplog.at_level(logging.ERROR):
        assert store.refresh() is False  # the promotion is seen, its download fails
    assert store.bundle.versions[CHURN_MODEL] == "1" and "connection reset" in caplog.text
    assert "retain-churn:v2" in (store.champion_error or "")
    with TestClient(create_app(test_settings(), make_service(n=5, store=store))) as client:
        ready = client.get("/readyz").json()
    assert ready["status"].startswith("degraded") and "did not load" in ready["champion_error"]
    registry.now += RETRY_FIRST_SECONDS  # the next poll
    assert store.refresh() is True and registry.loads == 2
    assert store.bundle.versions == {CHURN_MODEL: "2", UPSELL_MODEL: "1"}
    assert store.champion_error is None
    with TestClient(create_app(test_settings(), make_service(n=5, store=store))) as client:
        ready = client.get("/readyz").json()
    assert ready["champion_error"] is None and ready["model_version"].startswith("retain-churn:v2")


def test_a_champion_that_never_loads_is_retried_with_a_doubling_pause_and_said_once(
    monkeypatch, tmp_path, caplog
):
    registry = FakeRegistry(failures=None)
    store = registry.store(monkeypatch, tmp_path)
    tried_at = []
    with caplog.at_level(logging.ERROR):
        while registry.now <= 1800:  # half an hour of polls every 10 s
            before = registry.loads
            assert store.refresh() is False
            if registry.loads > before:
                tried_at.append(registry.now)
            registry.now += 10
    pauses = [b - a for a, b in zip(tried_at, tried_at[1:], strict=False)]
    assert pauses[:4] == [30, 60, 120, 240]  # the next poll at the default, then doubling
    assert set(pauses[4:]) == {RETRY_CAP_SECONDS}  # ... capped: 5 minutes
    assert len(tried_at) == 9  # not 181 loads
    assert store.bundle.versions[CHURN_MODEL] == "1"  # the old champion serves on
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1  # said once
    said = store.champion_error or ""
    assert "9 tries" in said and "connection reset" in said
    registry.champions[CHURN_MODEL] = "3"  # a new promotion is tried at once
    registry.failures = 0
    assert store.refresh() is True and store.bundle.versions[CHURN_MODEL] == "3"
    assert store.champion_error is None


def test_a_champion_failing_for_days_keeps_its_capped_pause(monkeypatch, tmp_path):
    # the doubling must not overflow: try 1,025 (3.5 days at 5 minutes) raised OverflowError
    # inside the failure handler, and every poll after it reloaded from the registry
    registry = FakeRegistry(failures=None)
    store = registry.store(monkeypatch, tmp_path)
    for _ in range(1100):
        assert store.refresh() is False
        registry.now += RETRY_CAP_SECONDS
    assert registry.loads == 1100  # every try due: one each 5 minutes, none lost to an error
    assert store.refresh() is False and registry.loads == 1101
    assert store.refresh() is False and registry.loads == 1101  # then waits its pause again
    assert "1101 tries, the next in 300 s" in (store.champion_error or "")
