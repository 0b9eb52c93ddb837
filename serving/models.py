"""The champion models in use: loaded from the MLflow registry, cached locally, hot-swapped.

A `ModelBundle` holds the churn, upsell and (when one is registered) uplift champions that
score together; it is immutable. `ModelStore` holds the current one and replaces it with a
single reference assignment, so a request that already took a bundle finishes on it while
the next request sees the new champion. When the registry cannot be reached the last
champions copied to the local cache (`RETAIN_MODEL_CACHE`) are served instead. A model
registered by an older layout of retain that no longer unpickles is named, with the advice
to retrain; an uplift model that does not load leaves the playbook to decide and says why.
Registry loads never overlap: a start-up load that outlives `registry_timeout` holds the
loading lock until it is done, and the periodic reload skips its turn meanwhile, then takes
that load's bundle if it still names the champions. A promoted champion that does not load
is tried again with a growing pause (`RETRY_FIRST_SECONDS`, doubling up to
`RETRY_CAP_SECONDS`): a transient failure (an artifact store briefly unreachable) heals by
itself, and a version that can never load costs one attempt every few minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from serving.coverage import missing_models
from serving.effects import UpliftEffects
from serving.files import atomic_write_text
from training.credentials import describe_error
from training.kinds import WrongModelError, check_model_kind
from training.names import CHAMPION, model_name

logger = logging.getLogger(__name__)

CHURN_MODEL = model_name("churn")
UPSELL_MODEL = model_name("upsell")
UPLIFT_MODEL = model_name("uplift")
REQUIRED_MODELS = (CHURN_MODEL,)  # upsell and uplift are optional: serving.coverage
RETRY_FIRST_SECONDS = 30.0  # a champion that did not load is tried again after this (one poll)
RETRY_CAP_SECONDS = 300.0  # ... then after twice as long each time, at most this long


class OutdatedModelError(RuntimeError):
    """A registered model was pickled by an older retain whose modules no longer exist."""


class NoChampionsError(RuntimeError):
    """Neither the registry nor the local cache holds champion models: train first."""


class RegistryTimeoutError(TimeoutError):
    """The model registry did not answer in time."""


class AccountModelLike(Protocol):
    """What serving needs from `training.model.AccountModel` (docs/architecture.md)."""

    tier_thresholds: Any
    healthy_reference: Any

    @property
    def feature_names(self) -> Sequence[str]: ...  # read-only: a list[str] attribute fits

    def raw_score(self, X: Any) -> np.ndarray: ...
    def predict_proba(self, X: Any) -> np.ndarray: ...
    def proba_from_raw(self, raw: np.ndarray) -> np.ndarray: ...
    def contributions(self, X: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelBundle:
    """The champions that score together (uplift optional), with where they came from.

    `effects` serves the uplift model's per-account expected effects; it is built with the
    bundle, so a hot swap or a cache fallback brings its own effects along.
    """

    churn: AccountModelLike
    upsell: AccountModelLike | None  # None: not trained; see `missing`
    versions: dict[str, str]
    origin: str = "registry"  # "registry", "cache" or "memory"
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    uplift: Any = None
    uplift_error: str | None = None
    failed: dict[str, str] = field(default_factory=dict)  # model -> version that did not load
    effects: UpliftEffects | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.uplift is not None:
            object.__setattr__(self, "effects", UpliftEffects(self.uplift))

    def without_uplift(self, reason: str) -> ModelBundle:
        """The same bundle with the playbook ranking actions instead of its uplift model."""
        version = self.versions.get(UPLIFT_MODEL)
        failed = {**self.failed, **({UPLIFT_MODEL: version} if version else {})}
        kept = {name: v for name, v in self.versions.items() if name != UPLIFT_MODEL}
        return replace(self, versions=kept, uplift=None, uplift_error=reason, failed=failed)

    @property
    def model_version(self) -> str:
        """One string naming every registered model version, e.g. `retain-churn:v3,...`."""
        return ",".join(f"{name}:v{version}" for name, version in sorted(self.versions.items()))

    @property
    def missing(self) -> dict[str, str]:
        """Optional model -> why it is not in use (e.g. too little history to train it)."""
        return missing_models(self.churn, {**self.versions, **self.failed})


def _named(versions: dict[str, str]) -> str:
    return ",".join(f"{name}:v{version}" for name, version in sorted(versions.items()))


def _unwrap(path: Path, name: str = "", version: str = "") -> Any:
    import mlflow.pyfunc

    try:
        return mlflow.pyfunc.load_model(str(path)).unwrap_python_model()
    except (ModuleNotFoundError, AttributeError) as exc:
        raise OutdatedModelError(
            f"{name} v{version} was registered by an older version of retain and cannot be "
            f"loaded ({exc}); retrain with `retain train` (or `make train`)"
        ) from exc


def champion_versions(tracking_uri: str) -> dict[str, str]:
    """The registry's champion version of each model (uplift only if registered).

    Raises when the registry is unreachable or the churn champion is missing.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    versions = {
        name: str(client.get_model_version_by_alias(name, CHAMPION).version)
        for name in REQUIRED_MODELS
    }
    for optional in (UPSELL_MODEL, UPLIFT_MODEL):  # none: serving.coverage says why
        with contextlib.suppress(MlflowException):
            versions[optional] = str(client.get_model_version_by_alias(optional, CHAMPION).version)
    return versions


