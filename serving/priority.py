"""Single-account requests before big batches, on the one event loop.

A 1,000-account response at the latest date costs no model work (`serving.memo`), but it
is ~4 MB to copy out, and the client that asked spends CPU reading it: on a small machine
two CRM-like clients posting such batches non-stop would take the CPU the interactive,
single-account requests need. `BatchLane` gives the small requests priority: big
responses go out one at a time, in slices, and while small requests keep arriving each
slice waits a few milliseconds first. Alone, a batch goes at full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator


class BatchLane:
    """One big response at a time, stepping aside while small requests arrive."""

    def __init__(self, pause: float = 0.002, recent: float = 0.05) -> None:
        """`pause`: seconds a slice waits when a small request came in the last `recent` s."""
        self.pause = pause
        self.recent = recent
        self._last_small = float("-inf")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turn = asyncio.Semaphore(1)

    def small_request(self) -> None:
        """Note that a small (interactive) request arrived."""
        self._last_small = time.monotonic()

    def busy(self) -> bool:
        """Whether small requests arrived lately (big responses then step aside)."""
        return time.monotonic() - self._last_small < self.recent

    async def step_aside(self) -> None:
        """Let waiting requests run; wait `pause` first while small ones are arriving."""
        await asyncio.sleep(self.pause if self.busy() else 0)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the lane: big responses are sent one after the other."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a semaphore belongs to one event loop (tests make many)
            self._loop, self._turn = loop, asyncio.Semaphore(1)
        async with self._turn:
            yield
