"""Collections in-process (service, engine and the worker's collections loop) against the
embedded sandbox, on SQLite and PostgreSQL: create, drive, settle, retry, pause, cancel,
results, access and the webhook."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from amc_manager.client import ExecutionFailed
from amc_manager.config import DEFAULT_USER
from amc_manager.engine.collections import CollectionLoop
from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow
from amc_manager.errors import WindowError
from amc_manager.service import collections as col
from amc_manager.service.access import grant, revoke
from amc_manager.service.checks import WindowInput
from amc_manager.service.errors import Conflict, NotFound, NotPermitted
from amc_manager.service.executions import list_executions
from amc_manager.service.runtime import Runtime
from amc_manager.store import ExecutionState
from tests.engine.conftest import opened
from tests.windows import whole_weeks

pytestmark = pytest.mark.usefixtures("clean_env")
DAILY = (
    "SELECT impression_date_utc AS day, SUM(impressions) AS impressions "
    "FROM dsp_impressions GROUP BY 1"
)
MARKED = DAILY + " -- fail-once"


async def drive(runtime: Runtime, collection_id: str, timeout: float = 60) -> col.CollectionView:
    """The engine and the collections loop, in this process, until the collection ends."""
    loop = CollectionLoop(runtime.store, _no_key, interval=0)

    async def settle() -> col.CollectionView:
        while True:
            await runtime.engine().run_once()
            await loop.step()
            view = await col.show(runtime, DEFAULT_USER, collection_id)
            if view.state.final and view.row.ended_state is not None:
                return view
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(settle(), timeout)


async def _no_key() -> str:
    return "test-key"


def request(sql: str | None, instances: list[str], **extra: Any) -> col.CollectionRequest:
    start, end = whole_weeks(extra.pop("weeks", 3))
    return col.CollectionRequest(
        instances=instances,
        window=WindowInput(start=start, end=end),
        every=extra.pop("every", "week"),
        sql=sql,
        source="daily.sql",
        **extra,
    )


async def test_backfill_and_batch_complete_with_one_dataset(
    tmp_path: Path, database_url: str
) -> None:
    async with opened(tmp_path, database_url) as (runtime, instance, _user):
        instances = [i.instance_id for i in await runtime.store.list_instances(None)]
        created = await col.create(runtime, DEFAULT_USER, request(DAILY, instances))
        view = await col.show(runtime, DEFAULT_USER, created.collection_id[:8])
        assert view.state == "running" and view.totals["queued"] == 6
        assert view.windows == 3 and view.instances == sorted(instances)
        executions = await runtime.store.list_executions(collection_id=view.id)
        assert {e.workflow_id for e in executions} == {view.row.workflow_id}
        assert not any(e.adhoc for e in executions)  # saved runs: no ad-hoc quota

        done = await drive(runtime, view.id)
        assert done.state == "complete" and done.totals["succeeded"] == 6
        item = done.to_json()
        assert item["coverage"]["windows_complete"] == 3 and item["coverage"]["missing"] == []
        assert item["row_count"] == 42  # one row per day: 3 weeks on 2 instances

        out = tmp_path / "rows.parquet"
        assert await col.results(runtime, DEFAULT_USER, view.id, fmt="parquet", output=out) == 42
        table = pq.read_table(out)
        assert table.column_names[:3] == ["window_start", "window_end", "instance_id"]
        assert table.num_rows == sum(c.row.row_count or 0 for c in done.cells or ())
        assert set(table.column("instance_id").to_pylist()) == set(instances)
        folder = tmp_path / "dataset"
        assert (
            await col.results(
                runtime, DEFAULT_USER, view.id, fmt="parquet", output=folder, folder=True
            )
            == 42
        )
        parts = ds.dataset(folder, partitioning="hive").to_table()
        assert parts.num_rows == 42
        assert len({str(v) for v in parts.column("window_start").to_pylist()}) == 3
        csv = tmp_path / "rows.csv"
        await col.results(runtime, DEFAULT_USER, view.id, fmt="csv", output=csv)
        lines = csv.read_text().splitlines()
        assert lines[0].startswith("window_start,window_end,instance_id,") and len(lines) == 43

        listed = await list_executions(runtime, DEFAULT_USER, collection=view.id)
        assert sorted(v.id for v in listed) == sorted(c.row.execution_id for c in done.cells or ())


async def test_failed_cell_retried_alone_then_complete_and_notified(
    tmp_path: Path, database_url: str
) -> None:
    sandbox = {"faults": {"fail_markers": [{"marker": "fail-once", "times": 1}]}}
    sent: list[tuple[str, str, dict[str, Any]]] = []

    async def post(url: str, kind: str, payload: dict[str, Any], key: str) -> bool:
        sent.append((url, kind, json.loads(json.dumps(payload))))
        return True

    async with opened(tmp_path, database_url, sandbox=sandbox) as (runtime, instance, _user):
        created = await col.create(
            runtime,
            DEFAULT_USER,
            request(MARKED, [instance.instance_id], notify_url="http://127.0.0.1:9/hook"),
        )
        loop = CollectionLoop(runtime.store, _no_key, interval=0, post=post)
        first = await drive_with(runtime, created.collection_id, loop)
        assert first.state == "failed" and first.totals == {
            **first.totals,
            "succeeded": 2,
            "failed": 1,
        }
        await loop.step()  # a second pass (or a restarted worker) sends nothing more
        assert [k for _, k, _ in sent] == ["collection.failed"]
        assert sent[0][2]["unsucceeded"][0]["state"] == "failed"
        failed = [c for c in first.cells or () if c.row.state == ExecutionState.FAILED]
        succeeded = {c.row.execution_id for c in first.cells or () if c.row.state == "succeeded"}

        again = await col.retry(runtime, DEFAULT_USER, created.collection_id)
        assert again.state == "running" and again.totals["queued"] == 1
        retried = [c for c in again.cells or () if c.row.state == ExecutionState.QUEUED]
        assert [(c.row.window_start, c.row.attempts) for c in retried] == [
            (failed[0].row.window_start, 2)
        ]
        assert succeeded <= {c.row.execution_id for c in again.cells or ()}
        with pytest.raises(Conflict):  # nothing failed any more once it ran
            await col.retry(runtime, DEFAULT_USER, created.collection_id)

        final = await drive_with(runtime, created.collection_id, loop)
        assert final.state == "complete"
        await loop.step()
        assert [k for _, k, _ in sent] == ["collection.failed", "collection.complete"]
        assert sent[1][2]["row_count"] == 21 and sent[1][2]["unsucceeded"] == []
        history = await runtime.store.list_executions(collection_id=created.collection_id)
        assert len(history) == 4  # three cells, one of them run twice


async def drive_with(
    runtime: Runtime, collection_id: str, loop: CollectionLoop
) -> col.CollectionView:
    async def until_settled() -> col.CollectionView:
        while True:
            await runtime.engine().run_once()
            await loop.settle(await runtime.store.unsettled_collections())
            view = await col.show(runtime, DEFAULT_USER, collection_id)
            if view.state.final:
                for row in await runtime.store.due_notifications():
                    await loop.notify(row)
                return view
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(until_settled(), 60)


async def test_pause_holds_cells_resume_and_cancel(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url) as (runtime, instance, user_id):
        created = await col.create(runtime, DEFAULT_USER, request(DAILY, [instance.instance_id]))
        first = (await runtime.store.collection_cells(created.collection_id))[0]
        cells_window = (first.window_start, first.window_end)
        paused = await col.pause(runtime, DEFAULT_USER, created.collection_id)
        assert paused.state == "paused"
        for _ in range(3):
            assert await runtime.engine().run_once() == 0  # held: nothing is even claimed
        # Another run on the instance ends (which wakes its queued runs): the cells stay held.
        other = RunSpec(instance=instance, sql=DAILY, start=cells_window[0], end=cells_window[1])
        execution_id = await enqueue(runtime.store, user_id, other)
        done = await asyncio.wait_for(follow(runtime.engine(), execution_id, until=finished), 60)
        assert done.state == "succeeded"
        assert await runtime.engine().run_once() == 0
        assert (await col.show(runtime, DEFAULT_USER, created.collection_id)).totals["queued"] == 3
        resumed = await col.resume(runtime, DEFAULT_USER, created.collection_id)
        assert resumed.state == "running" and resumed.row.reason is None
        await runtime.engine().run_once()
        cancelled = await col.cancel(runtime, DEFAULT_USER, created.collection_id)
        assert cancelled.state == "cancelled"
        assert cancelled.totals["queued"] == cancelled.totals["running"] == 0
        assert cancelled.totals["cancelled"] + cancelled.totals["succeeded"] == 3
        with pytest.raises(ExecutionFailed):  # exit 1, REST 409: it has ended
            await col.pause(runtime, DEFAULT_USER, created.collection_id)


async def test_access_and_lost_access(tmp_path: Path, database_url: str) -> None:
    async with opened(tmp_path, database_url) as (runtime, instance, _user):
        created = await col.create(runtime, DEFAULT_USER, request(DAILY, [instance.instance_id]))
        stranger = "stranger@example.com"
        with pytest.raises(NotFound):
            await col.show(runtime, stranger, created.collection_id)
        assert await col.list_collections(runtime, stranger) == []
        await grant(runtime, instance.instance_id, stranger)
        seen = await col.show(runtime, stranger, created.collection_id)
        assert seen.id == created.collection_id
        with pytest.raises(NotPermitted):
            await col.pause(runtime, stranger, created.collection_id)

        # The granted user's own collection: their grant is revoked, so it pauses.
        await col.pause(runtime, DEFAULT_USER, created.collection_id)
        theirs = await col.create(
            runtime, stranger, request(DAILY, [instance.instance_id], every="day", weeks=1)
        )
        await revoke(runtime, instance.instance_id, stranger)
        await runtime.engine().run_once()
        row = await runtime.store.get_collection(theirs.collection_id)
        assert row is not None and row.state == "paused"
        assert row.reason == f"{stranger} lost access to instance {instance.instance_id}"
        cells = await runtime.store.collection_cells(theirs.collection_id)
        assert {c.state for c in cells} == {ExecutionState.QUEUED}  # none failed


async def test_webhook_signed_with_the_secret_key(tmp_path: Path, database_url: str) -> None:
    import httpx

    from amc_manager.engine.notify import post_event, verify

    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async def post(url: str, kind: str, payload: dict[str, Any], key: str) -> bool:
        return await post_event(url, kind, payload, key, transport=httpx.MockTransport(receive))

    async with opened(tmp_path, database_url) as (runtime, instance, _user):
        made = await col.create(
            runtime,
            DEFAULT_USER,
            request(DAILY, [instance.instance_id], every=None, weeks=1, notify_url="http://h/x"),
        )
        loop = col.collection_loop(runtime, post=post)  # the worker's loop, its key
        await drive_with(runtime, made.collection_id, loop)
        await loop.step()
        await loop.step()
    key = (tmp_path / "home" / "secret.key").read_text().strip()  # sandbox mode's own
    assert len(seen) == 1
    body = seen[0].content
    assert verify(body, seen[0].headers["X-AMC-Signature"], key)
    event = json.loads(body)
    assert event["event"] == "collection.complete" and event["collection_id"] == made.collection_id
    shown = await _shown(tmp_path, database_url, made.collection_id)
    assert shown["notified_at"] is not None


async def _shown(tmp_path: Path, database_url: str, collection_id: str) -> dict[str, Any]:
    async with opened(tmp_path, database_url) as (runtime, _instance, _user):
        return (await col.show(runtime, DEFAULT_USER, collection_id)).to_json()


async def test_saved_workflow_batch_over_a_frozen_relative_window(
    tmp_path: Path, database_url: str
) -> None:
    from amc_manager.service.workflows import push

    async with opened(tmp_path, database_url) as (runtime, _instance, _user):
        instances = [i.instance_id for i in await runtime.store.list_instances(None)]
        for target in instances:
            await push(
                runtime, DEFAULT_USER, instance=target, workflow_id="wf-daily", sql=DAILY,
                source="daily.sql",
            )  # fmt: skip
        made = await col.create(
            runtime,
            DEFAULT_USER,
            col.CollectionRequest(
                instances=instances,
                window=WindowInput(window="MOST_RECENT_WEEK"),
                workflow_id="wf-daily",
            ),
        )
        view = await col.show(runtime, DEFAULT_USER, made.collection_id)
        assert view.windows == 1 and view.totals["queued"] == len(instances)
        start, end = view.row.window_start, view.row.window_end
        assert start.endswith("T00:00:00") and end.endswith("T00:00:00")  # frozen, explicit
        rows = await runtime.store.list_executions(collection_id=made.collection_id)
        assert {(r.time_window_type, r.time_window_start, r.time_window_end) for r in rows} == {
            ("EXPLICIT", start, end)
        }
        assert {r.workflow_id for r in rows} == {"wf-daily"} and view.row.source is None
        done = await drive(runtime, made.collection_id)
        assert done.state == "complete" and done.to_json()["row_count"] == 7 * len(instances)
        both = WindowInput(start=start[:10], window="MOST_RECENT_WEEK")  # refused as `amc run`
        with pytest.raises(WindowError, match="both --window and --start/--end"):
            await col.create(
                runtime,
                DEFAULT_USER,
                col.CollectionRequest(instances=instances, window=both, workflow_id="wf-daily"),
            )
        listed = await col.list_collections(runtime, DEFAULT_USER)
        assert [c.id for c in listed] == [made.collection_id]  # nothing stored
