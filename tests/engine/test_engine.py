"""The engine in-process against the embedded sandbox: outcomes, limits, quotas, audit, tokens."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from amc_manager.engine.engine import Engine
from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow
from amc_manager.engine.worker import Worker
from amc_manager.service.runtime import Runtime
from amc_manager.store import ExecutionState, FailureKind
from amc_manager.store import schema as t
from amc_manager.store.rows import ExecutionRow
from tests.engine.conftest import SQL, opened
from tests.windows import amc_window

pytestmark = pytest.mark.usefixtures("clean_env")
# AMC's compile message, whatever the (transient) workflow id: the same text both ways.
COMPILE_TEXT = re.compile(
    r"Was unable to compile workflow transient_[0-9a-f-]+ because it was found to be invalid: "
    r"From line 1, column \d+ to line 1, column \d+: LIMIT is not supported"
)


async def _run(runtime: Runtime, user_id: str, spec: RunSpec) -> ExecutionRow:
    execution_id = await enqueue(runtime.store, user_id, spec)
    return await asyncio.wait_for(follow(runtime.engine(), execution_id, until=finished), 120)


async def test_adhoc_run_stores_parquet_with_lineage(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url) as (runtime, instance, user_id):
        start, end = amc_window()
        row = await _run(
            runtime, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        assert row.state == "succeeded" and row.amc_status == "SUCCEEDED"
        assert row.result_path is not None and row.failure_kind is None
        table = pq.read_table(row.result_path)
        assert table.num_rows == row.row_count == 8
        assert table.schema.field("impressions").type == "int64"
        assert row.sql_hash and row.result_checksum and row.time_window_start == start
        assert Path(row.result_path).parent == runtime.settings.results_dir
        events = await runtime.store.execution_events(row.id)
        states = [e.state for e in events]
        assert states[:2] == [ExecutionState.QUEUED, ExecutionState.SUBMITTING]
        assert states[-2:] == [ExecutionState.DOWNLOADING, ExecutionState.SUCCEEDED]
        assert states[2:-2] and set(states[2:-2]) <= {"pending", "running"}
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert (events[0].at, events[-1].at) == (row.created_at, row.finished_at)
        await runtime.audit.flush()
        counts = await runtime.store.audit_counts()
        stats = runtime.embedded.sandbox.stats if runtime.embedded else None
        assert stats is not None
        assert counts.get("api") == stats.requests_total
        assert counts.get("token") == stats.token_grants
        assert counts.get("download") == stats.downloads


async def test_saved_workflow_with_parameters(tmp_path: Path, database_url: str) -> None:
    sql = (
        "SELECT device_type, SUM(impressions) AS impressions FROM dsp_impressions "
        "WHERE device_type = CUSTOM_PARAMETER('device') GROUP BY device_type"
    )
    async with opened(tmp_path, database_url) as (runtime, instance, user_id):
        client = await runtime.client(runtime.settings.user)
        await client.create_workflow(
            instance.ref(),
            {
                "workflowId": "by-device",
                "sqlQuery": sql,
                "inputParameters": [{"name": "device", "dataType": "STRING"}],
            },
        )
        start, end = amc_window()
        row = await _run(
            runtime,
            user_id,
            RunSpec(
                instance=instance,
                workflow_id="by-device",
                start=start,
                end=end,
                parameter_values={"device": "Tablet"},
            ),
        )
        assert row.state == "succeeded" and row.result_path is not None
        assert pq.read_table(row.result_path).column("device_type").to_pylist() == ["Tablet"]


@pytest.mark.parametrize("late", [False, True], ids=["refused-at-create", "failed-later"])
async def test_compile_error_fails_with_amc_message(
    tmp_path: Path, database_url: str, late: bool
) -> None:
    """AMC may refuse bad SQL at create (400) or accept it and FAIL it later: either way the
    run ends failed with AMC's text and no advice; only the failure kind tells them apart."""
    async with opened(tmp_path, database_url, sandbox={"late_compile_errors": late}) as (
        runtime,
        instance,
        user_id,
    ):
        start, end = amc_window()
        row = await _run(
            runtime,
            user_id,
            RunSpec(
                instance=instance,
                sql="SELECT campaign FROM dsp_impressions LIMIT 3",
                start=start,
                end=end,
            ),
        )
        assert row.state == "failed" and row.error is not None and row.advice is None
        assert COMPILE_TEXT.search(row.error), row.error
        events = await runtime.store.execution_events(row.id)
        assert events[-1].state == "failed" and events[-1].note == row.error
        if late:
            assert row.error.startswith(f"execution {row.amc_execution_id} failed: ")
            assert row.failure_kind == FailureKind.FAILED and row.amc_status == "FAILED"
        else:
            assert row.error.startswith("AMC refused the request: ")
            assert row.failure_kind == FailureKind.REFUSED and row.amc_execution_id is None
            assert [e.state for e in events] == ["queued", "submitting", "failed"]