def _load(
    folder: Path, name: str, version: str, refetch: Callable[[str], Path] | None = None
) -> Any:
    """Unwrap and check one model; a cached copy that is unreadable is fetched again once."""
    try:
        model = _unwrap(folder, name, version)
    except OutdatedModelError:
        raise
    except Exception as exc:
        problem = f"cached model {folder} is unreadable ({describe_error(exc)})"
        if refetch is None:
            raise RuntimeError(f"{name} v{version}: {problem}") from exc
        logger.warning("%s; replacing it with a fresh copy from the registry", problem)
        shutil.rmtree(folder, ignore_errors=True)
        model = _unwrap(refetch(name), name, version)
    check_model_kind(model, name.removeprefix("retain-"), f"{name} v{version}")
    return model


def _bundle(
    folders: dict[str, Path],
    versions: dict[str, str],
    origin: str,
    refetch: Callable[[str], Path] | None = None,
) -> ModelBundle:
    """Load every model folder into a bundle; an uplift model that fails leaves it out."""
    models = {name: _load(folders[name], name, versions[name], refetch) for name in REQUIRED_MODELS}
    uplift, uplift_error, failed = None, None, {}
    upsell = None
    if UPSELL_MODEL in folders:
        upsell = _load(folders[UPSELL_MODEL], UPSELL_MODEL, versions[UPSELL_MODEL], refetch)
    if UPLIFT_MODEL in folders:
        try:
            uplift = _load(folders[UPLIFT_MODEL], UPLIFT_MODEL, versions[UPLIFT_MODEL], refetch)
        except Exception as exc:
            uplift_error = describe_error(exc)
            failed[UPLIFT_MODEL] = versions[UPLIFT_MODEL]
            logger.error(
                "The uplift champion did not load; the playbook ranks actions: %s", uplift_error
            )
    kept = {n: v for n, v in versions.items() if n != UPLIFT_MODEL or uplift is not None}
    return ModelBundle(
        models[CHURN_MODEL],
        upsell,
        kept,
        origin=origin,
        uplift=uplift,
        uplift_error=uplift_error,
        failed=failed,
    )


