"""`amc collections ...`: create, list, show, retry, pause, resume, cancel, wait, results."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    warn_without_worker,
)
from amc_manager.cli.runopts import (
    EndOption,
    NameOption,
    NoLintOption,
    ParamJsonOption,
    ParamOption,
    ParamsFileOption,
    SqlFileArgument,
    StartOption,
    WorkflowOption,
)

if TYPE_CHECKING:
    from amc_manager.service.collections import CollectionView

collections_app = typer.Typer(
    help="Collections: one query over many windows (backfills) and instances (batches).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="Collection id or a unique prefix (6+ characters).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(collections_app, name="collections")


@collections_app.command("create")
def create(
    file: SqlFileArgument = None,
    workflow: WorkflowOption = None,
    instance: Annotated[
        list[str] | None,
        typer.Option(metavar="ID", help="AMC instance id or internal id (repeat for a batch)."),
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    every: Annotated[
        str | None,
        typer.Option(
            metavar="UNIT",
            help="Split START..END into day, week (Monday), week:MON..week:SUN or month "
            "windows; partial first and last ones are kept.",
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            metavar="TYPE",
            help="A relative window instead (MOST_RECENT_WEEK, PREVIOUS_MONTH, ...), "
            "frozen into explicit bounds now.",
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option(metavar="TZ", help="IANA time zone of the windows.")
    ] = "UTC",
    param: ParamOption = None,
    param_json: ParamJsonOption = None,
    params_file: ParamsFileOption = None,
    name: NameOption = None,
    notify: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="POST a signed JSON event (X-AMC-Signature) when it completes or fails.",
        ),
    ] = None,
    no_lint: NoLintOption = False,
    as_user: AsOption = None,
) -> None:
    """Create a collection: one execution per (window, instance), driven by `amc worker`.

    The first line of stdout is the collection id. A SQL file is pushed first as a saved
    workflow on each instance (saved runs do not count against AMC's ad-hoc daily quota).
    """
    from amc_manager.service.checks import WindowInput, parse_values, read_sql
    from amc_manager.service.collections import CollectionRequest

    request = CollectionRequest(
        instances=list(instance or ()),
        window=WindowInput(start=start, end=end, window=window, time_zone=timezone),
        every=every,
        sql=read_sql(file) if file is not None else None,
        source=str(file) if file is not None else "<workflow>",
        workflow_id=workflow,
        values=parse_values(param or (), param_json or (), params_file),
        name=name,
        notify_url=notify,
        lint=not no_lint,
    )
    settings = settings_for(as_user)

    async def body() -> None:
        from amc_manager.service import collections
        from amc_manager.sql import render_text

        async with runtime_for(settings) as runtime:
            created = await collections.create(runtime, settings.user, request)
            if created.warnings:
                sys.stderr.write(render_text(created.warnings))
            emit(created.collection_id)
            await warn_without_worker(runtime, collections.NO_WORKER)

    run_async(body)


@collections_app.command("list")
def list_(as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """The collections you may see, newest first, with totals per cell state."""
    settings = settings_for(as_user)

    async def body() -> tuple[list[dict[str, Any]], dict[str, str]]:
        from amc_manager.service.collections import list_collections, visible_ids
        from amc_manager.service.executions import shortest_prefixes

        async with runtime_for(settings, calls_amc=False) as runtime:
            views = await list_collections(runtime, settings.user)
            short = shortest_prefixes(
                [v.id for v in views], await visible_ids(runtime, settings.user)
            )
        return [v.to_json() for v in views], short

    items, short = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["id", "state", "cells", "done", "failed", "window", "name"],
        [
            [
                short[i["id"]],
                i["state"],
                i["cells_total"],
                i["totals"]["succeeded"],
                i["totals"]["failed"] + i["totals"]["cancelled"] + i["totals"]["rejected"],
                _window_text(i),
                i["name"] or "",
            ]
            for i in items
        ],
        keep=3,
    )


def _window_text(item: dict[str, Any]) -> str:
    from amc_manager.cli.runs import window_text

    text = window_text(item)
    return f"{text} /{item['every']}" if item.get("every") else text


@collections_app.command("show")
def show(id_: IdArgument, as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """One collection: per cell its state, execution id and row count; totals per state."""
    settings = settings_for(as_user)

    async def body() -> tuple[dict[str, Any], dict[str, str]]:
        from amc_manager.service.collections import NO_WORKER
        from amc_manager.service.collections import show as shown
        from amc_manager.service.executions import shortest_prefixes, visible_ids

        async with runtime_for(settings, calls_amc=False) as runtime:
            item = (await shown(runtime, settings.user, id_)).to_json()
            if item["state"] in ("running", "paused"):
                await warn_without_worker(runtime, NO_WORKER)
            made = [c["execution_id"] for c in item["cells"]]
            return item, shortest_prefixes(made, await visible_ids(runtime, settings.user))

    item, short = run_async(body)
    if as_json:
        print_json(item)
        return
    _render(item, short)


def _render(item: dict[str, Any], short: dict[str, str]) -> None:
    for key in ("id", "name", "state", "reason", "workflow_id", "every", "time_zone"):
        if item.get(key) is not None:
            emit(f"{key:12} {item[key]}")
    emit(f"{'window':12} {_window_text(item)}")
    emit(f"{'instances':12} {', '.join(item['instances'])}")
    totals = ", ".join(f"{n} {state}" for state, n in item["totals"].items() if n)
    emit(f"{'cells':12} {item['cells_total']} ({totals}); {item['row_count']} rows")
    table(
        ["window", "instance", "state", "execution", "rows"],
        [
            [
                _cell_window(c),
                c["instance_id"],
                c["state"],
                short.get(c["execution_id"], c["execution_id"]),
                c["row_count"],
            ]
            for c in item["cells"]
        ],
        keep=3,
    )


def _cell_window(cell: dict[str, Any]) -> str:
    from amc_manager.cli.runs import window_text

    return window_text(
        {
            "time_window_start": cell["window_start"],
            "time_window_end": cell["window_end"],
            "time_window_type": "EXPLICIT",
        }
    )


def _change(verb: str, id_: str, as_user: str | None) -> None:
    settings = settings_for(as_user)

    async def body() -> CollectionView:
        from amc_manager.service import collections

        action = getattr(collections, verb)
        async with runtime_for(settings, calls_amc=verb == "cancel") as runtime:
            view: CollectionView = await action(runtime, settings.user, id_)
            return view

    view = run_async(body)
    open_cells = view.totals["queued"] + view.totals["running"]
    emit(f"{view.id} {view.state.value} ({open_cells} cells open)")


@collections_app.command("retry")
def retry(id_: IdArgument, as_user: AsOption = None) -> None:
    """Run the failed, cancelled and rejected cells again, each as a new execution."""
    _change("retry", id_, as_user)


@collections_app.command("pause")
def pause(id_: IdArgument, as_user: AsOption = None) -> None:
    """Submit no more cells (those at AMC run on) until `resume`."""
    _change("pause", id_, as_user)


@collections_app.command("resume")
def resume(id_: IdArgument, as_user: AsOption = None) -> None:
    """Submit the queued cells again."""
    _change("resume", id_, as_user)


@collections_app.command("cancel")
def cancel(id_: IdArgument, as_user: AsOption = None) -> None:
    """Cancel every open cell (at AMC once submitted); no more cells start."""
    _change("cancel", id_, as_user)


@collections_app.command("wait")
def wait(id_: IdArgument, as_user: AsOption = None) -> None:
    """Until the collection is complete, failed or cancelled; exit 0 only when complete."""
    settings = settings_for(as_user)

    def changed(view: CollectionView) -> None:
        t = view.totals
        progress(
            f"{view.id[:8]} {view.state.value}: {t['succeeded']}/{sum(t.values())} succeeded, "
            f"{t['running']} running, {t['queued']} queued"
        )

    async def body() -> int:
        from amc_manager.service import collections

        async with runtime_for(settings, calls_amc=False) as runtime:
            await warn_without_worker(runtime, collections.NO_WORKER)
            view = await collections.wait(runtime, settings.user, id_, on_change=changed)
        failure = collections.outcome_error(view)
        if failure is not None:
            raise failure
        emit(f"{view.id} complete: {view.totals['succeeded']} cells")
        return 0

    raise typer.Exit(run_async(body))


@collections_app.command("results")
def results(
    id_: IdArgument,
    output: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Write here instead of stdout; a folder (or a path ending in /) gets a "
            "Parquet dataset partitioned by window.",
        ),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", metavar="FORMAT", help="csv or parquet.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """All rows of the succeeded cells as one dataset, window_start, window_end and
    instance_id first (CSV to stdout by default; Parquet needs --output)."""
    from amc_manager.errors import UsageError

    target = Path(output) if output is not None else None
    folder = output is not None and (output.endswith(("/", "\\")) or Path(output).is_dir())
    chosen = (fmt or (target.suffix.lstrip(".") if target and not folder else "") or "csv").lower()
    if folder:
        chosen = "parquet"
    if chosen not in ("csv", "parquet"):
        raise UsageError(f"unknown format {chosen!r}", hint="use csv or parquet")
    if chosen == "parquet" and target is None:
        raise UsageError("Parquet needs --output", hint="add --output rows.parquet")
    settings = settings_for(as_user)

    async def body() -> int:
        from amc_manager.service.collections import results as combined

        async with runtime_for(settings, calls_amc=False) as runtime:
            out = target if target is not None else sys.stdout.buffer
            return await combined(
                runtime, settings.user, id_, fmt=chosen, output=out, folder=folder
            )

    existed = target is not None and target.exists()
    rows = run_async(body)
    if target is not None:
        if not existed and not folder:
            user_mode(target)
        say(f"{rows} rows written to {target}")
