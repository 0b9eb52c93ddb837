"""The touchpoints recorded through the service count in the scores they are followed by.

A touchpoint posted to `/v1/touchpoints` (or marked done on the CSM pages) lands in the
service's store, not in the source. `TouchpointFollower` gives the scoring service the
store's touchpoints whenever they change (`ScoringService.include_touchpoints`: the
touchpoints features of the accounts whose touchpoints changed are computed again, each
touchpoint once with the source's, and spliced into the latest snapshot, and those
accounts alone are scored again; `serving.snapshots.recount_touchpoints`): at once for one
added through this process (the store counts them, `Store.touchpoints_added`: the next
score request waits for it, tens of milliseconds), and within
`RETAIN_RELOAD_SECONDS` for one added by another process or replica (`watch` polls the
store's `touchpoints_revision`). When the store is down the features keep the touchpoints
they have, and scoring goes on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

from serving.snapshots import SourceChangedError
from store import Store, StoreUnavailable

logger = logging.getLogger(__name__)


async def catch_up(app_state: Any, service: Any) -> None:
    """Count touchpoints recorded through this process before scoring (`TouchpointFollower`)."""
    follower: TouchpointFollower | None = getattr(app_state, "touchpoint_follower", None)
    if follower is not None:
        await follower.catch_up(service)


def read_touchpoints(
    store_url: str, note: Callable[[str], None] | None = None
) -> pd.DataFrame | None:
    """The touchpoints recorded through the service, or None (logged) if the store is down.

    For loading features (`FeatureStore.from_source(..., touchpoints=...)`): scores go on
    without them when the store cannot be reached, as they go on without the score log.
    `note` also tells the user (a command's output) why they are left out.
    """
    try:
        with Store(store_url) as store:
            if not store.exists():  # nothing recorded yet: reading creates no store file
                return None
            return store.touchpoints()
    except StoreUnavailable as error:
        logger.warning("Scoring without the touchpoints recorded through the service: %s", error)
        if note is not None:
            note(f"Note: without the touchpoints recorded through the service: {error}")
        return None


class TouchpointFollower:
    """Keeps a scoring service's features counting the store's recorded touchpoints."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen_added = store.touchpoints_added
        self.seen_revision: tuple[int, Any] | None = None
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether touchpoints were added through this process since they were last read."""
        return self.store.touchpoints_added != self.seen_added

    async def catch_up(self, service: Any) -> None:
        """Count the touchpoints added through this process, if any, before scoring.

        Off the event loop; concurrent requests wait for the one reading (then find
        nothing more to do).
        """
        if self.due():
            await asyncio.to_thread(self.follow_if_due, service)

    def follow_if_due(self, service: Any) -> bool:
        """`follow` when touchpoints were added through this process since last read."""
        with self._lock:
            return self._follow(service) if self.due() else False

    def follow(self, service: Any, revision: tuple[int, Any] | None = None) -> bool:
        """Read the store's touchpoints and give them to `service` (heavy: use a thread).

        Returns:
            Whether the features changed. False when the store or the source cannot be
            read (logged): the features keep the touchpoints they had.
        """
        with self._lock:
            return self._follow(service, revision)

    def _follow(self, service: Any, revision: tuple[int, Any] | None = None) -> bool:
        added = self.store.touchpoints_added
        try:
            changed = bool(service.include_touchpoints(self.store.touchpoints()))
        except (StoreUnavailable, SourceChangedError) as error:
            logger.warning("Scores keep the touchpoints read before: %s", error)
            changed, revision = False, None  # not again on every request; `watch` retries
        except Exception:  # never fail a score request over it
            logger.exception("Could not count the recorded touchpoints; keeping those")
            changed, revision = False, None
        self.seen_added = added
        if revision is not None:
            self.seen_revision = revision
        return changed

    def poll(self, service: Any) -> bool:
        """Follow the store when its revision changed since last read (any process's adds)."""
        try:
            revision = self.store.touchpoints_revision()
        except StoreUnavailable:
            return False
        if revision == self.seen_revision:
            return False
        return self.follow(service, revision)

    async def watch(self, app_state: Any, every_seconds: float) -> None:
        """Poll the store forever (a background task; cancel to stop)."""
        while True:
            await asyncio.sleep(every_seconds)
            service = getattr(app_state, "service", None)
            if service is None:
                continue
            try:
                await asyncio.to_thread(self.poll, service)
            except Exception:
                logger.exception("Could not count the touchpoints recorded since; keeping those")
