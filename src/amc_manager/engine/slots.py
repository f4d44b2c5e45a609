"""Step slots of one process (`amc worker --concurrency`): a bound on steps in flight, and how
many more steps it can take on now."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class StepSlots:
    """At most `limit` steps run at once (None: no bound); the others wait for a slot, first
    come first served.

    `free` counts the waiting steps as taken: a loop that claims runs only while a slot is free
    (`wait_free`) never leases runs it cannot step soon, so another worker steps them instead.
    """

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"a step bound must be at least 1, not {limit}")
        self.limit = limit
        self._taken = 0  # steps running or waiting for a slot
        self._running = 0
        self._changed = asyncio.Condition()

    @property
    def free(self) -> int | None:
        """How many more steps would start at once (None: any number)."""
        if self.limit is None:
            return None
        return max(self.limit - self._taken, 0)

    @asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        """Hold a slot for the step in the block, waiting for one if none is free."""
        limit = self.limit
        if limit is None:
            yield
            return
        self._taken += 1
        try:
            async with self._changed:
                await self._changed.wait_for(lambda: self._running < limit)
                self._running += 1
            try:
                yield
            finally:
                self._running -= 1
        finally:
            self._taken -= 1
            async with self._changed:
                self._changed.notify_all()

    async def wait_free(self) -> None:
        """Return once a step would start at once (at once when there is no bound)."""
        limit = self.limit
        if limit is None:
            return
        async with self._changed:
            await self._changed.wait_for(lambda: self._taken < limit)