def fetch_model(tracking_uri: str, name: str, version: str, cache_dir: Path) -> Path:
    """Copy one registered model version into the local cache (once); return its folder.

    The folder is named by version and run id: a recreated registry reuses version numbers
    for other models, and a stale copy must never be served. The copy lands in a staging
    folder of this call's own first, so a crash mid-download never leaves a half model in
    place, and replicas sharing the cache never delete each other's download (they shared
    one staging folder: one of two replicas started together failed in 3 of 5 trials, the
    sixth audit); the first copy to land is the one every process uses.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run_id = client.get_model_version(name, version).run_id
    target = cache_dir / name / f"{version}-{run_id}"
    if (target / "MLmodel").exists():
        return target
    staging = cache_dir / name / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial"
    staging.mkdir(parents=True)
    try:
        mlflow.set_registry_uri(tracking_uri)
        download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(staging))
        if target.exists() and not (target / "MLmodel").exists():
            shutil.rmtree(target, ignore_errors=True)  # a half copy an older version left
        try:
            staging.rename(target)
        except OSError:  # another process's copy landed first: it is the same model
            if not (target / "MLmodel").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_from_registry(
    tracking_uri: str, cache_dir: Path, versions: dict[str, str] | None = None
) -> ModelBundle:
    """Load the champions from the registry, copying them into `cache_dir` first."""
    import mlflow

    versions = versions or champion_versions(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    folders = {name: fetch_model(tracking_uri, name, v, cache_dir) for name, v in versions.items()}

    def refetch(name: str) -> Path:
        folders[name] = fetch_model(tracking_uri, name, versions[name], cache_dir)
        return folders[name]

    bundle = _bundle(folders, versions, "registry", refetch)
    index = {name: {"version": versions[name], "folder": f.name} for name, f in folders.items()}
    atomic_write_text(cache_dir / "champions.json", json.dumps(index, indent=2))
    return bundle


class _StartLoad:
    """The start-up registry load, run on a thread of its own holding the loading lock.

    When it outlives the start-up bound, the service starts from the cache and the
    periodic reload (`ModelStore.refresh`) adopts this load's bundle once it is done:
    never a second load of the same champions beside it.
    """

    def __init__(self, work: Callable[[], ModelBundle], loading: threading.Lock) -> None:
        self._work = work
        self._loading = loading
        self.bundle: ModelBundle | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="registry-at-start", daemon=True)

    def _run(self) -> None:
        with self._loading:  # the reload waits its turn (it does not queue: it skips)
            try:
                self.bundle = self._work()
            except BaseException as exc:
                self.error = exc

    def result(self, seconds: float | None) -> ModelBundle:
        """Start the load and wait at most `seconds` (None: as long as it takes)."""
        self.thread.start()
        self.thread.join(seconds)
        if self.thread.is_alive():
            raise RegistryTimeoutError(f"the model registry did not answer within {seconds:g} s")
        if self.error is not None:
            raise self.error
        assert self.bundle is not None
        return self.bundle


def load_from_cache(cache_dir: Path) -> ModelBundle:
    """Load the champions last copied into `cache_dir`; raises if there are none."""
    path = cache_dir / "champions.json"
    if not path.exists():
        raise FileNotFoundError(f"no cached champion models in {cache_dir}")
    try:
        index: dict[str, dict[str, str]] = json.loads(path.read_text())
        folders = {name: cache_dir / name / entry["folder"] for name, entry in index.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RuntimeError(f"{path} is unreadable ({describe_error(exc)})") from exc
    versions = {name: entry["version"] for name, entry in index.items()}
    return _bundle(folders, versions, "cache")


@dataclass
class _Rejected:
    """Champion versions that did not load: how often, why, and when to try them again."""

    versions: dict[str, str]
    tries: int
    error: str
    retry_at: float


class ModelStore:
    """Holds the bundle in use and keeps it in step with the registry's champion alias.

    `retry_first` and `retry_cap` bound the pause before a champion that did not load is
    tried again (seconds of `clock`, which tests replace).
    """

    def __init__(
        self,
        bundle: ModelBundle,
        *,
        tracking_uri: str | None = None,
        cache_dir: Path | None = None,
        registry_error: str | None = None,
        on_swap: Callable[[ModelBundle], ModelBundle | None] | None = None,
        loading: threading.Lock | None = None,
        late: _StartLoad | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_cap: float = RETRY_CAP_SECONDS,
    ) -> None:
        self._bundle = bundle
        self.tracking_uri = tracking_uri
        self.cache_dir = cache_dir
        self.registry_error = registry_error
        self.champion_error: str | None = None  # a promoted champion that did not load
        self._rejected: _Rejected | None = None  # the champions that did not load, if any
        self._clock = clock
        self.retry_first, self.retry_cap = retry_first, retry_cap
        self.on_swap = on_swap
        self._lock = loading or threading.Lock()  # one registry load at a time
        self._late = late  # a start-up load still running: the reload adopts its result

    @classmethod
    def open(
        cls, tracking_uri: str, cache_dir: Path, registry_timeout: float | None = None
    ) -> ModelStore:
        """Load the champions from the registry, or from the local cache if it is unreachable.

        Args:
            tracking_uri: The MLflow registry.
            cache_dir: The local copies of the champions (`RETAIN_MODEL_CACHE`).
            registry_timeout: Seconds to wait for the registry before serving the cache (the
                load goes on in the background and the reload takes its champions when it
                is done); None waits as long as MLflow does.
        """
        cache_dir.mkdir(parents=True, exist_ok=True)
        loading = threading.Lock()
        start = _StartLoad(lambda: load_from_registry(tracking_uri, cache_dir), loading)
        late: _StartLoad | None = None
        try:
            bundle = start.result(registry_timeout)
            error = None
        except (OutdatedModelError, WrongModelError):
            raise
        except Exception as exc:  # registry down, no champion yet, ...
            late = start if isinstance(exc, RegistryTimeoutError) else None
            error = describe_error(exc)
            logger.warning("Model registry unavailable (%s); serving cached champions", error)
            try:
                bundle = load_from_cache(cache_dir)
            except Exception as cache_exc:
                raise NoChampionsError(
                    f"no champion models to score with: the registry at {tracking_uri} has"
                    f" none ({error}) and no usable cached copy ({describe_error(cache_exc)})."
                    " Run `retain train --data SOURCE` first (`make run` on the demo), or set"
                    " RETAIN_MLFLOW_URI to the registry that holds them."
                ) from cache_exc
        return cls(
            bundle,
            tracking_uri=tracking_uri,
            cache_dir=cache_dir,
            registry_error=error,
            loading=loading,
            late=late,
        )

    @property
    def bundle(self) -> ModelBundle:
        """The bundle to score with; take it once per request."""
        return self._bundle

    def swap(self, bundle: ModelBundle) -> None:
        """Put a new bundle in service (one atomic reference assignment)."""
        if self.on_swap is not None:  # e.g. warm up before the switch; may drop a failing part
            bundle = self.on_swap(bundle) or bundle
        self._bundle = bundle
        logger.info("Now serving %s (from %s)", bundle.model_version, bundle.origin)

    def refresh(self) -> bool:
        """Check the champion alias; load and swap in a newly promoted version. True if swapped.

        One registry load at a time: while another one runs (the start-up load that
        outlived its bound), this returns False at once and the next interval looks again.
        """
        if self.tracking_uri is None or self.cache_dir is None:
            return False
        if not self._lock.acquire(blocking=False):
            return False  # the start-up load is still under way
        try:
            return self._refresh(self.tracking_uri, self.cache_dir)
        finally:
            self._lock.release()

    def _late_bundle(self) -> ModelBundle | None:
        """The bundle of a start-up load that finished after the bound (once), or None."""
        late, self._late = self._late, None
        if late is None or late.bundle is None:
            return None  # none, or it failed: this reload loads for itself
        return late.bundle

    def _refresh(self, tracking_uri: str, cache_dir: Path) -> bool:
        try:
            versions = champion_versions(tracking_uri)
        except Exception as exc:
            if self.registry_error is None:  # say it once, not every interval
                logger.warning("Model registry unreachable: %s", describe_error(exc))
            self.registry_error = describe_error(exc)
            return False
        self.registry_error = None
        late = self._late_bundle()
        current = self._bundle
        in_use = {**current.versions, **current.failed}
        if versions == in_use and current.origin == "registry":
            self._rejected, self.champion_error = None, None  # the alias went back to what serves
            return False
        rejected = (
            self._rejected if self._rejected and self._rejected.versions == versions else None
        )
        if rejected is not None and self._clock() < rejected.retry_at:
            return False  # failed lately: wait out the pause before trying again
        try:
            if late is not None and {**late.versions, **late.failed} == versions:
                bundle = late  # loaded at start, still the champions: no second load
            else:
                bundle = load_from_registry(tracking_uri, cache_dir, versions)
            self.swap(bundle)  # warming up can fail too: then the old bundle serves on
        except Exception as exc:
            self._reject(versions, describe_error(exc), rejected)
            return False
        if rejected is not None:
            tries = rejected.tries + 1
            logger.warning("The promoted champions %s loaded on try %d", _named(versions), tries)
        self._rejected, self.champion_error = None, None
        return versions != in_use

    def _reject(self, versions: dict[str, str], error: str, before: _Rejected | None) -> None:
        """Keep the old bundle serving, say why (once per distinct error), plan the next try.

        The pause doubles from `retry_first` (the next poll, by default) up to `retry_cap`:
        a transient failure heals within a poll or two, while a version that never loads
        (promoted under the wrong name, say) costs one load every few minutes, not one
        every poll on every replica.
        """
        tries = before.tries + 1 if before is not None else 1
        pause = min(self.retry_cap, self.retry_first * 2 ** min(tries - 1, 30))  # no overflow
        self._rejected = _Rejected(versions, tries, error, self._clock() + pause)
        self.champion_error = (
            f"the promoted champions ({_named(versions)}) did not load "
            f"({tries} {'try' if tries == 1 else 'tries'}, the next in {pause:g} s), "
            f"{self._bundle.model_version} serves on: {error}"
        )
        if before is None or before.error != error:  # say it once, not every try
            logger.error("%s", self.champion_error)
        else:
            logger.info("The champions %s still do not load (try %d)", _named(versions), tries)

    async def watch(self, every_seconds: float) -> None:
        """Poll the registry forever (run as a background task; cancel to stop)."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                logger.exception("Could not load the newly promoted champion; keeping the old one")
