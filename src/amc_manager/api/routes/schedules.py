"""Schedules: create, list, preview, get (next slots and runs), change, delete, run history,
run now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, keyset_before, keyset_page
from amc_manager.api.routes.common import LIST, PREFIX, READ_ONE, WRITE, documented
from amc_manager.api.schemas import JsonValue, Page, Strict

router = APIRouter(prefix=f"{PREFIX}/schedules", tags=["schedules"])
ScheduleId = Path(max_length=64, description="The schedule's full id.")


class ScheduleIn(Strict):
    instance_id: str = Field(max_length=64, description="AMC's or the internal id.")
    sql: str | None = Field(None, max_length=500_000, description="Pushed as a saved workflow.")
    workflow_id: str | None = Field(None, max_length=200)
    cron: str | None = Field(None, max_length=200, description="5 fields, on the zone's clock.")
    every: str | None = Field(
        None,
        max_length=40,
        description="day, week, week:MON..SUN, month, month:last, month:first-business-day.",
    )
    at: str | None = Field(None, max_length=5, description="HH:MM for `every` (00:00).")
    time_zone: str | None = Field(None, max_length=64, description="IANA name; default UTC.")
    window: str = Field(
        max_length=40,
        description="last:Nd, last:Nd:lag:Ld, previous-week[:DAY], previous-month, "
        "month-to-date, week-to-date.",
    )
    parameters: dict[str, JsonValue] | None = None
    name: str | None = Field(None, max_length=200)
    pause_after: int | None = Field(None, ge=1, le=1000)
    notify_url: str | None = Field(None, max_length=2000)


class SchedulePatch(Strict):
    name: str | None = Field(None, max_length=200)
    cron: str | None = Field(None, max_length=200)
    every: str | None = Field(None, max_length=40)
    at: str | None = Field(None, max_length=5)
    time_zone: str | None = Field(None, max_length=64)
    window: str | None = Field(None, max_length=40)
    parameters: dict[str, JsonValue] | None = None
    pause_after: int | None = Field(None, ge=1, le=1000)
    notify_url: str | None = Field(None, max_length=2000)
    state: str | None = Field(None, pattern="^(active|paused)$")


class SlotOut(BaseModel):
    fire_time: str = Field(description="ISO 8601 with the zone's offset.")
    fire_time_utc: str
    window_start: str
    window_end: str = Field(description="Exclusive.")
    time_zone: str


class RunOut(BaseModel):
    id: str
    schedule_id: str
    fire_time: str
    fire_time_utc: str
    manual: bool
    state: str = Field(description="The execution's state; skipped, or failed when none.")
    execution_id: str | None
    window_start: str
    window_end: str
    time_zone: str
    error: str | None
    created_at: str | None


class ScheduleOut(BaseModel):
    id: str
    name: str | None
    instance_id: str
    workflow_id: str
    cron: str | None
    every: str | None
    at: str | None
    time_zone: str
    window: str
    parameters: dict[str, JsonValue]
    pause_after: int | None
    notify_url: str | None
    state: str
    paused_reason: str | None
    next_fire_time_utc: str | None
    created_by: str
    created_at: str | None
    updated_at: str | None
    next_slots: list[SlotOut] | None = None
    runs: list[RunOut] | None = None


def _values(parameters: dict[str, Any] | None) -> Any:
    from amc_manager.sql import values_from_mapping

    return None if parameters is None else values_from_mapping(dict(parameters))


@collection(
    router,
    "POST",
    "",
    summary="Create a schedule (a SQL body is pushed as a saved workflow first).",
    status_code=201,
    response_model=ScheduleOut,
    responses=WRITE,
)
async def create_schedule(
    body: ScheduleIn, who: MutatingCallerDep, runtime: RuntimeDep, response: Response
) -> ScheduleOut:
    from amc_manager.service.schedules import ScheduleRequest, create

    view = await create(
        runtime,
        who.email,
        ScheduleRequest(
            instance=body.instance_id,
            window=body.window,
            sql=body.sql,
            source="<schedule>",
            workflow_id=body.workflow_id,
            cron=body.cron,
            every=body.every,
            at=body.at,
            time_zone=body.time_zone,
            values=_values(body.parameters) or {},
            name=body.name,
            pause_after=body.pause_after,
            notify_url=body.notify_url,
        ),
    )
    response.headers["Location"] = f"{PREFIX}/schedules/{view.id}"
    return ScheduleOut(**view.to_json())


@collection(
    router,
    "GET",
    "",
    summary="Schedules the caller may see, newest first.",
    response_model=Page[ScheduleOut],
    responses=LIST,
)
async def list_schedules(
    who: CallerDep, runtime: RuntimeDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[ScheduleOut]:
    from amc_manager.service.schedules import list_schedules as listed

    before = keyset_before("schedules", cursor)
    found = await listed(runtime, who.email, limit=limit + 1, before=before)
    views, after = keyset_page("schedules", found, limit, lambda v: (v.row.created_at, v.id))
    return Page[ScheduleOut](items=[ScheduleOut(**v.to_json()) for v in views], next_cursor=after)


@router.get(
    "/preview",
    summary="The next slots of a cadence and their windows; nothing stored.",
    response_model=list[SlotOut],
    responses=documented(400, 401, 422, 500),
)
async def preview_schedule(
    _who: CallerDep,
    window: Annotated[str, Query(max_length=40)],
    cron: Annotated[str | None, Query(max_length=200)] = None,
    every: Annotated[str | None, Query(max_length=40)] = None,
    at: Annotated[str | None, Query(max_length=5)] = None,
    time_zone: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="Slots strictly after this (now)."),
    ] = None,
    count: Annotated[int, Query(ge=1, le=1000)] = 5,
) -> list[SlotOut]:
    from amc_manager.service.schedules import preview
    from amc_manager.sql.schedule import parse_from

    zone = time_zone or "UTC"
    after = parse_from(from_, zone) if from_ else datetime.now(UTC)
    slots = preview(
        cron=cron, every=every, at=at, time_zone=zone, window=window, after=after, count=count
    )
    return [SlotOut(**s.to_json()) for s in slots]


@router.get(
    "/{schedule_id}",
    summary="One schedule with its next slots and latest runs.",
    response_model=ScheduleOut,
    responses=READ_ONE,
)
async def get_schedule(
    who: CallerDep, runtime: RuntimeDep, schedule_id: str = ScheduleId
) -> ScheduleOut:
    from amc_manager.service.schedules import show

    return ScheduleOut(**(await show(runtime, who.email, schedule_id, full=True)).to_json())


@router.patch(
    "/{schedule_id}",
    summary="Change a schedule, pause it or resume it (its creator and admins).",
    response_model=ScheduleOut,
    responses=WRITE,
)
async def patch_schedule(
    body: SchedulePatch, who: MutatingCallerDep, runtime: RuntimeDep, schedule_id: str = ScheduleId
) -> ScheduleOut:
    from amc_manager.service.schedules import ScheduleChanges, update

    changes = ScheduleChanges(
        name=body.name,
        window=body.window,
        cron=body.cron,
        every=body.every,
        at=body.at,
        time_zone=body.time_zone,
        values=_values(body.parameters),
        pause_after=body.pause_after,
        notify_url=body.notify_url,
        state=body.state,
    )
    view = await update(runtime, who.email, schedule_id, changes, full=True)
    return ScheduleOut(**view.to_json())


@router.delete(
    "/{schedule_id}",
    summary="Delete a schedule and its run history (its creator and admins).",
    status_code=204,
    responses=WRITE,
)
async def delete_schedule(
    who: MutatingCallerDep, runtime: RuntimeDep, schedule_id: str = ScheduleId
) -> Response:
    from amc_manager.service.schedules import delete

    await delete(runtime, who.email, schedule_id, full=True)
    return Response(status_code=204)


@collection(
    router,
    "GET",
    "/{schedule_id}/runs",
    summary="The schedule's runs, newest slot first, each with its execution.",
    response_model=Page[RunOut],
    responses=LIST,
)
async def list_runs(
    who: CallerDep,
    runtime: RuntimeDep,
    schedule_id: str = ScheduleId,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[RunOut]:
    from amc_manager.service.schedules import runs

    kind = f"runs:{schedule_id}"
    before = keyset_before(kind, cursor)
    found = await runs(runtime, who.email, schedule_id, full=True, limit=limit + 1, before=before)
    page, after = keyset_page(kind, found, limit, lambda r: (r.row.fire_at, r.row.id))
    return Page[RunOut](items=[RunOut(**r.to_json()) for r in page], next_cursor=after)


@router.post(
    "/{schedule_id}/run-now",
    summary="One extra run now (window as if a slot fired now); the slots are untouched.",
    status_code=201,
    response_model=RunOut,
    responses=WRITE,
)
async def run_now(
    who: MutatingCallerDep, runtime: RuntimeDep, schedule_id: str = ScheduleId
) -> RunOut:
    from amc_manager.service.schedules import run_now as fired

    return RunOut(**(await fired(runtime, who.email, schedule_id, full=True)).to_json())
