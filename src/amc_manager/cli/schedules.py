"""`amc schedules ...`: create, preview, list, show, pause, resume, delete, run-now."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from amc_manager.cli.common import (
    AsOption,
    JsonOption,
    emit,
    print_json,
    run_async,
    runtime_for,
    say,
    settings_for,
    table,
    warn_without_worker,
)
from amc_manager.cli.runopts import (
    NameOption,
    ParamJsonOption,
    ParamOption,
    ParamsFileOption,
    WorkflowOption,
)

if TYPE_CHECKING:
    from amc_manager.sql.schedule import Slot

schedules_app = typer.Typer(
    help="Schedules: a saved workflow run on a cadence over a window relative to each run.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="Schedule id or a unique prefix (6+ characters).")
]
CronOption = Annotated[
    str | None,
    typer.Option(metavar="EXPR", help="A 5-field cron expression on the zone's wall clock."),
]
EveryOption = Annotated[
    str | None,
    typer.Option(
        metavar="FORM",
        help="day, week (week:MON), week:MON..SUN, month (the 1st), month:last or "
        "month:first-business-day (Monday to Friday, no holidays).",
    ),
]
AtOption = Annotated[
    str | None, typer.Option(metavar="HH:MM", help="Local time of day for --every (00:00).")
]
ZoneOption = Annotated[
    str, typer.Option("--timezone", metavar="TZ", help="IANA time zone of the schedule.")
]
WindowOption = Annotated[
    str,
    typer.Option(
        metavar="RELATIVE",
        help="Whole days before the run date D, never D: last:Nd, last:Nd:lag:Ld, "
        "previous-week[:MON..SUN], previous-month, month-to-date, week-to-date.",
    ),
]
WARNING = (
    "warning: {n} windows end less than 48 hours before their run: AMC's data is not "
    "complete yet; add a lag (e.g. last:7d:lag:2d)"
)


def register(app: typer.Typer) -> None:
    app.add_typer(schedules_app, name="schedules")


@schedules_app.command("create")
def create(
    file: Annotated[
        Path | None,
        typer.Argument(metavar="FILE.sql", help="The SQL file (pushed as a saved workflow)."),
    ] = None,
    workflow: WorkflowOption = None,
    instance: Annotated[
        str | None, typer.Option(metavar="ID", help="AMC instance id or internal id.")
    ] = None,
    cron: CronOption = None,
    every: EveryOption = None,
    at: AtOption = None,
    timezone: ZoneOption = "UTC",
    window: WindowOption = "",
    param: ParamOption = None,
    param_json: ParamJsonOption = None,
    params_file: ParamsFileOption = None,
    name: NameOption = None,
    pause_after: Annotated[
        int | None,
        typer.Option(metavar="N", help="Pause the schedule after N failed runs in a row."),
    ] = None,
    notify: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="POST a signed JSON event (X-AMC-Signature) when a run fails or the "
            "schedule pauses itself.",
        ),
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Create a schedule and print its id. The first run is the first slot after now;
    `amc worker` (or `amc serve`) fires the slots."""
    from amc_manager.errors import UsageError
    from amc_manager.service.checks import parse_values, read_sql
    from amc_manager.service.schedules import ScheduleRequest

    if not instance:
        raise UsageError("--instance is required", hint="give the AMC instance id")
    if not window:
        raise UsageError("--window is required", hint="e.g. --window last:7d:lag:2d")
    request = ScheduleRequest(
        instance=instance,
        window=window,
        sql=read_sql(file) if file is not None else None,
        source=str(file) if file is not None else "<workflow>",
        workflow_id=workflow,
        cron=cron,
        every=every,
        at=at,
        time_zone=timezone,
        values=parse_values(param or (), param_json or (), params_file),
        name=name,
        pause_after=pause_after,
        notify_url=notify,
    )
    _warn_about_lag(cron, every, at, timezone, window)
    settings = settings_for(as_user)

    async def body() -> str:
        from amc_manager.service.schedules import NO_WORKER
        from amc_manager.service.schedules import create as created

        async with runtime_for(settings) as runtime:
            made = (await created(runtime, settings.user, request)).id
            await warn_without_worker(runtime, NO_WORKER)
            return made

    emit(run_async(body))


def _warn_about_lag(
    cron: str | None, every: str | None, at: str | None, timezone: str, window: str
) -> None:
    """The preview's 48-hour warning, for the next slot of a schedule being created."""
    from datetime import UTC

    from amc_manager.service.schedules import preview as previewed

    slots = previewed(
        cron=cron,
        every=every,
        at=at,
        time_zone=timezone,
        window=window,
        after=datetime.now(UTC),
        count=1,
    )
    if slots and slots[0].data_incomplete:
        say(WARNING.format(n="the schedule's"))


