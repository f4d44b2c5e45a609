"""The worker in-process: a loop that keeps failing stops it; a stop hands the runs over."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from amc_manager.engine.engine import Engine
from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow
from amc_manager.engine.worker import Worker, WorkerFailed
from amc_manager.errors import AmcManagerError
from amc_manager.service.runtime import Runtime
from amc_manager.store import ExecutionRow, ExecutionState
from tests.engine.conftest import SQL, opened
from tests.engine.live import TRACKING_FAULT
from tests.windows import amc_window

pytestmark = pytest.mark.usefixtures("clean_env")


async def _until(runtime: Runtime, states: set[ExecutionState]) -> None:
    """Until some execution is in one of `states` (the worker got that far)."""
    while not any(r.state in states for r in await runtime.store.list_executions()):
        await asyncio.sleep(0.02)


async def test_a_loop_failing_five_times_in_a_row_stops_the_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(tmp_path, url, sandbox={"duration": "60"}) as (runtime, instance, user_id):
        start, end = amc_window()
        await enqueue(
            runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        async with runtime.store.begin() as conn:
            await conn.execute(sa.text(TRACKING_FAULT))
        engine = runtime.engine()
        worker = Worker(engine, flush=runtime.audit.flush, idle=0.05, backoff=0.01)
        with caplog.at_level(logging.ERROR, logger="amc_manager.worker"):
            with pytest.raises(
                WorkerFailed, match="tracking loop failed 5 times in a row"
            ) as raised:
                await asyncio.wait_for(worker.run(), 60)
        assert isinstance(raised.value, AmcManagerError) and raised.value.exit_code == 1
        restarts = [r for r in caplog.records if "restarting" in r.getMessage()]
        assert len(restarts) == 4 and all(r.exc_info for r in restarts)
        assert "injected fault" in str(restarts[0].exc_info[1])  # type: ignore[index]
        rows = await runtime.store.list_executions()
        assert [r.state for r in rows] == [ExecutionState.RUNNING]
        assert rows[0].lease_owner is None, "a stopped worker keeps no lease"


async def test_stop_cuts_in_flight_steps_short_and_hands_the_runs_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every AMC call takes 1 s, the stop allows 0.05 s: the steps are cut mid-call, their
    leases released, and another engine finishes every run, each created once at AMC."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    sandbox = {"duration": "0.5", "faults": {"latency_ms": 1000}}
    async with opened(tmp_path, url, sandbox=sandbox) as (runtime, instance, user_id):
        start, end = amc_window()
        spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
        ids = [await enqueue(runtime.store, user_id, spec) for _ in range(3)]
        first = runtime.engine()
        worker = Worker(first, flush=runtime.audit.flush, idle=0.05, shutdown_timeout=0.05)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(_until(runtime, {ExecutionState.SUBMITTING}), 30)
        with caplog.at_level(logging.WARNING, logger="amc_manager.worker"):
            worker.stop()
            await asyncio.wait_for(task, 30)
        assert any("cutting them short" in r.getMessage() for r in caplog.records)
        rows = await runtime.store.list_executions()
        assert not any(r.lease_owner == first.owner for r in rows)
        assert not all(r.terminal for r in rows)

        second = Engine(runtime.store, runtime.client, runtime.settings.results_dir, first.config)
        done = await asyncio.wait_for(
            asyncio.gather(*(follow(second, i, until=finished) for i in ids)), 120
        )
        assert [r.state for r in done] == [ExecutionState.SUCCEEDED] * 3
        assert len({r.amc_execution_id for r in done}) == 3
        assert runtime.embedded is not None
        assert runtime.embedded.sandbox.stats.executions_created == 3


async def test_a_peer_claims_nothing_another_worker_tracks_until_its_leases_lapse(
    tmp_path: Path,
) -> None:
    """Two workers' engines on one store: once the first has looked at the instance, it
    keeps the instance's tracked runs leased between looks, so the second neither claims
    them nor wakes for them; when the first stops looking (it died), the second carries the
    runs on once the kept leases lapse (the lease plus the look the first had planned)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(tmp_path, url, sandbox={"duration": "3"}) as (runtime, instance, user_id):
        start, end = amc_window()
        spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
        ids = [await enqueue(runtime.store, user_id, spec) for _ in range(3)]
        config = replace(runtime.engine().config, lease_seconds=1.0)
        first, second = (
            Engine(runtime.store, runtime.client, runtime.settings.results_dir, config)
            for _ in range(2)
        )
        first.keep_leases = second.keep_leases = True
        tracked = [ExecutionState.PENDING, ExecutionState.RUNNING]

        async def rows() -> list[ExecutionRow]:
            return [r for r in await runtime.store.list_executions() if r.id in ids]

        async def looked() -> None:
            while not any(r.lease_owner == first.owner for r in await rows()):
                await first.run_once()  # submits the three, then looks at them
                await asyncio.sleep(0.05)

        await asyncio.wait_for(looked(), 30)
        kept = [r for r in await rows() if r.state in tracked]
        assert kept and all(r.lease_owner == first.owner for r in kept)
        assert await second.next_due(tracked) is None
        assert await second.run_once(states=tracked) == 0

        await asyncio.sleep(max(r.lease_expires_at or 0.0 for r in kept) - time.time() + 0.1)
        done = await asyncio.wait_for(
            asyncio.gather(*(follow(second, i, until=finished) for i in ids)), 60
        )
        assert [r.state for r in done] == [ExecutionState.SUCCEEDED] * 3
        assert runtime.embedded is not None
        assert runtime.embedded.sandbox.stats.executions_created == 3


