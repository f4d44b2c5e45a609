"""The missed-slot policy, pausing after N failed runs (with its signed notifications) and
pausing when the creator lost access, on real stores with an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from amc_manager.engine.notify import verify
from amc_manager.service.runtime import Runtime
from amc_manager.service.schedules import ScheduleRequest, create, scheduler_for, show
from amc_manager.store.rows import TERMINAL_STATES
from tests.schedules.conftest import (
    Clock,
    Receiver,
    first_instance,
    make_settings,
    runtime_on,
    utc,
)

FAILING_SQL = (
    "-- SCHEDULE_FAIL: the sandbox fails every run of this query\n"
    "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign\n"
)
FAILING = {"faults": {"fail_markers": [{"marker": "SCHEDULE_FAIL", "times": 100}]}}


async def daily(runtime: Runtime, sql: str | None = None, **extra: object) -> str:
    instance = await first_instance(runtime)
    request = ScheduleRequest(
        instance=instance.instance_id,
        window="last:7d:lag:4d",  # complete data at AMC: the sandbox does not wait for it
        sql=sql,
        source="failing.sql",
        workflow_id=None if sql else "daily-report",
        every="day",
        at="06:00",
        **extra,  # type: ignore[arg-type]
    )
    return (await create(runtime, runtime.settings.user, request)).id


async def history(runtime: Runtime, schedule_id: str) -> list[tuple[str, str]]:
    """(fire time UTC, state) of every run, oldest first."""
    view = await show(runtime, runtime.settings.user, schedule_id, history=1000)
    return sorted((r.to_json()["fire_time_utc"], r.row.status) for r in view.history or ())


async def test_missed_slots_run_once_when_less_than_a_day_late_else_skipped(
    tmp_path: Path, database_url: str, clean_env: None
) -> None:
    clock = Clock(utc(2027, 1, 1, 12))
    async with runtime_on(make_settings(tmp_path, database_url), clock, bootstrap=True) as rt:
        schedule_id = await daily(rt)
        # No worker ran from Jan 2 to Jan 6 07:00; each restart is a fresh scheduler.
        for moment in (
            utc(2027, 1, 6, 7),  # Jan 2-5 are more than a day late, Jan 6 an hour
            utc(2027, 1, 6, 8),  # nothing new
            utc(2027, 1, 8, 5, 59, 59),  # Jan 7: a second less than a day late
            utc(2027, 1, 9, 6),  # Jan 8: exactly a day late (not less); Jan 9 on time
        ):
            clock.set(moment)
            await scheduler_for(rt).step()
        assert await history(rt, schedule_id) == [
            ("2027-01-02T06:00:00Z", "skipped"),
            ("2027-01-03T06:00:00Z", "skipped"),
            ("2027-01-04T06:00:00Z", "skipped"),
            ("2027-01-05T06:00:00Z", "skipped"),
            ("2027-01-06T06:00:00Z", "fired"),
            ("2027-01-07T06:00:00Z", "fired"),
            ("2027-01-08T06:00:00Z", "skipped"),
            ("2027-01-09T06:00:00Z", "fired"),
        ]


async def drive_to_end(runtime: Runtime, clock: Clock, execution_id: str) -> str:
    """Let the engine run the execution against the embedded sandbox until it ends: the
    engine's clock jumps to each next check, as a waiting worker's would reach it."""
    for _ in range(100):
        await runtime.engine().run_once(only={execution_id})
        row = await runtime.store.get_execution(execution_id)
        assert row is not None
        if row.state in TERMINAL_STATES:
            return row.state.value
        clock.now = max(clock.now, row.next_check_at)
        await asyncio.sleep(0.05)  # the sandbox's executions take real time
    raise AssertionError(f"execution {execution_id} did not end: {row}")


async def test_pause_after_n_failed_runs_with_signed_notifications(
    tmp_path: Path, database_url: str, clean_env: None, receiver: Receiver
) -> None:
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    settings = make_settings(tmp_path, database_url, sandbox=FAILING)
    async with runtime_on(settings, clock, bootstrap=True) as rt:
        schedule_id = await daily(
            rt, FAILING_SQL, pause_after=2, notify_url=receiver.url, name="broken"
        )
        scheduler = scheduler_for(rt)
        for _ in range(2):
            row = await rt.store.get_schedule(schedule_id)
            assert row is not None and row.state == "active"
            clock.set(datetime.fromtimestamp(row.next_at + 60, UTC))
            await scheduler.step()
            (run,) = [r for r in await rt.store.runs_of(schedule_id) if r.status == "fired"]
            assert run.execution_id is not None
            assert await drive_to_end(rt, clock, run.execution_id) == "failed"
            await scheduler.step()  # the outcome is noticed
        row = await rt.store.get_schedule(schedule_id)
        assert row is not None and row.state == "paused"
        assert row.paused_reason is not None and "2 consecutive failed runs" in row.paused_reason
        clock.advance(3 * 86400)  # paused: later slots do not fire
        await scheduler.step()
        assert [r.status for r in await rt.store.runs_of(schedule_id)] == ["failed", "failed"]
        key = (await rt.secret_key()).reveal()
    assert all(verify(body, signature, key) for body, signature in receiver.received)
    assert not verify(receiver.received[0][0] + b" ", receiver.received[0][1], key)
    events = receiver.events()
    assert [e["event"] for e in events] == [
        "schedule.run_failed",
        "schedule.run_failed",
        "schedule.paused",
    ]
    assert {e["schedule_id"] for e in events} == {schedule_id}
    assert events[0]["schedule_name"] == "broken" and events[0]["execution_id"]
    assert "Internal error" in events[0]["error"]
    assert "2 consecutive failed runs" in events[2]["reason"]


async def test_a_creator_who_lost_access_pauses_the_schedule(
    tmp_path: Path, database_url: str, clean_env: None, receiver: Receiver
) -> None:
    clock = Clock(utc(2027, 1, 1, 12))
    async with runtime_on(make_settings(tmp_path, database_url), clock, bootstrap=True) as rt:
        schedule_id = await daily(rt, notify_url=receiver.url)
        user_id = await rt.store.user_id(rt.settings.user)
        assert user_id is not None
        await rt.store.disconnect(user_id)  # `amc auth remove`: no instance left to use
        clock.set(utc(2027, 1, 2, 7))
        await scheduler_for(rt).step()
        row = await rt.store.get_schedule(schedule_id)
        assert row is not None and row.state == "paused"
        assert row.paused_reason == f"{rt.settings.user} lost access to instance " + (
            (await rt.store.instance_by_pk(row.instance_id)).instance_id
        )
        (run,) = await rt.store.runs_of(schedule_id)
        assert run.status == "failed" and run.execution_id is None
        clock.set(utc(2027, 1, 4, 7))
        await scheduler_for(rt).step()
        assert len(await rt.store.runs_of(schedule_id)) == 1  # nothing submitted since
    assert [e["event"] for e in receiver.events()] == ["schedule.run_failed", "schedule.paused"]
    assert "lost access" in receiver.events()[1]["reason"]


async def test_access_lost_after_firing_pauses_when_the_engine_refuses_the_run(
    tmp_path: Path, database_url: str, clean_env: None
) -> None:
    """The slot fired while the creator could still use the instance; the engine then ends
    the queued run `lost_access` without submitting it, and the schedule pauses with that
    reason (no pause-after is set: losing access pauses at once)."""
    clock = Clock(utc(2027, 1, 1, 12))
    async with runtime_on(make_settings(tmp_path, database_url), clock, bootstrap=True) as rt:
        schedule_id = await daily(rt)
        clock.set(utc(2027, 1, 2, 6, 30))
        scheduler = scheduler_for(rt)
        await scheduler.step()
        (run,) = await rt.store.runs_of(schedule_id)
        assert run.status == "fired" and run.execution_id is not None
        user_id = await rt.store.user_id(rt.settings.user)
        assert user_id is not None
        await rt.store.disconnect(user_id)
        await rt.engine().run_once(only={run.execution_id})
        execution = await rt.store.get_execution(run.execution_id)
        assert execution is not None and execution.failure_kind == "lost_access"
        await scheduler.step()
        row = await rt.store.get_schedule(schedule_id)
        assert row is not None and row.state == "paused"
        assert row.paused_reason is not None and "lost access" in row.paused_reason
        assert [r.status for r in await rt.store.runs_of(schedule_id)] == ["failed"]
