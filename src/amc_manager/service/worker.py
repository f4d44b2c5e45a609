"""The background worker as a use case: the engine's supervised loops until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import UTC, datetime

from amc_manager.engine.worker import Worker
from amc_manager.service.runtime import Runtime
from amc_manager.service.schedules import build_scheduler


def build_worker(runtime: Runtime) -> Worker:
    """A worker over this process's engine, flushing the audit log and keeping tokens fresh."""
    engine = runtime.engine()
    return Worker(
        engine,
        flush=runtime.audit.flush,
        refresh_tokens=engine.refresh_tokens,
        shutdown_timeout=runtime.settings.shutdown_timeout,
        loops={"scheduler": build_scheduler(runtime).step},
    )


async def run_worker(runtime: Runtime, *, announce: Callable[[str], None]) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully: in-flight steps finish or hand their
    leases over within AMC_SHUTDOWN_TIMEOUT. A loop that keeps failing raises WorkerFailed."""
    await runtime.secret_key()  # required (real mode) and the same as the store's, or exit 2
    worker = build_worker(runtime)
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
    announce("worker stopped")