async def _until_state(runtime: Runtime, execution_id: str, states: set[ExecutionState]) -> None:
    while True:
        row = await runtime.store.get_execution(execution_id)
        if row is not None and row.state in states:
            return
        await asyncio.sleep(0.02)


async def test_a_slow_answer_from_one_instance_never_holds_back_another(tmp_path: Path) -> None:
    """AMC answers instance A's calls after 4 s. While a look at A's run waits for its answer,
    a run on instance B is submitted, found ended, downloaded and succeeds: passes do not wait
    for one another (before, B's look waited for the pass that held A's)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(tmp_path, url) as (runtime, a, user_id):
        b = next(i for i in await runtime.store.list_instances(user_id) if i.id != a.id)
        assert runtime.embedded is not None
        sandbox = runtime.embedded.sandbox
        start, end = amc_window()
        slow = await enqueue(
            runtime.store, user_id, RunSpec(instance=a, sql=SQL, start=start, end=end)
        )
        engine = runtime.engine()
        engine.keep_leases = True  # as `amc worker` runs it
        worker = Worker(engine, flush=runtime.audit.flush, idle=0.05)
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.wait_for(
                _until_state(runtime, slow, {ExecutionState.PENDING, ExecutionState.RUNNING}), 30
            )
            sandbox.config.faults.slow_instances = [a.instance_id]
            sandbox.config.faults.latency_ms = 4000
            asked = sandbox.stats.requests_by_instance[a.instance_id]
            while sandbox.stats.requests_by_instance[a.instance_id] == asked:
                await asyncio.sleep(0.01)  # until a look at A is in flight
            before = await runtime.store.get_execution(slow)
            quick = await enqueue(
                runtime.store, user_id, RunSpec(instance=b, sql=SQL, start=start, end=end)
            )
            await asyncio.wait_for(_until_state(runtime, quick, {ExecutionState.SUCCEEDED}), 30)
            after = await runtime.store.get_execution(slow)
            assert before is not None and after is not None
            assert after.updated_at == before.updated_at, "B waited for A's answer"
            await asyncio.wait_for(_until_state(runtime, slow, {ExecutionState.SUCCEEDED}), 60)
        finally:
            worker.stop()
            await asyncio.wait_for(task, 60)


async def test_an_instance_is_due_again_once_its_look_ends_though_another_still_waits(
    tmp_path: Path,
) -> None:
    """One pass looks at instance A (AMC answers it after 4 s) and at instance B: B's run
    leaves the pass as soon as B's look ends, so its next look is due while A's still waits
    (before, a pass's runs stayed in flight until its slowest instance answered)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(tmp_path, url, sandbox={"duration": "60"}) as (runtime, a, user_id):
        b = next(i for i in await runtime.store.list_instances(user_id) if i.id != a.id)
        start, end = amc_window()
        ids = {
            instance.id: await enqueue(
                runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
            )
            for instance in (a, b)
        }
        engine = runtime.engine()
        engine.keep_leases = True  # as `amc worker` runs it
        tracked = [ExecutionState.PENDING, ExecutionState.RUNNING]
        while {r.state for r in await runtime.store.list_executions()} - set(tracked):
            await engine.run_once(states=[ExecutionState.QUEUED, ExecutionState.SUBMITTING])
        async with runtime.store.begin() as conn:  # both due now, so one pass looks at both
            await conn.execute(sa.text("UPDATE workflow_executions SET next_check_at = 0"))
        assert runtime.embedded is not None
        faults = runtime.embedded.sandbox.config.faults
        faults.slow_instances, faults.latency_ms = [a.instance_id], 4000

        engine.looked.clear()
        claimed, steps = await engine.claim_pass(tracked)
        assert claimed == 2
        looking = asyncio.create_task(steps)
        await asyncio.wait_for(engine.looked.wait(), 3)  # B's look, not A's
        row_b = await runtime.store.get_execution(ids[b.id])
        assert row_b is not None and row_b.next_check_at > 0
        assert await engine.next_due(tracked) == row_b.next_check_at
        assert not looking.done(), "A's look answered first"
        await asyncio.wait_for(looking, 30)
        assert await engine.next_due(tracked) is not None


async def test_a_run_is_looked_at_when_due_though_other_looks_keep_ending(
    tmp_path: Path,
) -> None:
    """While the tracking loop waits for its next due run, other instances' looks keep ending
    (each one makes the loop ask the store again): the run is still looked at once it falls
    due. Before, a look that ended during the loop's last short pause sent it back to the
    store instead of to its claim, so under a steady stream of looks the due run waited."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(tmp_path, url, sandbox={"duration": "600"}) as (runtime, a, user_id):
        start, end = amc_window()
        await enqueue(runtime.store, user_id, RunSpec(instance=a, sql=SQL, start=start, end=end))
        engine = runtime.engine()
        engine.keep_leases = True  # as `amc worker` runs it
        tracked = {ExecutionState.PENDING, ExecutionState.RUNNING}
        while {r.state for r in await runtime.store.list_executions()} - tracked:
            await engine.run_once(states=[ExecutionState.QUEUED, ExecutionState.SUBMITTING])
        async with runtime.store.begin() as conn:  # due in a moment, held by nobody
            await conn.execute(
                sa.text(
                    "UPDATE workflow_executions SET next_check_at = :at, lease_owner = NULL, "
                    "lease_expires_at = NULL"
                ),
                {"at": engine.clock() + 0.5},
            )
        assert runtime.embedded is not None
        requests = runtime.embedded.sandbox.stats.requests_by_instance
        asked = requests[a.instance_id]

        async def looks_ending() -> None:
            while True:
                engine.looked.set()
                await asyncio.sleep(0.01)

        ending = asyncio.create_task(looks_ending())
        worker = Worker(engine, flush=runtime.audit.flush, idle=0.2)
        task = asyncio.create_task(worker.run())
        deadline = time.monotonic() + 10
        try:
            while requests[a.instance_id] == asked:
                assert time.monotonic() < deadline, "the due run was never looked at"
                assert not task.done()
                await asyncio.sleep(0.02)
        finally:
            ending.cancel()
            worker.stop()
            await asyncio.wait_for(task, 60)
