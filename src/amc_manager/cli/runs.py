"""`amc run`, `amc executions ...` and `amc results`: parse, call, render."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from amc_manager.cli.common import (
    AsOption,
    JsonOption,
    emit,
    print_json,
    progress,
    run_async,
    runtime_for,
    say,
    settings_for,
    table,
    user_mode,
)
from amc_manager.cli.runopts import (
    FormatOption,
    RunArgs,
    SqlFileArgument,
    WorkflowOption,
    takes_run_options,
)

if TYPE_CHECKING:
    from amc_manager.service.executions import ExecutionView
    from amc_manager.service.results import Results
    from amc_manager.service.runtime import Runtime

T = TypeVar("T")
PREVIEW_ROWS = 20
executions_app = typer.Typer(
    help="Executions: list, show, wait, cancel.", no_args_is_help=True, rich_markup_mode=None
)
IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="Execution id or a unique prefix (6+ characters).")
]


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("results")(results)
    app.add_typer(executions_app, name="executions")


@takes_run_options
def run(
    file: SqlFileArgument = None,
    workflow: WorkflowOption = None,
    *,
    options: RunArgs,
) -> None:
    """Validate, submit, wait, download every result file and write the rows.

    The first line of stdout is the execution id. Without --output a preview follows
    and the full result stays in AMC_HOME/results. Ctrl-C detaches: the execution goes on.
    """
    from amc_manager.service.checks import read_sql

    sql = read_sql(file) if file is not None else None
    source = str(file) if file is not None else "<workflow>"
    execute_run(options, sql=sql, source=source, workflow_id=workflow)


def execute_run(
    options: RunArgs, *, sql: str | None, source: str, workflow_id: str | None = None
) -> None:
    """`amc run`'s work for any command that runs SQL: check the options, submit through the
    application layer, follow (Ctrl-C detaches), then write or preview the rows."""
    from amc_manager.errors import UsageError
    from amc_manager.service.checks import RunOptions, WindowInput, parse_values
    from amc_manager.service.executions import output_format, prove_writable
    from amc_manager.service.runs import RunRequest

    if not options.instance:
        raise UsageError(
            "--instance is required", hint="give the AMC instance id (amc instances list)"
        )
    output, fmt, no_wait = options.output, options.fmt, options.no_wait
    chosen = output_format(output, fmt)
    if output is not None:
        prove_writable(output)
    elif chosen == "parquet" and fmt is not None:
        raise UsageError("Parquet needs --output", hint="add --output result.parquet")
    request = RunRequest(
        instance=options.instance,
        window=WindowInput(
            start=options.start, end=options.end, window=options.window, time_zone=options.timezone
        ),
        sql=sql,
        source=source,
        workflow_id=workflow_id,
        values=parse_values(options.param, options.param_json, options.params_file),
        options=RunOptions(
            timeout=options.timeout,
            ignore_data_gaps=options.ignore_data_gaps,
            filtered_column=options.filtered_column,
        ),
        lint=not options.no_lint,
    )
    settings = settings_for(options.as_user)

    async def body() -> int:
        from amc_manager.service import runs
        from amc_manager.sql import render_text

        async with runtime_for(settings) as runtime:
            submitted = await runs.submit(runtime, settings.user, request)
            if submitted.warnings:
                sys.stderr.write(render_text(submitted.warnings))
            emit(submitted.execution_id)
            view = await _follow_detachable(
                runtime,
                runs.follow_run(
                    runtime, submitted.execution_id, until_submitted=no_wait, on_change=_progress
                ),
                submitted.execution_id,
            )
            if view is None:
                return 130
            if no_wait:
                return 0
            failure = runs.outcome_error(view)
            if failure is not None:
                raise failure
            _deliver(runtime.results, view, output, chosen)
            return 0

    raise typer.Exit(run_async(body))


async def _follow_detachable(
    runtime: Runtime, following: Awaitable[ExecutionView], execution_id: str
) -> ExecutionView | None:
    """Follow; Ctrl-C detaches (the execution goes on elsewhere) and returns None."""
    from amc_manager.service.runs import detach

    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(following)
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        await detach(runtime, execution_id)
        say(
            f"detached: execution {execution_id} goes on; "
            f"`amc executions wait {execution_id}` or `amc worker` finishes it"
        )
        return None
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _progress(view: ExecutionView) -> None:
    amc = f" (AMC {view.row.amc_status})" if view.row.amc_status else ""
    progress(f"{view.id[:8]} {view.state}{amc}")


def _deliver(results: Results, view: ExecutionView, output: Path | None, fmt: str) -> None:
    from amc_manager.service.executions import export_rows, preview

    row = view.row
    if row.result_path is None:
        emit(f"no result rows (state {row.state})")
        return
    if output is not None:
        existed = output.exists()
        count = export_rows(results, row, fmt, output)
        if not existed:
            user_mode(output)
        say(f"{count} rows written to {output}")
        return
    names, rows = preview(results, row, PREVIEW_ROWS)
    emit(f"{row.row_count} rows ({row.result_path})")
    table(names, rows)
    if row.advice:
        say(row.advice)


@executions_app.command("list")
def executions_list(
    instance: Annotated[str | None, typer.Option(metavar="ID", help="Only this instance.")] = None,
    state: Annotated[str | None, typer.Option(metavar="STATE", help="Only this state.")] = None,
    collection: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Only this collection's (every attempt of its cells)."),
    ] = None,
    as_json: JsonOption = False,
    as_user: AsOption = None,
) -> None:
    """List the executions you may see, newest first."""
    settings = settings_for(as_user)

    async def body() -> tuple[list[dict[str, Any]], dict[str, str]]:
        from amc_manager.service.executions import list_executions, shortest_prefixes, visible_ids

        async with runtime_for(settings, calls_amc=False) as runtime:
            views = await list_executions(
                runtime, settings.user, instance=instance, state=state, collection=collection
            )
            ids = [v.id for v in views]
            short = shortest_prefixes(ids, await visible_ids(runtime, settings.user))
        return [v.to_json() for v in views], short

    items, short = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["id", "instance", "state", "window", "rows", "created", "amc"],
        [
            [
                short[i["id"]],
                i["instance_id"],
                i["state"],
                window_text(i),
                i["row_count"],
                _minute(i["created_at"]),
                i["amc_status"],
            ]
            for i in items
        ],
        keep=4,
    )


def window_text(item: dict[str, Any]) -> str:
    """Whole-day windows as their first and last (inclusive) day; others as given."""
    start, end = item["time_window_start"], item["time_window_end"]
    if not start or not end:
        return str(item["time_window_type"])
    if start.endswith("T00:00:00") and end.endswith("T00:00:00"):
        first = date.fromisoformat(start[:10])
        last = date.fromisoformat(end[:10]) - timedelta(days=1)
        return str(first) if first == last else f"{first}..{last}"
    return f"{start[:16]}..{end[:16]}"


def _minute(stamp: str | None) -> str:
    return "" if not stamp else stamp[:16].replace("T", " ")


@executions_app.command("show")
def executions_show(id_: IdArgument, as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """One execution in detail, with every state change and its time."""
    settings = settings_for(as_user)

    async def body() -> dict[str, Any]:
        from amc_manager.service.executions import show_execution

        async with runtime_for(settings, calls_amc=False) as runtime:
            return (await show_execution(runtime, settings.user, id_)).to_json()

    item = run_async(body)
    if as_json:
        print_json(item)
        return
    timeline = item.pop("timeline", [])
    for key, value in item.items():
        emit(f"{key:18} {'' if value is None else value}")
    emit("timeline")
    for event in timeline:
        amc = f" (AMC {event['amc_status']})" if event["amc_status"] else ""
        note = f"  {event['note']}" if event["note"] else ""
        emit(f"  {event['at']}  {event['state']}{amc}{note}")


@executions_app.command("wait")
def executions_wait(id_: IdArgument, as_user: AsOption = None) -> None:
    """Drive an execution to its end (any `amc worker` may share the work)."""
    settings = settings_for(as_user)

    async def body() -> int:
        from amc_manager.service import runs
        from amc_manager.service.executions import find_execution

        async with runtime_for(settings) as runtime:
            row = await find_execution(runtime, settings.user, id_)
            view = await _follow_detachable(
                runtime, runs.follow_run(runtime, row.id, on_change=_progress), row.id
            )
            if view is None:
                return 130
            failure = runs.outcome_error(view)
            if failure is not None:
                raise failure
            emit(f"{view.id} succeeded: {view.row.row_count} rows in {view.row.result_path}")
            return 0

    raise typer.Exit(run_async(body))


@executions_app.command("cancel")
def executions_cancel(id_: IdArgument, as_user: AsOption = None) -> None:
    """Cancel at AMC (or locally while still queued)."""
    settings = settings_for(as_user)

    async def body() -> ExecutionView:
        from amc_manager.service.runs import cancel

        async with runtime_for(settings) as runtime:
            return await cancel(runtime, settings.user, id_)

    view = run_async(body)
    emit(f"{view.id} {view.state}")


def results(
    id_: IdArgument,
    fmt: FormatOption = None,
    output: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Write here instead of stdout.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Write an execution's rows (CSV to stdout by default; Parquet needs --output)."""
    from amc_manager.errors import UsageError
    from amc_manager.service.executions import output_format, prove_writable

    chosen = output_format(output, fmt)
    if chosen == "parquet" and output is None:
        raise UsageError("Parquet needs --output", hint="add --output result.parquet")
    if output is not None:
        prove_writable(output)
    settings = settings_for(as_user)

    async def body() -> Any:
        from amc_manager.service.executions import find_execution

        async with runtime_for(settings, calls_amc=False) as runtime:
            return await find_execution(runtime, settings.user, id_), runtime.results

    row, stored = run_async(body)
    from amc_manager.service.executions import export_rows

    if output is None:
        export_rows(stored, row, chosen, sys.stdout.buffer)
        return
    existed = output.exists()
    export_rows(stored, row, chosen, output)
    if not existed:
        user_mode(output)
