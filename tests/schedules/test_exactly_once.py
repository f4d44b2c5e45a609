"""Each slot fires exactly once: two schedulers over one real store, stepped concurrently, and
one of them killed mid-step and restarted, over 400 simulated days of a weekly and a monthly
schedule (contracts.md, "Schedules")."""

from __future__ import annotations

import asyncio
import calendar
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from amc_manager.engine.scheduler import Scheduler
from amc_manager.service.runtime import Runtime
from amc_manager.service.schedules import ScheduleRequest, create, scheduler_for
from amc_manager.store import schema as t
from tests.schedules.conftest import Clock, first_instance, make_settings, runtime_on, utc

START = utc(2027, 1, 1, 12)
DAYS = 400
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def weekly_slots(after: datetime, until: datetime) -> set[float]:
    """Mondays at 06:00 in New York (a time every Monday has), by hand."""
    found: set[float] = set()
    day = after.astimezone(NEW_YORK).date()
    while True:
        if day.weekday() == 0:
            moment = datetime(day.year, day.month, day.day, 6, tzinfo=NEW_YORK)
            if moment > until:
                return found
            if moment > after:
                found.add(moment.timestamp())
        day += timedelta(days=1)


def monthly_slots(after: datetime, until: datetime) -> set[float]:
    """The last day of each month at 23:30 in Berlin."""
    found: set[float] = set()
    year, month = after.year, after.month
    while True:
        last = calendar.monthrange(year, month)[1]
        moment = datetime(year, month, last, 23, 30, tzinfo=BERLIN)
        if moment > until:
            return found
        if moment > after:
            found.add(moment.timestamp())
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


async def fired_slots(runtime: Runtime, schedule_id: str) -> list[tuple[float, str, str | None]]:
    r = t.schedule_runs.c
    async with runtime.store.begin() as conn:
        rows = await conn.execute(
            sa.select(r.fire_at, r.status, r.execution_id).where(r.schedule_id == schedule_id)
        )
        return [(float(a), str(s), e) for a, s, e in rows.all()]


async def executions_of(runtime: Runtime, schedule_id: str) -> int:
    e = t.workflow_executions.c
    async with runtime.store.begin() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).where(e.idempotency_key.like(f"schedule:{schedule_id}:%"))
        )
        return int(found.scalar_one())


async def test_two_workers_and_a_restart_fire_every_slot_once(
    tmp_path: Path, database_url: str, clean_env: None
) -> None:
    clock = Clock(START)
    settings = make_settings(tmp_path, database_url)
    async with runtime_on(settings, clock, bootstrap=True) as first:
        instance = await first_instance(first)
        ids = []
        for every, at, zone, window in (
            ("week:MON", "06:00", "America/New_York", "last:7d:lag:2d"),
            ("month:last", "23:30", "Europe/Berlin", "previous-month"),
        ):
            request = ScheduleRequest(
                instance=instance.instance_id,
                window=window,
                workflow_id="weekly-report",
                every=every,
                at=at,
                time_zone=zone,
            )
            ids.append((await create(first, settings.user, request)).id)
        rng = random.Random(11)
        end = START + timedelta(days=DAYS)
        a = scheduler_for(first, recover_after=60.0)
        async with runtime_on(settings, clock) as second:
            b: Scheduler = scheduler_for(second, recover_after=60.0)
            await _steps(clock, a, b, rng, until=START + timedelta(days=DAYS // 2), kill=True)
        async with runtime_on(settings, clock) as restarted:  # the killed worker comes back
            b = scheduler_for(restarted, recover_after=60.0)
            await _steps(clock, a, b, rng, until=end, kill=False)
        last = datetime.fromtimestamp(clock(), UTC)  # every slot up to here is decided
        assert last >= end
        weekly = weekly_slots(START, last)
        monthly = monthly_slots(START, last)
        assert len(weekly) >= 57 and len(monthly) >= 13
        for schedule_id, expected in zip(ids, (weekly, monthly), strict=True):
            runs = await fired_slots(first, schedule_id)
            assert sorted(at for at, _, _ in runs) == sorted(expected)  # none twice, none skipped
            assert {status for _, status, _ in runs} == {"fired"}
            executions = [e for _, _, e in runs]
            assert None not in executions and len(set(executions)) == len(expected)
            assert await executions_of(first, schedule_id) == len(expected)


async def _steps(
    clock: Clock, a: Scheduler, b: Scheduler, rng: random.Random, *, until: datetime, kill: bool
) -> None:
    """Move the clock to a random moment less than a day after the next due slot (so the
    missed-slot policy fires it) and step both schedulers at once; with `kill`, the last step
    of `b` is cut short at a random point, as a SIGKILL would."""
    while clock() < until.timestamp():
        due = await a.store.next_due()
        assert due is not None
        clock.now = max(clock.now, due + rng.uniform(0, 23.5) * 3600)  # never backwards
        await asyncio.gather(a.step(), b.step())
    if kill:
        due = await b.store.next_due()
        assert due is not None
        clock.set(datetime.fromtimestamp(due + 3600, UTC))  # a slot is due, an hour late
        task = asyncio.ensure_future(b.step())
        await asyncio.sleep(rng.uniform(0.001, 0.02))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await a.step()  # and a second pass to settle what the first fired
    await a.step()


def test_expected_slots_are_written_by_hand() -> None:
    """The oracle itself: 2027's first Monday is Jan 4; February 2028 ends on the 29th."""
    weekly = weekly_slots(START, START + timedelta(days=8))
    assert [datetime.fromtimestamp(s, NEW_YORK).date() for s in weekly] == [date(2027, 1, 4)]
    leap = monthly_slots(utc(2028, 2, 1), utc(2028, 3, 1))
    assert [datetime.fromtimestamp(s, BERLIN).date() for s in leap] == [date(2028, 2, 29)]
