"""Heavy work for a new `as_of`, kept off the event loop and bounded.

Scoring at a date whose features (and expected effects) are not in memory means computing
them for every account: seconds of work. `AsOfGate` runs that in its own small thread
pool, so `/healthz` and requests on the latest data never wait behind it; concurrent
requests for the same date wait on one computation; and at most `slots` new dates are
computed at once: a request for yet another date gets `Busy` (the API answers 503 with
`Retry-After`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class Busy(RuntimeError):
    """Every slot for computing a new `as_of` is taken; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "the service is computing features for other as_of dates; retry in a few seconds"
        )
        self.retry_after = retry_after


class AsOfGate:
    """Single-flight, bounded computation of new `as_of` dates on a private thread pool."""

    def __init__(self, slots: int = 2, retry_after: int = 5, name: str = "as-of") -> None:
        self.slots = slots
        self.name = name
        self.retry_after = retry_after
        self._pool: ThreadPoolExecutor | None = None  # started on first use, again after close
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, work: Callable[[], Any]) -> None:
        """Run `work` for `key` once, however many requests ask; raise `Busy` when full."""
        future = self._running.get(key)
        if future is None:
            if len(self._running) >= self.slots:
                raise Busy(self.retry_after)
            future = asyncio.get_running_loop().run_in_executor(self.pool(), work)
            self._running[key] = future
            future.add_done_callback(lambda _: self._running.pop(key, None))
        await asyncio.shield(future)

    def pool(self) -> ThreadPoolExecutor:
        """The gate's thread pool (`slots` threads)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix=self.name)
        return self._pool

    def close(self) -> None:
        """Stop the thread pool (running work finishes); a later `run` starts a new one."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
