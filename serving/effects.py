"""Expected action effects from the registered `retain-uplift` champion, cached per snapshot.

`UpliftEffects` is a `scoring.EffectsProvider`: the first request for a feature snapshot
computes every account's per-action effect once (one numpy pass); later requests only
index into that cache, so the per-request cost stays a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from serving.snapshots import FeatureSnapshot

UPLIFT_MODEL = "retain-uplift"


@dataclass(frozen=True)
class ExpectedEffect:
    """One action's expected change in churn probability for one account (negative helps)."""

    effect: float | None
    std: float | None
    basis: str  # "learned" | "playbook"
    basis_reason: str
    cost: float = 0.0


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


class UpliftEffects:
    """Per-account expected effects from an uplift model, computed once per snapshot."""

    def __init__(self, model: Any, costs: dict[str, float] | None = None, keep: int = 4) -> None:
        self.model = model
        config = getattr(model, "config", None)
        actions = getattr(model, "actions_", [])
        if costs is None and config is not None:
            costs = {a: float(config.cost(a)) for a in actions}
        self.costs = costs or {}
        self.version: str | None = None
        self._cache: OrderedDict[tuple[Any, int], list[Mapping[str, ExpectedEffect]]] = (
            OrderedDict()
        )
        self._keep = keep
        self._lock = threading.Lock()

    def _compute(self, snapshot: FeatureSnapshot) -> list[Mapping[str, ExpectedEffect]]:
        frame = pd.DataFrame(snapshot.matrix, columns=list(snapshot.feature_names))
        found = self.model.effects(frame)
        out: list[dict[str, ExpectedEffect]] = [{} for _ in range(len(frame))]
        for action, (effect, std, basis, reason, *_) in found.items():
            cost = float(self.costs.get(action, 0.0))
            for i in range(len(frame)):
                out[i][action] = ExpectedEffect(
                    _number(effect[i]), _number(std[i]), str(basis[i]), str(reason[i]), cost
                )
        return list(out)

    def __call__(
        self, snapshot: FeatureSnapshot, rows: np.ndarray
    ) -> list[Mapping[str, ExpectedEffect]]:
        """The expected effects of the accounts at `rows` of `snapshot`."""
        key = (snapshot.as_of, id(snapshot))
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = self._compute(snapshot)
            with self._lock:
                self._cache[key] = cached
                while len(self._cache) > self._keep:
                    self._cache.popitem(last=False)
        return [cached[int(r)] for r in rows]


def load_uplift_effects(tracking_uri: str, cache_dir: Path) -> UpliftEffects | None:
    """The `retain-uplift` champion as an effects provider, or None when none is registered."""
    import mlflow.pyfunc
    from mlflow import MlflowClient

    from serving.models import fetch_model

    try:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        version = str(client.get_model_version_by_alias(UPLIFT_MODEL, "champion").version)
        target = fetch_model(tracking_uri, UPLIFT_MODEL, version, cache_dir)
        model = mlflow.pyfunc.load_model(str(target)).unwrap_python_model()
    except Exception:  # no uplift model yet: the playbook alone decides
        return None
    provider = UpliftEffects(model)
    provider.version = version
    return provider
