"""`--concurrency N`: at most N steps in flight, seen in the AMC calls' own timings (every call
to the embedded sandbox is slowed by 80 ms, so calls of concurrent steps overlap)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from amc_manager.client import AuditEvent
from amc_manager.engine.engine import Engine
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.store import TERMINAL_STATES, InstanceRow
from tests.engine.conftest import SQL, opened, window


def most_at_once(events: list[AuditEvent]) -> int:
    """The largest number of AMC calls in flight together (each spans its duration)."""
    edges = sorted(
        [(e.at - e.duration, 1) for e in events] + [(e.at, -1) for e in events],
        key=lambda edge: (edge[0], edge[1]),  # an end before a start at the same instant
    )
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


async def drive(engine: Engine, instances: list[InstanceRow], user_id: str) -> None:
    """Two runs on each instance, stepped until every one ended."""
    start, end = window()
    ids = set()
    for instance in instances:
        for _ in range(2):
            spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
            ids.add(await enqueue(engine.store, user_id, spec))
    while True:
        rows = [await engine.store.get_execution(i) for i in ids]
        if all(r is not None and r.state in TERMINAL_STATES for r in rows):
            assert {r.state.value for r in rows if r is not None} == {"succeeded"}
            return
        await engine.run_once()
        await asyncio.sleep(0.01)


async def test_concurrency_bounds_steps_in_flight(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    sandbox = {"duration": "0.2", "faults": {"latency_ms": 80}}
    async with opened(tmp_path, database_url, sandbox=sandbox) as (runtime, _, user_id):
        events: list[AuditEvent] = []
        runtime.audit.observer = lambda e: events.append(e) if e.kind == "api" else None
        instances = await runtime.store.list_instances(user_id)
        assert len(instances) >= 2
        engine = runtime.engine()

        engine.limit_steps(1)
        await drive(engine, instances[:2], user_id)
        bounded = most_at_once(events)

        events.clear()
        engine.limit_steps(None)  # the control: without a bound the same work overlaps
        await drive(engine, instances[:2], user_id)
        unbounded = most_at_once(events)
    assert bounded == 1
    assert unbounded >= 2
