"""Churn and upsell probability over the last 12 monthly snapshots, for every active account.

Scored with the champions in use over the features as of each month start (the snapshot
the service serves is the last point), computed once per bundle and data in a background
thread: one feature pass over the 12 dates, one model call per date. The page's "change
since the last snapshot" is the latest score minus the point before it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from serving.snapshots import FeatureSnapshot, snapshot_from_frames

MONTHS = 12


def snapshot_dates(latest: datetime, months: int = MONTHS) -> list[datetime]:
    """The last `months` month starts up to `latest`, then `latest` itself if it is not one."""
    first_of_month = datetime(latest.year, latest.month, 1)
    starts = pd.date_range(end=first_of_month, periods=months, freq="MS").to_pydatetime()
    dates = [d for d in starts if d < latest]
    return [*dates[-(months - 1) :], latest] if dates else [latest]


@dataclass(frozen=True)
class ScoreHistory:
    """Probabilities per account (rows) and snapshot date (columns), NaN when not active."""

    dates: tuple[datetime, ...]
    row: dict[str, int]
    churn: np.ndarray
    upsell: np.ndarray | None

    def of(self, account_id: str) -> tuple[list[float | None], list[float | None] | None]:
        """One account's churn and upsell series (None where it was not active)."""
        i = self.row.get(account_id)
        if i is None:
            return [None] * len(self.dates), None if self.upsell is None else [None] * len(
                self.dates
            )

        def listed(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in values]

        return listed(self.churn[i]), None if self.upsell is None else listed(self.upsell[i])

    def previous_churn(self, account_id: str) -> float | None:
        """Churn probability at the snapshot before the latest, if the account was active."""
        i = self.row.get(account_id)
        if i is None or len(self.dates) < 2:
            return None
        value = self.churn[i, -2]
        return None if np.isnan(value) else float(value)


def _past_snapshots(service: Any, dates: Sequence[datetime]) -> list[FeatureSnapshot]:
    source = getattr(service.features, "source", None)
    if source is None:  # features computed by the store's own function (tests, benchmarks)
        return [service.features.snapshot(d) for d in dates]
    from features.compute import compute_features

    cursor = source.con.cursor()  # its own cursor: scoring may be using the connection
    try:
        frame = compute_features(cursor, list(dates))
    finally:
        cursor.close()
    stamps = pd.to_datetime(frame["as_of"])
    return [snapshot_from_frames(d, frame[stamps == pd.Timestamp(d)]) for d in dates]


def _probabilities(model: Any, snapshot: FeatureSnapshot, ids: Sequence[str]) -> np.ndarray:
    out = np.full(len(ids), np.nan)
    rows = [(i, snapshot.row[a]) for i, a in enumerate(ids) if a in snapshot.row]
    if not rows:
        return out
    mine, theirs = (np.array(x, dtype=np.intp) for x in zip(*rows, strict=True))
    columns = np.array([snapshot.column[f] for f in model.feature_names], dtype=np.intp)
    out[mine] = np.clip(model.predict_proba(snapshot.matrix[theirs][:, columns]), 0.0, 1.0)
    return out


def compute_history(service: Any, bundle: Any, months: int = MONTHS) -> ScoreHistory:
    """Score every account of the latest snapshot at each of the last `months` snapshots."""
    latest = service.features.latest
    dates = snapshot_dates(latest.as_of, months)
    snapshots = [*_past_snapshots(service, dates[:-1]), latest]
    ids = latest.account_ids
    churn = np.column_stack([_probabilities(bundle.churn, s, ids) for s in snapshots])
    upsell = None
    if bundle.upsell is not None:
        upsell = np.column_stack([_probabilities(bundle.upsell, s, ids) for s in snapshots])
    return ScoreHistory(tuple(dates), dict(latest.row), churn, upsell)


class HistoryKeeper:
    """The history for the bundle and data in use, computed once in a background thread."""

    def __init__(self, months: int = MONTHS) -> None:
        self.months = months
        self._lock = threading.Lock()
        self._key: tuple[Any, Any] | None = None  # (bundle, latest snapshot) computed for
        self._future: Future[ScoreHistory] | None = None

    def start(self, service: Any) -> Future[ScoreHistory]:
        """The (possibly running) computation for the current bundle and latest snapshot."""
        bundle, latest = service.models.bundle, service.features.latest
        with self._lock:  # the same objects: a snapshot recomputed with new touchpoints is new
            key = self._key
            if self._future is None or key is None or key[0] is not bundle or key[1] is not latest:
                future: Future[ScoreHistory] = Future()
                self._key, self._future = (bundle, latest), future

                def run() -> None:
                    try:
                        future.set_result(compute_history(service, bundle, self.months))
                    except BaseException as error:  # surfaced to the page that waits
                        future.set_exception(error)

                threading.Thread(target=run, name="retain-history", daemon=True).start()
            return self._future
