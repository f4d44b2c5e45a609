"""`amc run`, `amc executions ...`, `amc results` and `amc worker`: the main job."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from amc_manager.cli.common import (
    err,
    execution_json,
    out,
    print_json,
    run_async,
    runtime_for,
    settings_for,
    table,
)
from amc_manager.client.errors import ExecutionFailed
from amc_manager.engine.accounts import resolve_instance
from amc_manager.engine.engine import REFUSED_AT_SUBMISSION
from amc_manager.engine.exports import export
from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow, submitted_or_waiting
from amc_manager.engine.runtime import Runtime
from amc_manager.engine.worker import Worker
from amc_manager.errors import UsageError
from amc_manager.sql import (
    KnownSchema,
    lint,
    prepare,
    raise_for_errors,
    read_values,
    resolve_window,
)
from amc_manager.store.rows import ExecutionRow

executions_app = typer.Typer(help="Executions: list, show, wait, cancel.", no_args_is_help=True)
FORMATS = ("csv", "parquet", "json", "jsonl")
PREVIEW_ROWS = 20

AsOption = Annotated[str | None, typer.Option("--as", help="Act as this user (AMC_USER).")]


def _read_sql(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(
            f"cannot read SQL file {path}: {reason}", hint="give a readable .sql file"
        ) from None


def _output_format(output: Path | None, fmt: str | None) -> str:
    chosen = fmt or (output.suffix.lstrip(".").lower() if output else "csv")
    if chosen not in FORMATS:
        raise UsageError(f"unknown format {chosen!r}", hint=f"use one of {', '.join(FORMATS)}")
    return chosen


def _check_writable(output: Path) -> None:
    parent = output.resolve().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UsageError(
            f"cannot write --output {output}: folder missing or not writable",
            hint="choose a path in an existing, writable folder",
        )
    if output.exists() and not os.access(output, os.W_OK):
        raise UsageError(f"cannot write --output {output}: file not writable")


def _progress(row: ExecutionRow) -> None:
    if sys.stderr.isatty():
        amc = f" (AMC {row.amc_status})" if row.amc_status else ""
        err.print(f"[dim]{row.id[:8]}[/dim] {row.state}{amc}")


def _outcome(row: ExecutionRow) -> None:
    if row.state == "succeeded":
        return
    reason = row.error or "no reason given"
    if row.amc_execution_id is None and reason.startswith(REFUSED_AT_SUBMISSION):
        raise UsageError(f"execution {row.id}: {reason}", hint="fix the SQL or the request")
    advice = f" {row.advice}" if row.advice else ""
    raise ExecutionFailed(
        f"execution {row.id} ended {row.state}: {reason}.{advice}".replace("..", ".")
    )


def _deliver(row: ExecutionRow, output: Path | None, fmt: str) -> None:
    if row.result_path is None:
        out.print(f"no result rows (state {row.state})")
        return
    if output is not None:
        count = export(Path(row.result_path), fmt, output)  # type: ignore[arg-type]
        err.print(f"{count} rows written to {output}")
        return
    import pyarrow.parquet as pq

    preview = pq.ParquetFile(row.result_path)
    batch = next(preview.iter_batches(batch_size=PREVIEW_ROWS), None)
    names = preview.schema_arrow.names
    rows = [] if batch is None else [list(r.values()) for r in batch.to_pylist()]
    table(f"{row.row_count} rows ({row.result_path})", names, rows)
    if row.advice:
        err.print(row.advice)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("results")(results)
    app.command("worker")(worker)
    app.add_typer(executions_app, name="executions")


def run(
    file: Annotated[
        Path | None, typer.Argument(help="The SQL file (omit with --workflow).")
    ] = None,
    instance: Annotated[str, typer.Option(help="AMC instance id or internal id.")] = "",
    workflow: Annotated[str | None, typer.Option(help="Run this saved workflow instead.")] = None,
    start: Annotated[str | None, typer.Option(help="Window start: date or date-time.")] = None,
    end: Annotated[
        str | None, typer.Option(help="Window end (a date-only end is inclusive).")
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            help="MOST_RECENT_DAY, MOST_RECENT_WEEK, CURRENT_MONTH, PREVIOUS_MONTH or ALL."
        ),
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone of the window.")] = "UTC",
    param: Annotated[list[str] | None, typer.Option(help="NAME=VALUE (text).")] = None,
    param_json: Annotated[list[str] | None, typer.Option(help="NAME=JSON.")] = None,
    params_file: Annotated[Path | None, typer.Option(help="JSON object of values.")] = None,
    output: Annotated[Path | None, typer.Option(help="Write the rows here.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, parquet, json or jsonl.")
    ] = None,
    timeout: Annotated[int | None, typer.Option(help="AMC execution timeout, 900-86400 s.")] = None,
    ignore_data_gaps: Annotated[bool, typer.Option(help="Run despite incomplete data.")] = False,
    filtered_column: Annotated[
        str | None,
        typer.Option(
            help="AMC's filteredMetricsDiscriminatorColumn: keep under-threshold rows folded "
            "into NULL dimensions and flagged in this column."
        ),
    ] = None,
    no_lint: Annotated[bool, typer.Option("--no-lint", help="Skip the local SQL check.")] = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return once submitted or queued.")
    ] = False,
    as_user: AsOption = None,
) -> None:
    """Validate, submit, wait, download every result file and write the rows."""
    if not instance:
        raise UsageError(
            "--instance is required", hint="give the AMC instance id (amc instances list)"
        )
    if (file is None) == (workflow is None):
        raise UsageError("give a SQL file or --workflow WORKFLOW_ID (one of them)")
    if timeout is not None and not 900 <= timeout <= 86400:
        raise UsageError(f"--timeout {timeout} is outside 900-86400 seconds")
    fmt_chosen = _output_format(output, fmt)
    if output is not None:
        _check_writable(output)
    elif fmt_chosen == "parquet" and fmt is not None:
        raise UsageError("Parquet needs --output", hint="add --output result.parquet")
    values = read_values(param or [], param_json or [], params_file)
    time_window = resolve_window(start=start, end=end, window=window, time_zone=timezone)
    sql = None
    prepared = None
    if file is not None:
        sql = _read_sql(file)
        if not no_lint:
            raise_for_errors(
                lint(sql, file=str(file), schema=KnownSchema.from_catalogue(), values=values)
            )
        prepared = prepare(sql, values)
    fields = time_window.amc_fields()
    options: dict[str, Any] = {"ignore_data_gaps": ignore_data_gaps}
    if filtered_column:
        if workflow is not None:
            raise UsageError(
                "--filtered-column applies to SQL files; a saved workflow keeps "
                "its own privacy settings"
            )
        options["filtered_column"] = filtered_column
    if timeout is not None:
        options["timeout_seconds"] = timeout
    settings = settings_for(as_user)

    async def body() -> int:
        async with runtime_for(settings) as runtime:
            target = await resolve_instance(runtime, settings.user, instance)
            await _require_token(runtime, settings.user)
            spec = RunSpec(
                instance=target,
                sql=prepared.sql if prepared else None,
                workflow_id=workflow,
                start=fields.get("timeWindowStart"),
                end=fields.get("timeWindowEnd"),
                window_type=fields["timeWindowType"],
                time_zone=fields["timeWindowTimeZone"],
                parameter_values=dict(prepared.parameter_values)
                if prepared
                else {k: v.value for k, v in values.items()},
                input_parameters=[dict(p) for p in prepared.input_parameters] if prepared else [],
                options=options,
            )
            user_id = await runtime.store.ensure_user(settings.user)
            execution_id = await enqueue(runtime.store, user_id, spec)
            sys.stdout.write(execution_id + "\n")
            sys.stdout.flush()
            engine = runtime.engine()
            condition = submitted_or_waiting if no_wait else finished
            row = await _follow_detachable(engine, execution_id, condition)
            if row is None:
                return 130
            if no_wait:
                return 0
            _outcome(row)
            _deliver(row, output, fmt_chosen)
            return 0

    raise typer.Exit(run_async(body))


async def _require_token(runtime: Runtime, email: str) -> None:
    if await runtime.store.token_row(email) is None:
        raise UsageError(
            f"no stored token for {email}",
            hint="run `amc auth login` or `amc auth add-token` first",
        )


async def _follow_detachable(engine: Any, execution_id: str, condition: Any) -> ExecutionRow | None:
    """Follow until `condition`; Ctrl-C detaches (the execution goes on) and returns None."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(follow(engine, execution_id, until=condition, on_change=_progress))
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        await engine.store.update_execution(
            execution_id, engine.owner, lease_owner=None, lease_expires_at=None
        )
        err.print(
            f"detached: execution {execution_id} goes on; "
            f"`amc executions wait {execution_id}` or `amc worker` finishes it"
        )
        return None
    finally:
        loop.remove_signal_handler(signal.SIGINT)


