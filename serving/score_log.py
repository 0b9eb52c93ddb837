"""The score log hook: what `retain score` and the API served, kept in the service's store.

Every batch run is logged whole (`log_batch`). API scores are sampled
(`RETAIN_SCORE_LOG_SAMPLE`, default 0.1 of the accounts scored) and written by a
background thread, off the request's path: a store that is down never fails a request;
the rows it loses are counted on `/metrics` (`retain_score_log_rows_total{outcome}`).

Why 0.1: monitoring judges calibration on matured labels per model version, and an
account's features only change when the source refreshes, so repeated API scores of an
account mostly repeat one another; the batch runs already log every account. A tenth
keeps the log small under a chatty CRM while still showing what the API served.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from prometheus_client import CollectorRegistry, Counter

from store import SCORE_COLUMNS, Store, StoreError

logger = logging.getLogger(__name__)
MAX_PENDING = 100  # queued API score chunks; beyond, new ones are dropped (and counted)
WRITE_ROWS = 2_000  # rows per store transaction


def log_batch(scores: pd.DataFrame, store_url: str) -> int:
    """Log every row of a `retain score` run (one transaction); returns the rows logged.

    Raises:
        StoreUnavailable: the store cannot be reached; nothing was logged.
    """
    with Store(store_url) as store:
        return store.log_scores(scores, "batch")


class ScoreLogger:
    """Samples the API's scores and appends them to the store from a background thread."""

    def __init__(
        self,
        store: Store,
        sample: float,
        registry: CollectorRegistry | None = None,
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.sample = sample
        self.rows = Counter(
            "retain_score_log_rows",
            "API scores for the score log, by outcome (logged, failed: store down, dropped)",
            ["outcome"],
            registry=registry,
        )
        self._random = random.Random(seed)
        self._pending: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def offer(self, scores: Sequence[Any], horizon: datetime | None = None) -> None:
        """Queue a sample of these scores (objects with the `SCORE_COLUMNS` attributes).

        `horizon`: the data's end when they were scored, logged with each (a score for an
        earlier `as_of`, a CRM's backfill, is not judged by the monitor).
        """
        if self.sample <= 0 or not scores:
            return
        rows = [
            {**{name: getattr(score, name) for name in SCORE_COLUMNS}, "horizon": horizon}
            for score in scores
            if self.sample >= 1 or self._random.random() < self.sample
        ]
        if not rows:
            return
        self._ensure_started()
        try:
            self._pending.put_nowait(rows)
        except queue.Full:
            self.rows.labels("dropped").inc(len(rows))

    def flush(self) -> None:
        """Wait until every queued score has been written or counted as failed."""
        if self._thread is not None:
            self._pending.join()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (waiting at most `timeout` seconds), then stop the thread."""
        if self._thread is None:
            return
        try:
            self._pending.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_forever, name="score-log", daemon=True
                )
                self._thread.start()

    def _write_forever(self) -> None:
        stopping = False
        while not stopping:
            chunk = self._pending.get()
            rows: list[dict[str, Any]] = []
            taken = 1
            stopping = chunk is None
            rows.extend(chunk or [])
            while not stopping and len(rows) < WRITE_ROWS:  # what else waits: one transaction
                try:
                    more = self._pending.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                stopping = more is None
                rows.extend(more or [])
            if rows:
                self._write(rows)
            for _ in range(taken):
                self._pending.task_done()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            self.store.log_scores(pd.DataFrame(rows), "api")
        except (StoreError, ValueError) as error:
            self.rows.labels("failed").inc(len(rows))
            logger.warning("score log: %d API scores not logged: %s", len(rows), error)
        except Exception:  # never let the writer die: the next chunk may succeed
            self.rows.labels("failed").inc(len(rows))
            logger.exception("score log: %d API scores not logged", len(rows))
        else:
            self.rows.labels("logged").inc(len(rows))