@schedules_app.command("preview")
def preview(
    cron: CronOption = None,
    every: EveryOption = None,
    at: AtOption = None,
    timezone: ZoneOption = "UTC",
    window: WindowOption = "",
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE-TIME",
            help="Slots strictly after this (default now); without Z or an offset it is in "
            "the schedule's time zone.",
        ),
    ] = None,
    count: Annotated[int, typer.Option(metavar="N", help="How many slots.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """The next slots and their windows; nothing is stored."""
    from datetime import UTC

    from amc_manager.errors import UsageError
    from amc_manager.service.schedules import preview as previewed
    from amc_manager.sql.schedule import parse_from

    if not window:
        raise UsageError("--window is required", hint="e.g. --window last:7d:lag:2d")
    after = parse_from(from_, timezone) if from_ else datetime.now(UTC)
    slots = previewed(
        cron=cron, every=every, at=at, time_zone=timezone, window=window, after=after, count=count
    )
    if as_json:
        print_json([s.to_json() for s in slots])
        return
    _slot_table(slots)


def _slot_table(slots: list[Slot]) -> None:
    table(
        ["fire time", "UTC", "window"],
        [
            [
                s.fire_time.isoformat(),
                s.to_json()["fire_time_utc"],
                days(s.window_start, s.window_end) + (" *" if s.data_incomplete else ""),
            ]
            for s in slots
        ],
    )
    late = sum(1 for s in slots if s.data_incomplete)
    if late:
        say(WARNING.format(n=f"{late} of these (*)"))


def days(start: str, end: str) -> str:
    """A whole-day window as its first and last (inclusive) day."""
    first = date.fromisoformat(start[:10])
    last = date.fromisoformat(end[:10]) - timedelta(days=1)
    return str(first) if first == last else f"{first}..{last}"


@schedules_app.command("list")
def list_(as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """The schedules you may see, newest first."""
    settings = settings_for(as_user)

    async def body() -> tuple[list[dict[str, Any]], dict[str, str]]:
        from amc_manager.service.executions import shortest_prefixes
        from amc_manager.service.schedules import list_schedules, visible_schedule_ids

        async with runtime_for(settings, calls_amc=False) as runtime:
            views = await list_schedules(runtime, settings.user)
            ids = [v.id for v in views]
            among = await visible_schedule_ids(runtime, settings.user)
        return [v.to_json() for v in views], shortest_prefixes(ids, among)

    items, short = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["id", "name", "instance", "cadence", "window", "state", "next (UTC)"],
        [
            [
                short[i["id"]],
                i["name"] or "",
                i["instance_id"],
                cadence_text(i),
                i["window"],
                i["state"],
                (i["next_fire_time_utc"] or "")[:16].replace("T", " "),
            ]
            for i in items
        ],
        keep=3,
    )


def cadence_text(item: dict[str, Any]) -> str:
    if item["cron"]:
        return f"cron {item['cron']} {item['time_zone']}"
    return f"{item['every']} {item['at']} {item['time_zone']}"


@schedules_app.command("show")
def show(id_: IdArgument, as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """One schedule: its settings, next slots and run history (with each run's execution)."""
    settings = settings_for(as_user)

    async def body() -> tuple[dict[str, Any], dict[str, str]]:
        from amc_manager.service.executions import shortest_prefixes, visible_ids
        from amc_manager.service.schedules import show as shown

        async with runtime_for(settings, calls_amc=False) as runtime:
            view = await shown(runtime, settings.user, id_)
            made = [r.row.execution_id for r in view.history or () if r.row.execution_id]
            among = await visible_ids(runtime, settings.user) if made else []
            return view.to_json(), shortest_prefixes(made, among)

    item, short = run_async(body)
    if as_json:
        print_json(item)
        return
    upcoming = item.pop("next_slots", [])
    history = item.pop("runs", [])
    for key, value in item.items():
        emit(f"{key:19} {'' if value is None else value}")
    emit("next slots")
    for slot in upcoming:
        emit(f"  {slot['fire_time']}  {days(slot['window_start'], slot['window_end'])}")
    emit("runs")
    if history:
        table(
            ["  fire time (UTC)", "window", "state", "execution"],
            [
                [
                    "  " + r["fire_time_utc"][:16].replace("T", " "),
                    days(r["window_start"], r["window_end"]),
                    r["state"] + (" (run-now)" if r["manual"] else ""),
                    short.get(r["execution_id"] or "", "") or r["error"] or "",
                ]
                for r in history
            ],
            keep=3,
        )


def _act(id_: str, as_user: str | None, action: str) -> dict[str, Any]:
    settings = settings_for(as_user)

    async def body() -> dict[str, Any]:
        from amc_manager.service import schedules

        async with runtime_for(settings, calls_amc=action == "run_now") as runtime:
            if action == "delete":
                return {"id": await schedules.delete(runtime, settings.user, id_)}
            done = await getattr(schedules, action)(runtime, settings.user, id_)
            return dict(done.to_json())

    return run_async(body)


@schedules_app.command("pause")
def pause(id_: IdArgument, as_user: AsOption = None) -> None:
    """Stop firing until resumed (the creator and admins)."""
    item = _act(id_, as_user, "pause")
    emit(f"{item['id']} paused")


@schedules_app.command("resume")
def resume(id_: IdArgument, as_user: AsOption = None) -> None:
    """Fire again from the first slot after now (slots passed while paused are not run)."""
    item = _act(id_, as_user, "resume")
    emit(f"{item['id']} active; next {item['next_fire_time_utc']}")


@schedules_app.command("delete")
def delete(id_: IdArgument, as_user: AsOption = None) -> None:
    """Delete the schedule and its run history (the executions stay)."""
    item = _act(id_, as_user, "delete")
    emit(f"{item['id']} deleted")


@schedules_app.command("run-now")
def run_now(id_: IdArgument, as_user: AsOption = None) -> None:
    """One extra run now, its window as if a slot fired at this moment; prints the execution
    id (any `amc worker` runs it)."""
    from amc_manager.errors import UsageError

    item = _act(id_, as_user, "run_now")
    if item["execution_id"] is None:
        raise UsageError(f"run-now made no execution: {item['error']}", hint="fix and retry")
    emit(item["execution_id"])
