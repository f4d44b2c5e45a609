"""The scheduler: a supervised loop of the worker that fires each slot of each schedule once.

One step, on the engine's clock:
1. settle: a fired run whose execution ended takes its outcome; a failed one is told to the
   schedule's webhook and may pause the schedule (N failures in a row, or lost access);
2. recover: a run claimed but left without an execution (its worker died mid-fire) is fired
   again; firing is idempotent by the slot (the execution's idempotency key), so a slow
   claimer and the recovery make one execution between them;
3. catch up: every slot at or before now is decided in order. Less than a day late it fires,
   later it is recorded `skipped` (contracts.md's missed-slot policy). Deciding means inserting
   the slot's run row, unique on (schedule, slot): whoever inserts it fires it, so two workers
   and any number of restarts fire a slot once; then the schedule's cursor moves to the next
   slot (compare-and-set), so a crash in between only repeats the clash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from amc_manager.engine.notify import post_event
from amc_manager.sql.schedule import Cadence, next_slot, parse_at, parse_window, slot_at
from amc_manager.store import Store
from amc_manager.store.schedules import (
    ACTIVE,
    FAILED,
    FIRED,
    FIRING,
    PAUSED,
    SKIPPED,
    ScheduleRow,
    ScheduleRunRow,
)

logger = logging.getLogger("amc_manager.scheduler")
DAY = 86400.0
FAILURES = ("failed", "rejected")  # a cancelled run is the user's doing, not a failure
LOST_ACCESS = "lost_access"


@dataclass(frozen=True)
class Fired:
    """What firing a run made: an execution, or why none (an error, or the creator's lost
    access, which pauses the schedule)."""

    execution_id: str | None = None
    error: str | None = None
    lost_access: str | None = None


FireFn = Callable[[ScheduleRow, ScheduleRunRow, float], Awaitable[Fired]]


def cadence_of(schedule: ScheduleRow) -> Cadence:
    return Cadence(
        schedule.time_zone,
        cron=schedule.cron,
        every=schedule.every,
        at=parse_at(schedule.at or "00:00"),
    )


def slot_key(instant: float) -> str:
    return f"slot:{int(instant)}"


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    """Decides and fires the schedules' slots; `step()` is one pass (the worker's loop)."""

    def __init__(
        self,
        store: Store,
        fire: FireFn,
        *,
        clock: Callable[[], float] = time.time,
        secret_key: Callable[[], Awaitable[str]] | None = None,
        late_limit: float = DAY,
        recover_after: float = 60.0,
        idle: float = 5.0,
        batch: int = 200,
        notify: Callable[[str, str, dict[str, Any], str], Awaitable[bool]] = post_event,
    ) -> None:
        self.store = store
        self.fire = fire
        self.clock = clock
        self.secret_key = secret_key
        self.late_limit = late_limit
        self.recover_after = recover_after
        self.idle = idle
        self.batch = batch
        self._notify = notify

    async def step(self) -> float:
        """One pass; the seconds to pause before the next (at most `idle`, so outcomes are
        noticed and new schedules picked up)."""
        await self.settle()
        now = self.clock()
        await self.recover(now)
        due = await self.store.next_due()
        if due is not None and due <= now:
            for schedule in await self.store.due_schedules(now, limit=self.batch):
                await self._guarded(self.catch_up(schedule, now), schedule.id)
            due = await self.store.next_due()
        if due is None:
            return self.idle
        return max(0.0, min(self.idle, due - self.clock()))

    # --- deciding slots ---------------------------------------------------------------------

    async def catch_up(self, schedule: ScheduleRow, now: float) -> None:
        """Decide the schedule's slots up to `now`, in order (at most `batch` per pass)."""
        cadence = cadence_of(schedule)
        window = parse_window(schedule.window)
        slot = schedule.next_at
        for _ in range(self.batch):
            if slot > now:
                return
            instant = datetime.fromtimestamp(slot, UTC)
            planned = slot_at(instant, window, schedule.time_zone)
            late = now - slot >= self.late_limit
            run = await self.store.claim_run(
                schedule.id,
                slot_key=slot_key(slot),
                fire_at=slot,
                status=SKIPPED if late else FIRING,
                window_start=planned.window_start,
                window_end=planned.window_end,
                at=now,
            )
            stop = False
            if run is not None and not late:
                stop = not await self.fire_run(schedule, run, now)
            following = next_slot(cadence, instant).timestamp()
            if not await self.store.advance_schedule(schedule.id, slot, following) or stop:
                return  # another worker moved on, or the schedule paused itself
            slot = following

    async def fire_run(self, schedule: ScheduleRow, run: ScheduleRunRow, now: float) -> bool:
        """Make the run's execution; False when the schedule paused itself (lost access)."""
        outcome = await self.fire(schedule, run, now)
        if outcome.execution_id is not None:
            await self.store.set_run(run.id, FIRING, FIRED, execution_id=outcome.execution_id)
            return True
        error = outcome.lost_access or outcome.error or "no execution was made"
        if await self.store.set_run(run.id, FIRING, FAILED, error=error):
            await self.after_failure(run, error, lost_access=outcome.lost_access)
        return outcome.lost_access is None

    async def recover(self, now: float) -> None:
        """Fire again the runs claimed but left without an execution."""
        for run in await self.store.runs_firing(claimed_before=now - self.recover_after):
            schedule = await self.store.get_schedule(run.schedule_id)
            if schedule is None:
                continue
            if schedule.state != ACTIVE and not run.manual:
                await self.store.set_run(run.id, FIRING, SKIPPED, error="the schedule was paused")
                continue
            await self._guarded(self.fire_run(schedule, run, now), schedule.id)

    async def _guarded(self, work: Awaitable[Any], schedule_id: str) -> None:
        """One schedule's trouble (a bug, a store hiccup) is logged and retried at the next
        pass (its slot stays undecided or claimed), never stopping the others."""
        try:
            await work
        except Exception:
            logger.exception("schedule %s: pass failed; will retry", schedule_id)

    # --- outcomes ---------------------------------------------------------------------------

    async def settle(self) -> None:
        """Fired runs take their execution's final state; failures have their consequences
        once (the compare-and-set decides which worker tells)."""
        for settled in await self.store.runs_settled(limit=self.batch):
            run = settled.run
            if not await self.store.set_run(run.id, FIRED, settled.state):
                continue
            if settled.state in FAILURES:
                lost = settled.error if settled.failure_kind == LOST_ACCESS else None
                await self.after_failure(run, settled.error or settled.state, lost_access=lost)

    async def after_failure(
        self, run: ScheduleRunRow, error: str, *, lost_access: str | None
    ) -> None:
        """Tell the webhook; pause on lost access or after `pause_after` failures in a row."""
        schedule = await self.store.get_schedule(run.schedule_id)
        if schedule is None:
            return
        await self.tell(schedule, "schedule.run_failed", {**run_payload(run), "error": error})
        reason = lost_access
        if reason is None and schedule.pause_after:
            recent = await self.store.recent_outcomes(schedule.id, schedule.pause_after)
            if len(recent) == schedule.pause_after and all(s in FAILURES for s in recent):
                reason = f"{schedule.pause_after} consecutive failed runs (last: {error})"
        if reason is None:
            return
        if await self.store.set_schedule_state(
            schedule.id, PAUSED, reason=reason, only_from=ACTIVE
        ):
            logger.warning("schedule %s paused: %s", schedule.id, reason)
            await self.tell(schedule, "schedule.paused", {"reason": reason})

    async def tell(self, schedule: ScheduleRow, kind: str, payload: dict[str, Any]) -> None:
        if not schedule.notify_url or self.secret_key is None:
            return
        body = {"schedule_id": schedule.id, "schedule_name": schedule.name, **payload}
        await self._notify(schedule.notify_url, kind, body, await self.secret_key())


def run_payload(run: ScheduleRunRow) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "execution_id": run.execution_id,
        "fire_time_utc": iso_utc(run.fire_at),
        "window_start": run.window_start,
        "window_end": run.window_end,
        "manual": run.manual,
    }
