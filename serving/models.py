"""The champion models in use: loaded from the MLflow registry, cached locally, hot-swapped.

A `ModelBundle` is immutable; `ModelStore` holds the current one and replaces it with a
single reference assignment, so a request that already took a bundle finishes on it while
the next request sees the new champion. When the registry cannot be reached the last
champions copied to the local cache (`RETAIN_MODEL_CACHE`) are served instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

CHURN_MODEL = "retain-churn"
UPSELL_MODEL = "retain-upsell"
CHAMPION = "champion"


class AccountModelLike(Protocol):
    """What serving needs from `training.model.AccountModel` (docs/architecture.md)."""

    feature_names: Sequence[str]
    tier_thresholds: Any
    healthy_reference: Any

    def raw_score(self, X: Any) -> np.ndarray: ...
    def predict_proba(self, X: Any) -> np.ndarray: ...
    def contributions(self, X: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelBundle:
    """The churn and upsell champions that score together, with where they came from."""

    churn: AccountModelLike
    upsell: AccountModelLike
    versions: dict[str, str]
    origin: str = "registry"  # "registry", "cache" or "memory"
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def model_version(self) -> str:
        """One string naming every registered model version, e.g. `retain-churn:v3,...`."""
        return ",".join(f"{name}:v{version}" for name, version in sorted(self.versions.items()))


def _unwrap(path: Path) -> AccountModelLike:
    import mlflow.pyfunc

    model: AccountModelLike = mlflow.pyfunc.load_model(str(path)).unwrap_python_model()
    return model


def champion_versions(tracking_uri: str) -> dict[str, str]:
    """The registry's current champion version of each model; raises if unreachable."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    return {
        name: str(client.get_model_version_by_alias(name, CHAMPION).version)
        for name in (CHURN_MODEL, UPSELL_MODEL)
    }


def fetch_model(tracking_uri: str, name: str, version: str, cache_dir: Path) -> Path:
    """Copy one registered model version into the local cache (once); return its folder.

    The folder is named by version and run id: a recreated registry reuses version numbers
    for other models, and a stale copy must never be served. The copy lands in a staging
    folder first, so a crash mid-download never leaves a half model in place.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run_id = client.get_model_version(name, version).run_id
    target = cache_dir / name / f"{version}-{run_id}"
    if not (target / "MLmodel").exists():
        staging = cache_dir / name / f".{target.name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        mlflow.set_registry_uri(tracking_uri)
        download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(staging))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def load_from_registry(
    tracking_uri: str, cache_dir: Path, versions: dict[str, str] | None = None
) -> ModelBundle:
    """Load the champions from the registry, copying them into `cache_dir` first."""
    import mlflow

    versions = versions or champion_versions(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    folders = {name: fetch_model(tracking_uri, name, v, cache_dir) for name, v in versions.items()}
    models = {name: _unwrap(folder) for name, folder in folders.items()}
    index = {name: {"version": versions[name], "folder": f.name} for name, f in folders.items()}
    (cache_dir / "champions.json").write_text(json.dumps(index, indent=2))
    return ModelBundle(models[CHURN_MODEL], models[UPSELL_MODEL], versions, origin="registry")


def load_from_cache(cache_dir: Path) -> ModelBundle:
    """Load the champions last copied into `cache_dir`; raises if there are none."""
    path = cache_dir / "champions.json"
    if not path.exists():
        raise FileNotFoundError(f"no cached champion models in {cache_dir}")
    index: dict[str, dict[str, str]] = json.loads(path.read_text())
    models = {name: _unwrap(cache_dir / name / entry["folder"]) for name, entry in index.items()}
    versions = {name: entry["version"] for name, entry in index.items()}
    return ModelBundle(models[CHURN_MODEL], models[UPSELL_MODEL], versions, origin="cache")


class ModelStore:
    """Holds the bundle in use and keeps it in step with the registry's champion alias."""

    def __init__(
        self,
        bundle: ModelBundle,
        *,
        tracking_uri: str | None = None,
        cache_dir: Path | None = None,
        registry_error: str | None = None,
        on_swap: Callable[[ModelBundle], None] | None = None,
    ) -> None:
        self._bundle = bundle
        self.tracking_uri = tracking_uri
        self.cache_dir = cache_dir
        self.registry_error = registry_error
        self.on_swap = on_swap
        self._lock = threading.Lock()

    @classmethod
    def open(cls, tracking_uri: str, cache_dir: Path) -> ModelStore:
        """Load the champions from the registry, or from the local cache if it is unreachable."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        try:
            bundle = load_from_registry(tracking_uri, cache_dir)
            error = None
        except Exception as exc:  # registry down, no champion yet, ...
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("Model registry unavailable (%s); serving cached champions", error)
            bundle = load_from_cache(cache_dir)
        return cls(bundle, tracking_uri=tracking_uri, cache_dir=cache_dir, registry_error=error)

    @property
    def bundle(self) -> ModelBundle:
        """The bundle to score with; take it once per request."""
        return self._bundle

    def swap(self, bundle: ModelBundle) -> None:
        """Put a new bundle in service (one atomic reference assignment)."""
        if self.on_swap is not None:
            self.on_swap(bundle)  # e.g. warm up before the switch
        self._bundle = bundle
        logger.info("Now serving %s (from %s)", bundle.model_version, bundle.origin)

    def refresh(self) -> bool:
        """Check the champion alias; load and swap in a newly promoted version. True if swapped."""
        if self.tracking_uri is None or self.cache_dir is None:
            return False
        with self._lock:
            try:
                versions = champion_versions(self.tracking_uri)
            except Exception as exc:
                self.registry_error = f"{type(exc).__name__}: {exc}"
                return False
            self.registry_error = None
            current = self._bundle
            if versions == current.versions and current.origin == "registry":
                return False
            bundle = load_from_registry(self.tracking_uri, self.cache_dir, versions)
            self.swap(bundle)
            return versions != current.versions

    async def watch(self, every_seconds: float) -> None:
        """Poll the registry forever (run as a background task; cancel to stop)."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                logger.exception("Could not load the newly promoted champion; keeping the old one")