@executions_app.command("list")
def executions_list(
    instance: Annotated[str | None, typer.Option(help="Only this instance.")] = None,
    state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_user: AsOption = None,
) -> None:
    """List this user's executions, newest first."""
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings) as runtime:
            user_id = await runtime.store.ensure_user(settings.user)
            target = await resolve_instance(runtime, settings.user, instance) if instance else None
            rows = await runtime.store.list_executions(
                user_id=user_id,
                instance_pk=target.id if target else None,
                states=[state] if state else None,
            )
            names = {i.id: i for i in await runtime.store.list_instances(user_id)}
            items = [execution_json(r, names.get(r.instance_id)) for r in rows]
        if as_json:
            print_json(items)
            return
        table(
            None,
            ["id", "instance", "state", "amc", "window", "rows", "created"],
            [
                [
                    i["id"],
                    i["instance_id"],
                    i["state"],
                    i["amc_status"],
                    _window_text(i),
                    i["row_count"],
                    i["created_at"],
                ]
                for i in items
            ],
        )

    run_async(body)


def _window_text(item: dict[str, Any]) -> str:
    start = item["time_window_start"] or item["time_window_type"]
    return f"{start} .. {item['time_window_end'] or ''}"


async def _owned(runtime: Runtime, email: str, execution_id: str) -> ExecutionRow:
    row = await runtime.store.get_execution(execution_id)
    user_id = await runtime.store.ensure_user(email)
    if row is None or row.user_id != user_id:
        raise UsageError(f"unknown execution {execution_id}", hint="see `amc executions list`")
    return row


