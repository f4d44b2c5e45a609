"""One request budget per AMC instance for every process: the client's AIMD, the store's row."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from amc_manager.client.ratelimit import BudgetParams, BudgetState, penalize, reserve
from amc_manager.store import Store
from amc_manager.store.budget import BudgetRow, read_budget, update_budget


class StoreBudget:
    """Implements the client's `RequestBudget` over the store's `request_budget` rows.

    Every process reserves its next slot on the same row, so N workers together stay under
    the rate; a 429 seen by any of them halves the rate and pauses all of them. The step is
    the client's pure `reserve`/`penalize`, the very one `RateLimiter` applies in memory.
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
        self.params = BudgetParams(rate, min_rate, recovery_seconds, recovery_step)
        self._clock = clock
        self._sleep = sleep
        # Each key's row as this process last wrote it: the next write is tried against it
        # first (one statement); another process's write in between sends it down the
        # read-and-retry path.
        self._written: dict[str, BudgetRow] = {}

    @property
    def rate(self) -> float:
        """The configured (maximum) rate."""
        return self.params.max_rate

    async def state(self, key: str) -> BudgetState:
        """The key's budget as stored (fresh when it has none yet)."""
        return self._state_of(await read_budget(self._store, key))

    async def acquire(self, key: str) -> None:
        if self.params.unlimited:
            return
        now = self._clock()

        def step(row: BudgetRow | None) -> tuple[BudgetRow, float]:
            state, wait = reserve(self._state_of(row), now, self.params)
            return self._wrote(key, BudgetRow(**asdict(state))), wait

        wait = await update_budget(self._store, key, step, guess=self._written.pop(key, None))
        if wait > 0:
            await self._sleep(wait)

    async def penalize(self, key: str, retry_after: float | None) -> None:
        if self.params.unlimited:
            return
        now = self._clock()

        def step(row: BudgetRow | None) -> tuple[BudgetRow, None]:
            state = penalize(self._state_of(row), now, retry_after, self.params)
            return self._wrote(key, BudgetRow(**asdict(state))), None

        await update_budget(self._store, key, step, guess=self._written.pop(key, None))

    def _wrote(self, key: str, row: BudgetRow) -> BudgetRow:
        """Remember the row a step is about to write (the last step run is the one written)."""
        self._written[key] = row
        return row

    def _state_of(self, row: BudgetRow | None) -> BudgetState:
        return self.params.fresh() if row is None else BudgetState(**asdict(row))
