"""`amc worker`: the engine loop until SIGINT/SIGTERM, plus background token refresh."""

from __future__ import annotations

import asyncio
import logging

from amc_manager.engine.engine import Engine
from amc_manager.engine.runtime import Runtime
from amc_manager.store.rows import OPEN_STATES
from amc_manager.store.store import user_email

logger = logging.getLogger("amc_manager.worker")
TRACKING_STATES = ("pending", "running")
WORK_STATES = tuple(s for s in OPEN_STATES if s not in TRACKING_STATES)


class Worker:
    """Runs `engine.run_once` until stopped; idle waits are short so new work starts quickly."""

    def __init__(
        self, runtime: Runtime, engine: Engine, *, idle: float = 0.5, refresh_every: float = 60.0
    ) -> None:
        self.runtime = runtime
        self.engine = engine
        self.idle = idle
        self.refresh_every = refresh_every
        self.stop_event = asyncio.Event()

    def stop(self) -> None:
        self.stop_event.set()

    async def run(self) -> None:
        """Status tracking runs in a loop of its own, so a slow submission or download never
        delays noticing that another execution finished."""
        side = [asyncio.create_task(self._refresh_tokens())]
        side.append(asyncio.create_task(self._loop(TRACKING_STATES)))
        try:
            await self._loop(WORK_STATES)
        finally:
            for task in side:
                task.cancel()
            await asyncio.gather(*side, return_exceptions=True)

    async def _loop(self, states: tuple[str, ...]) -> None:
        idle = self.idle / self.runtime.settings.time_scale  # an engine interval like the others
        while not self.stop_event.is_set():
            done = await self.engine.run_once(states=states)
            await self.runtime.audit.flush()
            if done == 0:
                try:
                    await asyncio.wait_for(self.stop_event.wait(), idle)
                except TimeoutError:
                    pass

    async def _refresh_tokens(self) -> None:
        """Keep the tokens of users with open work fresh, so no call meets an expired one.

        The client's refresh is coalesced, so this never races an on-demand refresh.
        """
        while True:
            await asyncio.sleep(self.refresh_every / self.runtime.settings.time_scale)
            try:
                rows = await self.runtime.store.list_executions(states=OPEN_STATES)
                for user_id in {r.user_id for r in rows}:
                    email = await user_email(self.runtime.store, user_id)
                    client = await self.runtime.client(email)
                    await client.tokens.current()
            except Exception:  # refresh is best effort; calls refresh on demand anyway
                logger.warning("background token refresh failed", exc_info=True)