@pytest.mark.parametrize("downloader", ["same", "other"])
async def test_result_columns_typed_from_output_columns(
    tmp_path: Path, database_url: str, downloader: str
) -> None:
    """The sandbox declares outputColumns as AMC does: a STRING column of digits stays text
    (inference alone would make it a number). The process that saw the run succeed types the
    result from that status, without asking AMC again; another process (its predecessor
    died after the status look) asks AMC for the execution."""
    sql = (
        "SELECT CAST(advertiser_id AS STRING) AS advertiser_code, SUM(impressions) AS n "
        "FROM dsp_impressions GROUP BY 1"
    )
    async with opened(tmp_path, database_url) as (runtime, instance, user_id):
        operations: list[str] = []
        runtime.audit.observer = lambda event: operations.append(event.operation)
        start, end = amc_window()
        spec = RunSpec(instance=instance, sql=sql, start=start, end=end)
        execution_id = await enqueue(runtime.store, user_id, spec)
        first = runtime.engine()
        while (row := await runtime.store.get_execution(execution_id)) is not None and (
            row.state not in ("downloading", "succeeded")
        ):
            await first.run_once()
            await asyncio.sleep(0.02)
        finisher = first
        if downloader == "other":
            finisher = Engine(
                runtime.store, runtime.client, runtime.settings.results_dir, first.config
            )
        row = await asyncio.wait_for(follow(finisher, execution_id, until=finished), 60)
        assert row.state == "succeeded" and row.result_path is not None
        table = pq.read_table(row.result_path)
        assert table.schema.types == [pa.string(), pa.int64()]
        codes = table.column("advertiser_code").to_pylist()
        assert codes and all(str(code).isdigit() for code in codes)
        after = operations[operations.index("executions.downloadUrls") :]
        assert ("executions.get" in after) == (downloader == "other"), operations