@executions_app.command("show")
def executions_show(
    execution_id: Annotated[str, typer.Argument(help="Internal execution id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_user: AsOption = None,
) -> None:
    """One execution in detail."""
    settings = settings_for(as_user)

    async def body() -> dict[str, Any]:
        async with runtime_for(settings) as runtime:
            row = await _owned(runtime, settings.user, execution_id)
            return execution_json(row, await runtime.store.instance_by_pk(row.instance_id))

    item = run_async(body)
    if as_json:
        print_json(item)
        return
    for key, value in item.items():
        out.print(f"{key:18} {'' if value is None else value}")


@executions_app.command("wait")
def executions_wait(
    execution_id: Annotated[str, typer.Argument(help="Internal execution id.")],
    as_user: AsOption = None,
) -> None:
    """Drive an execution to its end (any `amc worker` may share the work)."""
    settings = settings_for(as_user)

    async def body() -> int:
        async with runtime_for(settings) as runtime:
            await _owned(runtime, settings.user, execution_id)
            row = await _follow_detachable(runtime.engine(), execution_id, finished)
            if row is None:
                return 130
            _outcome(row)
            out.print(f"{row.id} succeeded: {row.row_count} rows in {row.result_path}")
            return 0

    raise typer.Exit(run_async(body))


@executions_app.command("cancel")
def executions_cancel(
    execution_id: Annotated[str, typer.Argument(help="Internal execution id.")],
    as_user: AsOption = None,
) -> None:
    """Cancel at AMC (or locally while still queued)."""
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings) as runtime:
            row = await _owned(runtime, settings.user, execution_id)
            if row.terminal or row.state == "downloading":
                raise ExecutionFailed(
                    f"execution {execution_id} has already finished "
                    f"({row.state}); nothing to cancel",
                    remedy="see `amc executions show` for its outcome",
                )
            row = await runtime.engine().cancel(execution_id)
            out.print(f"{row.id} {row.state}")

    run_async(body)


def results(
    execution_id: Annotated[str, typer.Argument(help="Internal execution id.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, parquet, json or jsonl.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    as_user: AsOption = None,
) -> None:
    """Write an execution's rows (CSV to stdout by default)."""
    chosen = _output_format(output, fmt)
    if chosen == "parquet" and output is None:
        raise UsageError("Parquet needs --output", hint="add --output result.parquet")
    if output is not None:
        _check_writable(output)
    settings = settings_for(as_user)

    async def body() -> ExecutionRow:
        async with runtime_for(settings) as runtime:
            return await _owned(runtime, settings.user, execution_id)

    row = run_async(body)
    if row.state != "succeeded" or row.result_path is None:
        if row.state == "succeeded":
            raise ExecutionFailed(
                f"execution {execution_id} produced no result file",
                remedy="a dry run or skipPublish run has no rows",
            )
        raise ExecutionFailed(
            f"execution {execution_id} is {row.state}; results exist only after it succeeded",
            remedy=f"amc executions wait {execution_id}",
        )
    target: Any = output if output is not None else sys.stdout.buffer
    export(Path(row.result_path), chosen, target)  # type: ignore[arg-type]


def worker(as_user: AsOption = None) -> None:
    """The background engine (submission, tracking, downloads, token refresh) until stopped."""
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings) as runtime:
            instance = Worker(runtime, runtime.engine())
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, instance.stop)
            err.print(
                f"worker {instance.engine.owner} started "
                f"({datetime.now(UTC).strftime('%H:%M:%SZ')})"
            )
            await instance.run()
            err.print("worker stopped")

    run_async(body)
