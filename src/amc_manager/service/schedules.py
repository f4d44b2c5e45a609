"""Schedules as use cases: create, preview, list, show, change, pause, resume, delete, run now,
and the scheduler that fires them (a loop of the worker).

The rules (contracts.md, "Schedules" and "Users, access and the service"): a schedule is seen
by every user who may use its instance (anyone else: NotFound, REST's 404); changing, pausing,
resuming, deleting and running it now is for its creator and admins. Every run goes the way
of `amc run` (service.runs.submit: the same checks and budgets) as the schedule's creator, on
the schedule's saved workflow (a SQL file is pushed as one first), keyed by its slot so it is
made once. A creator who lost access to the instance pauses the schedule with that reason.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from amc_manager.engine.scheduler import (
    Fired,
    Scheduler,
    cadence_of,
)
from amc_manager.errors import AmcManagerError, UsageError
from amc_manager.service.access import actor, client_for, resolve_instance
from amc_manager.service.errors import NotFound
from amc_manager.service.lookup import by_id_or_prefix, require_creator
from amc_manager.service.runtime import Runtime
from amc_manager.service.schedule_views import (
    RunView,
    ScheduleChanges,
    ScheduleRequest,
    ScheduleView,
    check_options,
    loaded_values,
    stored_values,
    workflow_id_for,
)
from amc_manager.service.workers import no_worker
from amc_manager.sql.schedule import (
    Cadence,
    Slot,
    next_slot,
    parse_cadence,
    parse_window,
    slot_at,
    slots_after,
)
from amc_manager.store import StoreError
from amc_manager.store.schedules import (
    ACTIVE,
    FIRING,
    PAUSED,
    NewSchedule,
    ScheduleRow,
    ScheduleRunRow,
)

__all__ = [
    "RunView",
    "ScheduleChanges",
    "ScheduleRequest",
    "ScheduleView",
    "build_scheduler",
    "create",
    "delete",
    "find_schedule",
    "fire",
    "list_schedules",
    "pause",
    "preview",
    "resume",
    "run_now",
    "runs",
    "show",
    "update",
]

NEXT_SLOTS = 5
HISTORY = 20


# --- use cases ----------------------------------------------------------------------------------


def preview(
    *,
    cron: str | None,
    every: str | None,
    at: str | None,
    time_zone: str | None,
    window: str,
    after: datetime,
    count: int = NEXT_SLOTS,
) -> list[Slot]:
    """The next `count` slots strictly after `after` with their windows; nothing stored."""
    if count < 1 or count > 1000:
        raise UsageError(f"--count {count} is out of range", hint="give 1 to 1000")
    cadence = parse_cadence(cron=cron, every=every, at=at, time_zone=time_zone)
    relative = parse_window(window)
    return [slot_at(s, relative, cadence.time_zone) for s in slots_after(cadence, after, count)]


async def create(runtime: Runtime, email: str, request: ScheduleRequest) -> ScheduleView:
    """Check everything, push a SQL file as a saved workflow, store the schedule; its first
    slot is the first one after now."""
    if (request.sql is None) == (request.workflow_id is None):
        raise UsageError("give a SQL file or --workflow WORKFLOW_ID (one of them)")
    cadence = parse_cadence(
        cron=request.cron, every=request.every, at=request.at, time_zone=request.time_zone
    )
    parse_window(request.window)
    check_options(request.pause_after, request.notify_url)
    me = await actor(runtime, email)
    target = await resolve_instance(runtime, email, request.instance)
    await client_for(runtime, email, target)  # some connected user's token reaches it
    workflow_id = request.workflow_id
    if request.sql is not None:
        from amc_manager.service.workflows import push_to_each

        workflow_id = await push_to_each(
            runtime,
            email,
            [target.id],
            workflow_id=workflow_id_for(request.source, request.sql),
            sql=request.sql,
            source=request.source,
        )
    assert workflow_id is not None
    now = datetime.fromtimestamp(runtime.clock(), UTC)
    schedule_id = await runtime.store.add_schedule(
        NewSchedule(
            user_id=me.id,
            instance_id=target.id,
            name=request.name,
            workflow_id=workflow_id,
            cron=cadence.cron,
            every=cadence.every,
            at=None if cadence.cron else cadence.at.strftime("%H:%M"),
            time_zone=cadence.time_zone,
            window=parse_window(request.window).text,
            parameters=stored_values(request.values),
            pause_after=request.pause_after,
            notify_url=request.notify_url,
            next_at=next_slot(cadence, now).timestamp(),
        )
    )
    return await _view(runtime, await _row(runtime, schedule_id))


async def find_schedule(
    runtime: Runtime, email: str, ref: str, *, full: bool = False
) -> ScheduleRow:
    """A full id, or a unique prefix of at least 6 characters, among the schedules the user
    may see (`full`: the full id only, as the REST API takes). Any other is unknown."""
    me = await actor(runtime, email)
    scope = None if me.is_admin else me.id
    store = runtime.store

    async def visible(row: ScheduleRow) -> bool:
        return scope is None or await store.may_use(me.id, row.instance_id)

    async def prefixed(prefix: str) -> list[str]:
        return await store.schedule_ids(visible_to=scope, prefix=prefix)

    return await by_id_or_prefix(
        ref,
        kind="schedule",
        full=full,
        get=store.get_schedule,
        visible=visible,
        prefixed=prefixed,
        listed_by="amc schedules list",
    )


async def list_schedules(
    runtime: Runtime,
    email: str,
    *,
    limit: int | None = None,
    before: tuple[float, str] | None = None,
) -> list[ScheduleView]:
    """The schedules of every instance the user may use (an admin's: all), newest first."""
    me = await actor(runtime, email)
    rows = await runtime.store.list_schedules(
        visible_to=None if me.is_admin else me.id, limit=limit, before=before
    )
    return [await _view(runtime, r) for r in rows]


async def visible_schedule_ids(runtime: Runtime, email: str) -> list[str]:
    me = await actor(runtime, email)
    return await runtime.store.schedule_ids(visible_to=None if me.is_admin else me.id, prefix="")


async def show(
    runtime: Runtime, email: str, ref: str, *, full: bool = False, history: int = HISTORY
) -> ScheduleView:
    """One schedule with its next slots and its latest runs."""
    row = await find_schedule(runtime, email, ref, full=full)
    upcoming: tuple[Slot, ...] = ()
    if row.state == ACTIVE:
        cadence, window = cadence_of(row), parse_window(row.window)
        first = datetime.fromtimestamp(row.next_at, UTC)
        upcoming = (slot_at(first, window, row.time_zone),) + tuple(
            slot_at(s, window, row.time_zone) for s in slots_after(cadence, first, NEXT_SLOTS - 1)
        )
    recent = await _runs(runtime, row, limit=history)
    return await _view(runtime, row, upcoming, tuple(recent))


async def runs(
    runtime: Runtime,
    email: str,
    ref: str,
    *,
    full: bool = False,
    limit: int | None = None,
    before: tuple[float, str] | None = None,
) -> list[RunView]:
    """The schedule's runs, newest slot first."""
    row = await find_schedule(runtime, email, ref, full=full)
    return await _runs(runtime, row, limit=limit, before=before)


async def update(
    runtime: Runtime, email: str, ref: str, changes: ScheduleChanges, *, full: bool = False
) -> ScheduleView:
    """Change a schedule (its creator and admins)."""
    row = await _mine(runtime, email, ref, full=full, doing="change")
    check_options(changes.pause_after, changes.notify_url)
    values: dict[str, Any] = {}
    for name in ("name", "pause_after", "notify_url"):
        if getattr(changes, name) is not None:
            values[name] = getattr(changes, name)
    if changes.window is not None:
        values["window"] = parse_window(changes.window).text
    if changes.values is not None:
        values["parameters"] = stored_values(changes.values)
    if any(v is not None for v in (changes.cron, changes.every, changes.at, changes.time_zone)):
        cadence = _changed_cadence(row, changes)
        values.update(
            cron=cadence.cron,
            every=cadence.every,
            at=None if cadence.cron else cadence.at.strftime("%H:%M"),
            time_zone=cadence.time_zone,
            next_at=_next_after_now(runtime, cadence),
        )
    if values:
        await runtime.store.update_schedule(row.id, **values)
    if changes.state == PAUSED:
        return await pause(runtime, email, row.id, full=True)
    if changes.state == ACTIVE:
        return await resume(runtime, email, row.id, full=True)
    if changes.state is not None:
        raise UsageError(f"unknown schedule state {changes.state!r}", hint="use active or paused")
    return await _view(runtime, await _row(runtime, row.id))


def _changed_cadence(row: ScheduleRow, changes: ScheduleChanges) -> Cadence:
    zone = changes.time_zone or row.time_zone
    if changes.cron is not None or changes.every is not None:
        return parse_cadence(cron=changes.cron, every=changes.every, at=changes.at, time_zone=zone)
    if row.cron is not None:
        return parse_cadence(cron=row.cron, every=None, at=changes.at, time_zone=zone)
    return parse_cadence(cron=None, every=row.every, at=changes.at or row.at, time_zone=zone)


def _next_after_now(runtime: Runtime, cadence: Cadence) -> float:
    return next_slot(cadence, datetime.fromtimestamp(runtime.clock(), UTC)).timestamp()


async def pause(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> ScheduleView:
    """No slot fires until resumed (its creator and admins)."""
    row = await _mine(runtime, email, ref, full=full, doing="pause")
    await runtime.store.set_schedule_state(row.id, PAUSED, reason=f"paused by {email}")
    return await _view(runtime, await _row(runtime, row.id))


async def resume(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> ScheduleView:
    """Fire again from the first slot after now; the slots passed while paused are not run."""
    row = await _mine(runtime, email, ref, full=full, doing="resume")
    if row.state == ACTIVE:  # already firing: its next slot stays as it is
        return await _view(runtime, row)
    following = _next_after_now(runtime, cadence_of(row))
    await runtime.store.set_schedule_state(row.id, ACTIVE, next_at=following)
    return await _view(runtime, await _row(runtime, row.id))


async def delete(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> str:
    """Delete the schedule and its run history; the executions it made stay."""
    row = await _mine(runtime, email, ref, full=full, doing="delete")
    await runtime.store.delete_schedule(row.id)
    return row.id


async def run_now(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> RunView:
    """One extra run now, its window computed as if a slot fired at this moment; the slot
    sequence is untouched. Fired here, at once, by the same path as the scheduler's."""
    import uuid

    row = await _mine(runtime, email, ref, full=full, doing="run")
    now = runtime.clock()
    planned = slot_at(datetime.fromtimestamp(now, UTC), parse_window(row.window), row.time_zone)
    run = await runtime.store.claim_run(
        row.id,
        slot_key=f"now:{uuid.uuid4().hex}",
        fire_at=now,
        status=FIRING,
        window_start=planned.window_start,
        window_end=planned.window_end,
        manual=True,
        at=now,
    )
    assert run is not None  # a fresh key never clashes
    await scheduler_for(runtime).fire_run(row, run, now)
    found = [r for r in await _runs(runtime, row) if r.row.id == run.id]
    return found[0]


NO_WORKER = no_worker("fire the slots of schedules")


# --- the scheduler ------------------------------------------------------------------------------


async def fire(runtime: Runtime, schedule: ScheduleRow, run: ScheduleRunRow, now: float) -> Fired:
    """Make the run's execution as `amc run` would, as the schedule's creator; idempotent by
    the slot, so a repeat (a recovery, a racing worker) answers the same execution."""
    from amc_manager.service.checks import WindowInput
    from amc_manager.service.runs import Idempotency, RunRequest, submit

    store = runtime.store
    creator = await store.get_user(user_id=schedule.user_id)
    instance = await store.instance_by_pk(schedule.instance_id)
    # The store's one access rule (a disabled user may use nothing); checked here too, not only
    # when the engine submits, so the schedule pauses with the reason instead of failing runs.
    if creator is None or not await store.may_use(creator.id, instance.id):
        who = creator.email if creator is not None else schedule.user_id
        return Fired(lost_access=f"{who} lost access to instance {instance.instance_id}")
    key = f"schedule:{schedule.id}:{run.slot_key}"
    request = RunRequest(
        instance=instance.id,
        window=WindowInput(
            start=run.window_start, end=run.window_end, time_zone=schedule.time_zone
        ),
        workflow_id=schedule.workflow_id,
        source=f"<schedule {schedule.id}>",
        values=loaded_values(schedule.parameters),
        lint=False,
    )
    try:
        submitted = await submit(
            runtime,
            creator.email,
            request,
            now=datetime.fromtimestamp(now, UTC),
            idempotency=Idempotency(key, hashlib.sha256(key.encode()).hexdigest()),
        )
    except StoreError:
        raise  # the store hiccuped: the run stays claimed and is fired again later
    except AmcManagerError as exc:
        return Fired(error=exc.message)
    return Fired(execution_id=submitted.execution_id)


def scheduler_for(runtime: Runtime, **options: Any) -> Scheduler:
    """A scheduler over the runtime's store, on the engine's clock, signing webhooks with
    AMC_SECRET_KEY."""
    engine = runtime.engine()

    async def fire_one(schedule: ScheduleRow, run: ScheduleRunRow, now: float) -> Fired:
        return await fire(runtime, schedule, run, now)

    from amc_manager.service.keys import webhook_key

    # Time-scaled, the worker keeps the loop's pauses above a floor (engine.worker LOOP_FLOOR).
    options.setdefault("idle", engine.config.scaled(5.0))
    options.setdefault("recover_after", engine.config.scaled(60.0))
    return Scheduler(
        runtime.store, fire_one, clock=engine.clock, secret_key=webhook_key(runtime), **options
    )


def build_scheduler(runtime: Runtime) -> Scheduler:
    """The worker's scheduler loop (`Worker(loops={"scheduler": build_scheduler(rt).step})`)."""
    return scheduler_for(runtime)


# --- helpers ------------------------------------------------------------------------------------


async def _row(runtime: Runtime, schedule_id: str) -> ScheduleRow:
    row = await runtime.store.get_schedule(schedule_id)
    if row is None:
        raise NotFound(f"unknown schedule {schedule_id}", hint="see `amc schedules list`")
    return row


async def _mine(runtime: Runtime, email: str, ref: str, *, full: bool, doing: str) -> ScheduleRow:
    row = await find_schedule(runtime, email, ref, full=full)
    await require_creator(
        runtime, email, kind="schedule", row_id=row.id, creator_id=row.user_id, verb=doing
    )
    return row


async def _view(
    runtime: Runtime,
    row: ScheduleRow,
    upcoming: tuple[Slot, ...] | None = None,
    history: tuple[RunView, ...] | None = None,
) -> ScheduleView:
    instance = await runtime.store.instance_by_pk(row.instance_id)
    creator = await runtime.store.get_user(user_id=row.user_id)
    return ScheduleView(
        row,
        instance.instance_id,
        creator.email if creator is not None else row.user_id,
        upcoming,
        history,
    )


async def _runs(
    runtime: Runtime,
    row: ScheduleRow,
    *,
    limit: int | None = None,
    before: tuple[float, str] | None = None,
) -> list[RunView]:
    found = await runtime.store.runs_of(row.id, limit=limit, before=before)
    states = await runtime.store.execution_states(
        [r.execution_id for r in found if r.execution_id is not None]
    )
    return [
        RunView(r, row.time_zone, states.get(r.execution_id) if r.execution_id else None)
        for r in found
    ]
