"""One request budget per AMC instance for every process, kept in the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from amc_manager.store import Store
from amc_manager.store.store import penalize_requests, reserve_request


class StoreBudget:
    """Implements the client's `RequestBudget` with reservations in `request_budget`.

    Every process reserves its next slot on the same row, so N workers together stay under
    the rate; a 429 seen by any of them halves the rate and pauses all of them.
    """

    def __init__(
        self,
        store: Store,
        rate: float,
        *,
        min_rate: float = 0.5,
        recovery_seconds: float = 5.0,
        recovery_step: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self.rate = rate
        self._min_rate = min_rate
        self._recovery = recovery_seconds
        self._step = recovery_step
        self._clock = clock
        self._sleep = sleep
        self._pending_penalties: set[asyncio.Task[None]] = set()

    async def acquire(self, key: str) -> None:
        if self.rate <= 0:
            return
        wait = await reserve_request(
            self._store, key, self._clock(), self.rate, self._recovery, self._step
        )
        if wait > 0:
            await self._sleep(wait)

    def penalize(self, key: str, retry_after: float | None) -> None:
        if self.rate <= 0:
            return
        task = asyncio.ensure_future(
            penalize_requests(self._store, key, self._clock(), retry_after, self._min_rate)
        )
        self._pending_penalties.add(task)
        task.add_done_callback(self._pending_penalties.discard)
