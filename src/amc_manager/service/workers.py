"""`amc workers list`: every worker process sharing the store, its heartbeat and its leases."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from amc_manager.service.executions import iso
from amc_manager.service.runtime import Runtime
from amc_manager.store.workers import list_workers as stored_workers


@dataclass(frozen=True)
class WorkerView:
    """One worker as contracts.md lists it (times in UTC, ISO 8601)."""

    id: str
    host: str
    pid: int
    version: str
    started_at: str | None
    last_heartbeat: str | None
    leases: int
    state: str  # alive | lost | stopped

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def list_workers(runtime: Runtime) -> list[WorkerView]:
    """Newest first; `lost`: silent for three of its own heartbeat intervals."""
    rows = await stored_workers(runtime.store, now=runtime.clock())
    return [
        WorkerView(
            id=r.id,
            host=r.host,
            pid=r.pid,
            version=r.version,
            started_at=iso(r.started_at),
            last_heartbeat=iso(r.last_heartbeat),
            leases=r.leases,
            state=r.state,
        )
        for r in rows
    ]


async def worker_alive(runtime: Runtime) -> bool:
    """Whether some worker's heartbeat is recent: every worker runs the loops that drive
    collections and fire schedules, so one alive is enough for both."""
    return any(w.state == "alive" for w in await list_workers(runtime))


def no_worker(what: str) -> str:
    """The one-line notice the CLI prints when no worker is alive to do `what`."""
    return f"no live worker: `amc worker` or `amc serve` {what}"
