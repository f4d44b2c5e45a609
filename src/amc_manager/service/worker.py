"""The background worker as a use case: the engine's supervised loops until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime

from amc_manager.engine.heartbeat import Heartbeat
from amc_manager.engine.worker import Worker
from amc_manager.service.collections import collection_loop
from amc_manager.service.retention import retention_loop
from amc_manager.service.runtime import Runtime
from amc_manager.service.schedules import build_scheduler
from amc_manager.store.workers import StatementCounter

logger = logging.getLogger("amc_manager.worker")


def build_worker(
    runtime: Runtime, *, concurrency: int | None = None, heartbeat: Heartbeat | None = None
) -> Worker:
    """A worker over this process's engine, flushing the audit log and keeping tokens fresh;
    at most `concurrency` steps in flight; registered in the workers table with a heartbeat
    (`heartbeat`, else one that registers at its first beat)."""
    engine = runtime.engine()
    engine.limit_steps(concurrency)
    engine.keep_leases = True  # a worker keeps what it tracks between looks (one lister each)
    worker = Worker(
        engine,
        flush=runtime.audit.flush,
        refresh_tokens=engine.refresh_tokens,
        shutdown_timeout=runtime.settings.shutdown_timeout,
        loops={
            "scheduler": build_scheduler(runtime).step,
            "collections": collection_loop(runtime).step,
            "retention": retention_loop(runtime),
        },
    )
    beat = heartbeat or new_heartbeat(runtime)
    worker.extra_loops["heartbeat"] = beat.step
    worker.on_stop = beat.stopped
    return worker


def new_heartbeat(runtime: Runtime) -> Heartbeat:
    """The registry entry of this process's worker: its id is the engine's lease owner id."""
    engine = runtime.engine()
    every = runtime.settings.heartbeat_seconds  # real seconds, whatever AMC_TIME_SCALE says
    return Heartbeat(runtime.store, engine.owner, every=every, clock=runtime.clock)


def count_store_queries(runtime: Runtime) -> Callable[[], int]:
    """A count of the statements this process sends to the store from now on."""
    counter = StatementCounter(runtime.store)
    return lambda: counter.count


async def run_worker(
    runtime: Runtime,
    *,
    announce: Callable[[str], None],
    concurrency: int | None = None,
    store_queries: Callable[[], int] | None = None,
) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully: in-flight steps finish or hand their
    leases over within AMC_SHUTDOWN_TIMEOUT. A loop that keeps failing raises WorkerFailed.

    The worker is in the workers table before it says it started; `store_queries` (a
    `count_store_queries`) is logged when it stops."""
    await runtime.secret_key()  # required (real mode) and the same as the store's, or exit 2
    beat = new_heartbeat(runtime)
    await beat.register()
    worker = build_worker(runtime, concurrency=concurrency, heartbeat=beat)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    started = datetime.now(UTC).strftime("%H:%M:%SZ")
    announce(f"worker {worker.engine.owner} started ({started})")
    try:
        await worker.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if store_queries is not None:
            logger.info("worker %s sent %d store queries", worker.engine.owner, store_queries())
    announce("worker stopped")
