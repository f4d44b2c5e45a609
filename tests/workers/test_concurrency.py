"""`--concurrency N`: at most N steps in flight, seen in the AMC calls' own timings (every call
to the embedded sandbox is slowed by 80 ms, so calls of concurrent steps overlap)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from amc_manager.client import AuditEvent
from amc_manager.engine.engine import Engine
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.engine.worker import Worker
from amc_manager.store import OPEN_STATES, TERMINAL_STATES, InstanceRow
from amc_manager.store import ExecutionState as S
from tests.engine.conftest import SQL, opened
from tests.windows import amc_window


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
    start, end = amc_window()
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


async def test_bounded_workers_lease_no_more_downloads_than_they_can_step(tmp_path: Path) -> None:
    """Two workers of `--concurrency 1` share six downloads on two instances (AMC answers
    after 150 ms): each leases a download only when its one slot is free, so neither holds
    runs the other could step (before, the first to look leased all six and stepped them one
    by one)."""
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(tmp_path, database_url, sandbox={"duration": "0.2"}) as (
        runtime,
        _,
        user_id,
    ):
        instances = (await runtime.store.list_instances(user_id))[:2]
        for instance in instances:
            for days in (1, 2, 3):  # different runs (the same one twice would be one)
                start, end = amc_window(days)
                spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
                await enqueue(runtime.store, user_id, spec)
        feeder = runtime.engine()  # up to the downloads, which the workers share
        while {r.state for r in await runtime.store.list_executions()} != {S.DOWNLOADING}:
            await feeder.run_once(states=[s for s in OPEN_STATES if s != S.DOWNLOADING])
            await asyncio.sleep(0.02)
        assert runtime.embedded is not None
        runtime.embedded.sandbox.config.faults.latency_ms = 150

        workers = []
        for _ in range(2):
            engine = runtime.engine()
            engine.keep_leases = True  # as `amc worker` runs it
            engine.limit_steps(1)
            workers.append(Worker(engine, flush=runtime.audit.flush, idle=0.05))
        tasks = [asyncio.create_task(w.run()) for w in workers]
        most: dict[str, int] = {}
        try:
            while True:
                rows = await runtime.store.list_executions()
                held = Counter(r.lease_owner for r in rows if r.state == S.DOWNLOADING)
                for owner, count in held.items():
                    if owner is not None:
                        most[owner] = max(most.get(owner, 0), count)
                if all(r.state in TERMINAL_STATES for r in rows):
                    break
                await asyncio.sleep(0.01)
        finally:
            for worker in workers:
                worker.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
    assert len(rows) == 6 and {r.state for r in rows} == {S.SUCCEEDED}
    assert most and max(most.values()) == 1, most
    assert set(most) == {w.engine.owner for w in workers}, "one worker did all the downloads"
