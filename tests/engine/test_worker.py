"""The worker in-process: a loop that keeps failing stops it; a stop hands the runs over."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from amc_manager.engine.engine import Engine
from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow
from amc_manager.engine.worker import Worker, WorkerFailed
from amc_manager.errors import AmcManagerError
from amc_manager.service.runtime import Runtime
from amc_manager.store import ExecutionState
from tests.engine.conftest import SQL, opened, window
from tests.engine.live import TRACKING_FAULT

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
        start, end = window()
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
        start, end = window()
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
