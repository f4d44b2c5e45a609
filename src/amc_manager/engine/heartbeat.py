"""A worker's heartbeat: registered at start, a beat every few seconds, `stopped` at a graceful
stop; each beat also reaps workers that went silent (marked `lost`, their leases released)."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

from amc_manager.store import Store
from amc_manager.store.workers import beat, mark_stopped, reap_lost, register_worker

logger = logging.getLogger("amc_manager.worker")
# Real seconds (AMC_HEARTBEAT_SECONDS), never divided by AMC_TIME_SCALE: a worker whose event
# loop is merely busy must not pass for dead, or its leases are released under its steps.
HEARTBEAT_SECONDS = 5.0


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("amc-manager")
    except PackageNotFoundError:
        return "0"


class Heartbeat:
    """The registry row of one worker, whose id is its engine's lease owner id."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        *,
        every: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.time,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.every = every
        self.clock = clock
        self.host = host or socket.gethostname()
        self.pid = pid if pid is not None else os.getpid()
        self.registered = False

    async def register(self) -> None:
        await register_worker(
            self.store,
            self.worker_id,
            host=self.host,
            pid=self.pid,
            version=package_version(),
            heartbeat_seconds=self.every,
            now=self.clock(),
        )
        self.registered = True

    async def step(self) -> float:
        """One beat (registering first if needed) and one look for lost workers; the seconds
        to the next beat (a supervised loop of `Worker`)."""
        if not self.registered or not await beat(self.store, self.worker_id, now=self.clock()):
            await self.register()
        lost = await reap_lost(self.store, now=self.clock(), by=self.worker_id)
        for worker_id in lost:
            logger.warning("worker %s is lost (no heartbeat); its leases were released", worker_id)
        return self.every

    async def stopped(self) -> None:
        """The graceful stop's last word (after the worker handed its leases over)."""
        if self.registered:
            await mark_stopped(self.store, self.worker_id, now=self.clock())