async def test_failure_at_amc_is_typed_failed(tmp_path: Path, database_url: str) -> None:
    async with opened(
        tmp_path, database_url, sandbox={"faults": {"execution_failure_rate": 1.0}}
    ) as (runtime, instance, user_id):
        start, end = amc_window()
        row = await _run(
            runtime, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        assert row.state == "failed" and row.amc_status == "FAILED"
        assert row.failure_kind == FailureKind.FAILED and row.amc_execution_id is not None
        assert row.error and "Internal error while running the workflow" in row.error
        events = await runtime.store.execution_events(row.id)
        assert events[-1].state == "failed" and events[-1].note == row.error


async def test_rejection_ends_rejected_with_advice(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url, sandbox={"privacy_overlap_limit": 1}) as (
        runtime,
        instance,
        user_id,
    ):
        start, end = amc_window()
        spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
        assert (await _run(runtime, user_id, spec)).state == "succeeded"
        second = await _run(runtime, user_id, spec)
        assert second.state == "rejected" and second.amc_status == "REJECTED"
        assert second.advice and "change the query or the time window" in second.advice


async def test_cancel_queued_and_running(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url, sandbox={"duration": "30"}) as (
        runtime,
        instance,
        user_id,
    ):
        start, end = amc_window()
        engine = runtime.engine()
        queued = await enqueue(
            runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        assert (await engine.cancel(queued)).state == "cancelled"
        running = await enqueue(
            runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        await follow(engine, running, until=lambda r: r.amc_execution_id is not None)
        row = await engine.cancel(running)
        assert row.state == "cancelled" and row.amc_status == "CANCELLED"
        assert row.amc_execution_id is not None
        client = await runtime.client(runtime.settings.user)
        remote = await client.get_execution(instance.ref(), row.amc_execution_id)
        assert remote.status == "CANCELLED"


async def test_active_limit_holds_and_queue_drains(tmp_path: Path, database_url: str) -> None:
    async with opened(
        tmp_path, database_url, AMC_MAX_ACTIVE_PER_INSTANCE=2, sandbox={"duration": "0.5"}
    ) as (runtime, instance, user_id):
        start, end = amc_window()
        ids = [
            await enqueue(
                runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
            )
            for _ in range(5)
        ]
        engine = runtime.engine()
        rows = await asyncio.wait_for(
            asyncio.gather(*(follow(engine, i, until=finished) for i in ids)), 120
        )
        assert all(r.state == "succeeded" for r in rows)
        assert runtime.embedded is not None
        sandbox = runtime.embedded.sandbox
        assert sandbox.stats.executions_created == 5
        assert sandbox.stats.max_open_by_instance[instance.instance_id] <= 2


async def test_daily_quota_waits_locally(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url, AMC_DAILY_ADHOC_QUOTA=1) as (
        runtime,
        instance,
        user_id,
    ):
        start, end = amc_window()
        first = await _run(
            runtime, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        assert first.state == "succeeded"
        second = await enqueue(
            runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        engine = runtime.engine()
        for _ in range(3):
            await engine.run_once(only={second})
        row = await runtime.store.get_execution(second)
        assert row is not None and row.state == "queued" and row.amc_execution_id is None
        # Refused, it waits for the next tick of the queue interval (a queue falls due at once)
        ticks = row.next_check_at / engine.config.scaled(engine.config.queue_interval)
        assert ticks == round(ticks) and row.next_check_at > time.time()
        assert runtime.embedded is not None
        assert runtime.embedded.sandbox.stats.executions_created == 1


async def test_amc_quota_answer_requeues(tmp_path: Path, database_url: str) -> None:
    async with opened(
        tmp_path, database_url, AMC_DAILY_ADHOC_QUOTA=0, sandbox={"daily_adhoc_quota": 1}
    ) as (runtime, instance, user_id):
        start, end = amc_window()
        await _run(runtime, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end))
        second = await enqueue(
            runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        await runtime.engine().run_once(only={second})
        row = await runtime.store.get_execution(second)
        assert row is not None and row.state == "queued"
        assert row.error and "re-queued" in row.error and row.next_check_at > time.time() + 1


async def test_lost_create_answers_never_duplicate(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url, sandbox={"faults": {"lost_create_rate": 1.0}}) as (
        runtime,
        instance,
        user_id,
    ):
        start, end = amc_window()
        row = await _run(
            runtime, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        assert row.state == "succeeded"
        assert runtime.embedded is not None
        assert runtime.embedded.sandbox.stats.executions_created == 1


async def test_background_refresh_keeps_tokens_fresh(tmp_path: Path, database_url: str) -> None:
    async with opened(
        tmp_path, database_url, sandbox={"duration": "6", "token_lifetime_seconds": 3}
    ) as (runtime, instance, user_id):
        start, end = amc_window()
        await enqueue(
            runtime.store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end)
        )
        engine = runtime.engine()
        worker = Worker(
            engine,
            flush=runtime.audit.flush,
            refresh_tokens=engine.refresh_tokens,
            idle=0.2,
            refresh_every=0.5,
        )
        task = asyncio.create_task(worker.run())
        # At least 8 s (tokens of 3 s refreshed several times); the run of 6 s ends by its
        # first look after its end, which the blind back-off may put at 12 s.
        began = time.monotonic()
        while time.monotonic() - began < 30:
            await asyncio.sleep(0.5)
            rows = await runtime.store.list_executions(user_id=user_id)
            if time.monotonic() - began >= 8 and rows[0].state == "succeeded":
                break
        worker.stop()
        await task
        await runtime.audit.flush()
        assert runtime.embedded is not None
        assert runtime.embedded.sandbox.stats.token_grants >= 3
        rows = await runtime.store.list_executions(user_id=user_id)
        assert rows[0].state == "succeeded"
        client = await runtime.client(runtime.settings.user)
        assert client.tokens.grants >= 3
        async with runtime.store.begin() as conn:
            refused = await conn.execute(
                sa.text("SELECT COUNT(*) FROM audit_log WHERE status IN (401, 403)")
            )
            assert refused.scalar_one() == 0, "a call met an expired token"


async def test_a_status_check_failing_again_backs_off(tmp_path: Path, database_url: str) -> None:
    """AMC answers 404 for a tracked run's status (here: its execution id altered in the
    store): each look puts it off, twice as long as the last time (poll interval 0.2 s), with
    the reason on the run. Once AMC knows the execution again, a look clears the note (whether
    the status moved or not), and the next failure starts again from 0.2 s."""
    async with opened(tmp_path, database_url, sandbox={"duration": "600"}) as (
        runtime,
        instance,
        user_id,
    ):
        start, end = amc_window()
        spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
        execution_id = await enqueue(runtime.store, user_id, spec)
        engine = runtime.engine()
        await engine.run_once(only={execution_id})
        submitted = await runtime.store.get_execution(execution_id)
        assert submitted is not None and submitted.amc_execution_id, submitted
        runs = t.workflow_executions

        async def set_amc_id(value: str) -> None:  # and due now
            async with runtime.store.begin() as conn:
                await conn.execute(
                    runs.update()
                    .where(runs.c.id == execution_id)
                    .values(amc_execution_id=value, next_check_at=time.time())
                )

        await set_amc_id("00000000-0000-0000-0000-000000000000")
        waits = []
        for _ in range(3):
            await engine.run_once(only={execution_id})
            row = await runtime.store.get_execution(execution_id)
            assert row is not None and row.state in ("pending", "running"), row
            assert row.error and row.error.startswith("status check failed, will retry"), row
            waits.append(round(row.last_wait, 2))
            await asyncio.sleep(max(0.0, row.next_check_at - time.time()) + 0.05)
        assert waits == [0.2, 0.4, 0.8]

        for _ in range(2):  # a new status recorded, then the same status seen again
            await set_amc_id(submitted.amc_execution_id)
            await engine.run_once(only={execution_id})
            row = await runtime.store.get_execution(execution_id)
            assert row is not None and row.state in ("pending", "running"), row
            assert row.error is None, "the note of the failed looks outlived a look that worked"
            await set_amc_id("00000000-0000-0000-0000-000000000000")
            await engine.run_once(only={execution_id})
            row = await runtime.store.get_execution(execution_id)
            assert row is not None and row.error, row
            assert round(row.last_wait, 2) == 0.2, "no fresh start"
