"""Expected action effects from the uplift champion, computed once per feature snapshot.

`UpliftEffects` belongs to a `ModelBundle`: `warm(snapshot)` computes every account's
per-action effect in one pass when the bundle is loaded (or swapped in), so a request only
indexes into that table. The latest snapshot's table is never evicted; a few tables of
other `as_of` dates are kept, oldest dropped first; the API computes those off the event
loop (`serving.warming`) before it scores. When touchpoints recorded through the service
change some accounts' features, `warm_rows` computes those accounts' effects alone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from actions.ranking import ExpectedEffect, per_account
from serving.snapshots import FeatureSnapshot


class UpliftEffects:
    """Per-account expected effects of an uplift model, computed once per snapshot."""

    def __init__(self, model: Any, costs: dict[str, float] | None = None, keep: int = 4) -> None:
        self.model = model
        config = getattr(model, "config", None)
        actions = getattr(model, "actions_", [])
        if costs is None and config is not None:
            costs = {a: float(config.cost(a)) for a in actions}
        self.costs = costs or {}
        # each table beside the snapshot it is of: held, a snapshot's id is never reused
        self._latest: tuple[FeatureSnapshot, list[dict[str, ExpectedEffect]]] | None = None
        self._cache: OrderedDict[
            tuple[Any, int], tuple[FeatureSnapshot, list[dict[str, ExpectedEffect]]]
        ] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def _compute(self, snapshot: FeatureSnapshot) -> list[dict[str, ExpectedEffect]]:
        frame = pd.DataFrame(snapshot.matrix, columns=list(snapshot.feature_names))
        return per_account(self.model.effects(frame), self.costs) or [{} for _ in range(len(frame))]

    @staticmethod
    def _key(snapshot: FeatureSnapshot) -> tuple[Any, int]:
        return (snapshot.as_of, id(snapshot))

    def warm(self, snapshot: FeatureSnapshot) -> None:
        """Compute the effects of `snapshot` now and keep them for good (the latest data)."""
        table = self._compute(snapshot)
        with self._lock:
            self._latest = (snapshot, table)

    def warm_rows(
        self, snapshot: FeatureSnapshot, previous: FeatureSnapshot, rows: np.ndarray
    ) -> bool:
        """`warm` for a snapshot that differs from the latest one, `previous`, only at `rows`.

        The effects of those rows are computed, every other row's kept: an uplift model's
        effects of an account depend on that account's features alone (each learner
        predicts row by row). False, and nothing done, unless `previous` is the latest
        snapshot warmed here with the same accounts: then `warm` is needed.
        """
        with self._lock:
            latest = self._latest
        if latest is None or latest[0] is not previous:
            return False
        table = list(latest[1])
        if len(table) != len(snapshot.account_ids) or snapshot.account_ids != previous.account_ids:
            return False
        if len(rows):
            frame = pd.DataFrame(snapshot.matrix[rows], columns=list(snapshot.feature_names))
            found = per_account(self.model.effects(frame), self.costs) or [{} for _ in rows]
            for row, effects in zip(rows, found, strict=True):
                table[int(row)] = effects
        with self._lock:
            self._latest = (snapshot, table)
        return True

    def _computed(self, snapshot: FeatureSnapshot) -> list[dict[str, ExpectedEffect]] | None:
        with self._lock:
            latest = self._latest
            if latest is not None and latest[0] is snapshot:
                return latest[1]
            cached = self._cache.get(self._key(snapshot))
        return cached[1] if cached is not None and cached[0] is snapshot else None

    def is_computed(self, snapshot: FeatureSnapshot) -> bool:
        """Whether the effects of `snapshot` are in memory (a request only indexes them)."""
        return self._computed(snapshot) is not None

    def prepare(self, snapshot: FeatureSnapshot) -> list[dict[str, ExpectedEffect]]:
        """The effects of `snapshot`, computing them now if needed (heavy: off the event loop)."""
        table = self._computed(snapshot)
        if table is None:
            table = self._compute(snapshot)
            with self._lock:
                self._cache[self._key(snapshot)] = (snapshot, table)
                while len(self._cache) > self._keep:
                    self._cache.popitem(last=False)
        return table

    def __call__(
        self, snapshot: FeatureSnapshot, rows: np.ndarray
    ) -> list[Mapping[str, ExpectedEffect]]:
        """The expected effects of the accounts at `rows` of `snapshot`."""
        table = self.prepare(snapshot)
        return [table[int(r)] for r in rows]
