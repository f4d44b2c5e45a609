"""Collections (backfills and batches): one SQL file or saved workflow over windows x instances,
one execution per cell through the same checks and engine as `amc run`.

Every cell's execution is created with the collection, in one transaction, so the engine drives
them like any run (budgets, leases, idempotent create, results) and a crash or restart never
loses or repeats one. A SQL file is pushed first as a saved workflow on each instance (saved
runs do not count against AMC's ad-hoc daily quota). The collection's state is read from its
cells (engine/collections.py); `amc worker` or `amc serve` drive collections.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from amc_manager.client import ExecutionFailed
from amc_manager.engine.collections import (
    CellState,
    CollectionLoop,
    CollectionState,
    cell_state,
    cell_totals,
    derive_state,
)
from amc_manager.engine.jobs import RunSpec, new_execution, sql_hash
from amc_manager.engine.notify import post_event, safe_url
from amc_manager.errors import UsageError
from amc_manager.service.access import actor, client_for, resolve_instance
from amc_manager.service.checks import RunOptions, WindowInput, check_sql
from amc_manager.service.datasources import schema_for
from amc_manager.service.errors import Conflict, reading_results
from amc_manager.service.executions import iso
from amc_manager.service.lookup import by_id_or_prefix, require_creator
from amc_manager.service.runtime import Runtime
from amc_manager.service.workers import no_worker
from amc_manager.service.workflows import push_to_each
from amc_manager.sql import ParamValue, Problem, TimeWindow
from amc_manager.sql.periods import parse_every, resolve_relative, split
from amc_manager.sql.windows import AMC_FORMAT
from amc_manager.store.collections import CellRow, CollectionRow, NewCell, NewCollection
from amc_manager.store.rows import InstanceRow

MAX_CELLS = 5000
NO_WORKER = no_worker("drive collections")


@dataclass(frozen=True)
class CollectionRequest:
    """A collection as any front end asks for it."""

    instances: Sequence[str]
    window: WindowInput
    every: str | None = None
    sql: str | None = None
    source: str = "<sql>"
    workflow_id: str | None = None
    values: Mapping[str, ParamValue] = field(default_factory=dict)
    name: str | None = None
    notify_url: str | None = None
    lint: bool = True


@dataclass(frozen=True)
class Created:
    collection_id: str
    warnings: list[Problem]


@dataclass(frozen=True)
class CellView:
    row: CellRow

    def to_json(self) -> dict[str, Any]:
        c = self.row
        return {
            "window_start": c.window_start,
            "window_end": c.window_end,
            "instance_id": c.instance_id,
            "state": cell_state(c.state).value,
            "execution_id": c.execution_id,
            "execution_state": c.state.value,
            "amc_status": c.amc_status,
            "row_count": c.row_count,
            "attempts": c.attempts,
            "error": c.error if cell_state(c.state) != CellState.SUCCEEDED else None,
        }


@dataclass(frozen=True)
class CollectionView:
    """A collection as every front end shows it; `cells` only when asked for."""

    row: CollectionRow
    state: CollectionState
    totals: dict[str, int]
    instances: list[str]
    windows: int
    cells: tuple[CellView, ...] | None = None

    @property
    def id(self) -> str:
        return self.row.id

    def to_json(self) -> dict[str, Any]:
        r = self.row
        item: dict[str, Any] = {
            "id": r.id,
            "name": r.name,
            "state": self.state.value,
            "reason": r.reason,
            "workflow_id": r.workflow_id,
            "source": r.source,
            "sql_hash": r.sql_hash,
            "every": r.every,
            "time_window_start": r.window_start,
            "time_window_end": r.window_end,
            "time_zone": r.time_zone,
            "parameters": r.parameter_values,
            "instances": self.instances,
            "windows": self.windows,
            "cells_total": sum(self.totals.values()),
            "totals": self.totals,
            "notify_url": safe_url(r.notify_url) if r.notify_url else None,
            "notified_at": iso(r.notified_at),
            "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at),
            "finished_at": iso(r.ended_at) if self.state.final else None,
        }
        if self.cells is not None:
            item["row_count"] = sum(c.row.row_count or 0 for c in self.cells)
            item["coverage"] = coverage(self.cells)
            item["cells"] = [c.to_json() for c in self.cells]
        return item


def coverage(cells: Sequence[CellView]) -> dict[str, Any]:
    """Which windows have every instance's rows, and which cells are still missing."""
    by_window: dict[tuple[str, str], list[CellView]] = {}
    for cell in cells:
        by_window.setdefault((cell.row.window_start, cell.row.window_end), []).append(cell)
    done = [w for w, group in by_window.items() if all(_succeeded(c) for c in group)]
    return {
        "windows_total": len(by_window),
        "windows_complete": len(done),
        "cells_total": len(cells),
        "cells_succeeded": sum(1 for c in cells if _succeeded(c)),
        "missing": [
            {
                "window_start": c.row.window_start,
                "window_end": c.row.window_end,
                "instance_id": c.row.instance_id,
                "state": cell_state(c.row.state).value,
            }
            for c in cells
            if not _succeeded(c)
        ],
    }


def _succeeded(cell: CellView) -> bool:
    return cell_state(cell.row.state) == CellState.SUCCEEDED


# --- create -----------------------------------------------------------------------------------


async def create(
    runtime: Runtime, email: str, request: CollectionRequest, *, now: datetime | None = None
) -> Created:
    """Check everything as `amc run` does, push a SQL file as a saved workflow on each
    instance, then store the collection with every cell's queued execution at once."""
    moment = now or datetime.now(UTC)
    _check_request(request)
    every = parse_every(request.every) if request.every else None
    window = _window_input(request.window, moment)
    me = await actor(runtime, email)
    targets = await _targets(runtime, email, request.instances)
    schema = None
    if request.sql is not None and request.lint:
        schema = await schema_for(runtime, email, targets[0].id)
    checked = check_sql(
        request.sql,
        source=request.source,
        values=request.values,
        window=window,
        schema=schema,
        lint_sql=request.lint,
        now=moment,
    )
    checked.raise_for_errors()
    assert checked.window is not None
    windows = split(checked.window, every)
    if len(windows) * len(targets) > MAX_CELLS:
        raise UsageError(
            f"{len(windows)} windows x {len(targets)} instances is more than {MAX_CELLS} cells",
            hint="use a longer --every, or split the collection",
        )
    if checked.prepared is not None:
        workflow_id = await push_to_each(
            runtime,
            email,
            [t.id for t in targets],
            workflow_id=_workflow_id(checked.prepared.sql),
            sql=checked.prepared.sql,
            source=request.source,
        )
        values: dict[str, Any] = dict(checked.prepared.parameter_values)
    else:
        assert request.workflow_id is not None
        workflow_id = request.workflow_id
        values = {k: v.value for k, v in request.values.items()}
    options = RunOptions().stored()
    cells = [
        NewCell(index, *_bounds(w), new_execution(me.id, _spec(t, w, workflow_id, values, options)))
        for index, w in enumerate(windows)
        for t in targets
    ]
    start, end = _bounds(checked.window)
    collection_id = await runtime.store.add_collection(
        NewCollection(
            user_id=me.id,
            workflow_id=workflow_id,
            time_zone=checked.window.time_zone,
            window_start=start,
            window_end=end,
            name=request.name,
            source=request.source if request.sql is not None else None,
            sql_hash=sql_hash(checked.prepared.sql) if checked.prepared else None,
            every=every.name if every else None,
            parameter_values=values,
            options=options,
            notify_url=request.notify_url,
        ),
        cells,
    )
    return Created(collection_id, checked.warnings)


def _check_request(request: CollectionRequest) -> None:
    if (request.sql is None) == (request.workflow_id is None):
        raise UsageError("give a SQL file or --workflow WORKFLOW_ID (one of them)")
    if not request.instances:
        raise UsageError("no instance given", hint="give --instance ID (repeat it for a batch)")
    if not request.window.given:
        raise UsageError(
            "no time window given",
            hint="give --start and --end (with --every to split them), or --window TYPE",
        )
    if request.every and request.window.window:
        raise UsageError(
            "--every splits --start/--end, not a relative --window",
            hint="give --start and --end with --every",
        )
    if request.notify_url is not None and not request.notify_url.startswith(
        ("http://", "https://")
    ):
        raise UsageError(
            f"--notify {safe_url(request.notify_url)} is not an http(s) URL",
            hint="give the receiver's URL, e.g. https://example.com/hooks/amc",
        )


def _window_input(window: WindowInput, now: datetime) -> WindowInput:
    """A relative `--window` frozen into explicit bounds now (contracts.md)."""
    if window.window is None:
        return window
    from amc_manager.sql.windows import resolve_window

    # START/END given too are refused with `amc run`'s words, never silently dropped
    kind = resolve_window(
        start=window.start, end=window.end, window=window.window, time_zone=window.time_zone
    ).window_type
    frozen = resolve_relative(kind, window.time_zone or "UTC", now)
    start, end = _bounds(frozen)
    return WindowInput(start=start, end=end, time_zone=frozen.time_zone)


async def _targets(runtime: Runtime, email: str, refs: Sequence[str]) -> list[InstanceRow]:
    targets: dict[str, InstanceRow] = {}
    for ref in refs:
        target = await resolve_instance(runtime, email, ref)
        await client_for(runtime, email, target)  # some connected user's token reaches it
        targets.setdefault(target.id, target)
    return list(targets.values())


def _workflow_id(sql: str) -> str:
    """One saved workflow per SQL text: a collection made again from the same file reuses it."""
    return "amc-collection-" + hashlib.sha256(sql.encode("utf-8")).hexdigest()[:16]


def _bounds(window: TimeWindow) -> tuple[str, str]:
    assert window.start is not None and window.end is not None
    return window.start.strftime(AMC_FORMAT), window.end.strftime(AMC_FORMAT)


def _spec(
    target: InstanceRow,
    window: TimeWindow,
    workflow_id: str,
    values: dict[str, Any],
    options: dict[str, Any],
) -> RunSpec:
    start, end = _bounds(window)
    return RunSpec(
        instance=target,
        workflow_id=workflow_id,
        start=start,
        end=end,
        window_type="EXPLICIT",
        time_zone=window.time_zone,
        parameter_values=dict(values),
        options=dict(options),
    )


# --- reading ----------------------------------------------------------------------------------


async def find_collection(
    runtime: Runtime, email: str, ref: str, *, full: bool = False
) -> CollectionRow:
    """A full id or a unique prefix (6+ characters) among the collections the user may see
    (every instance of it usable; admins see all). Any other is unknown (REST's 404)."""
    me = await actor(runtime, email)
    scope = None if me.is_admin else me.id
    store = runtime.store

    async def visible(row: CollectionRow) -> bool:
        return scope is None or await store.collection_visible(row.id, me.id)

    async def prefixed(prefix: str) -> list[str]:
        return await store.collection_ids(visible_to=scope, prefix=prefix)

    return await by_id_or_prefix(
        ref,
        kind="collection",
        full=full,
        get=store.get_collection,
        visible=visible,
        prefixed=prefixed,
        listed_by="amc collections list",
    )


async def show(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> CollectionView:
    """One collection with every cell and its coverage."""
    row = await find_collection(runtime, email, ref, full=full)
    return await _view(runtime, row)


async def _view(runtime: Runtime, row: CollectionRow) -> CollectionView:
    cells = tuple(CellView(c) for c in await runtime.store.collection_cells(row.id))
    totals = dict.fromkeys((c.value for c in CellState), 0)
    for cell in cells:
        totals[cell_state(cell.row.state).value] += 1
    return CollectionView(
        row,
        derive_state(row.state, totals),
        totals,
        sorted({c.row.instance_id for c in cells}),
        len({c.row.window_index for c in cells}),
        cells,
    )


async def list_collections(
    runtime: Runtime,
    email: str,
    *,
    limit: int | None = None,
    before: tuple[float, str] | None = None,
) -> list[CollectionView]:
    """The collections the user may see, newest first, with totals per cell state."""
    me = await actor(runtime, email)
    rows = await runtime.store.list_collections(
        visible_to=None if me.is_admin else me.id, limit=limit, before=before
    )
    counts = await runtime.store.cell_state_counts([r.id for r in rows])
    views = []
    for row in rows:
        totals = cell_totals(counts.get(row.id, {}))
        cells = await runtime.store.collection_cells(row.id)
        views.append(
            CollectionView(
                row,
                derive_state(row.state, totals),
                totals,
                sorted({c.instance_id for c in cells}),
                len({c.window_index for c in cells}),
            )
        )
    return views


async def visible_ids(runtime: Runtime, email: str) -> list[str]:
    me = await actor(runtime, email)
    return await runtime.store.collection_ids(visible_to=None if me.is_admin else me.id)


# --- changing -----------------------------------------------------------------------------


async def _own(runtime: Runtime, email: str, ref: str, full: bool, verb: str) -> CollectionRow:
    row = await find_collection(runtime, email, ref, full=full)
    await require_creator(
        runtime, email, kind="collection", row_id=row.id, creator_id=row.user_id, verb=verb
    )
    return row


async def _finished(runtime: Runtime, row: CollectionRow, verb: str) -> None:
    view = await _view(runtime, row)
    if view.state.final:
        raise ExecutionFailed(
            f"collection {row.id} has already ended ({view.state.value}); nothing to {verb}",
            hint=f"`amc collections retry {row.id}` runs its failed cells again"
            if view.state != CollectionState.COMPLETE
            else f"see `amc collections show {row.id}`",
        )


async def pause(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> CollectionView:
    """Queued cells wait (nothing more is submitted); submitted ones run on."""
    row = await _own(runtime, email, ref, full, "pause")
    await _finished(runtime, row, "pause")
    await runtime.store.set_collection_state(row.id, "paused", reason="paused by the user")
    return await show(runtime, email, row.id, full=True)


async def resume(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> CollectionView:
    """Queued cells are submitted again (a creator still without access pauses it again)."""
    row = await _own(runtime, email, ref, full, "resume")
    await _finished(runtime, row, "resume")
    await runtime.store.set_collection_state(row.id, "running", only_from=("paused",))
    return await show(runtime, email, row.id, full=True)


async def cancel(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> CollectionView:
    """No more cells start; every open cell is cancelled (at AMC once submitted)."""
    row = await _own(runtime, email, ref, full, "cancel")
    await _finished(runtime, row, "cancel")
    await runtime.store.set_collection_state(row.id, "cancelled", reason="cancelled by the user")
    engine = runtime.engine()
    for cell in await runtime.store.collection_cells(row.id):
        if cell_state(cell.state).open:
            await engine.cancel(cell.execution_id, by=email)
    return await show(runtime, email, row.id, full=True)


async def retry(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> CollectionView:
    """A new execution for every failed, cancelled or rejected cell, and only those."""
    row = await _own(runtime, email, ref, full, "retry")
    made = await runtime.store.retry_cells(row.id)
    if not made:
        raise Conflict(
            f"collection {row.id} has no failed, cancelled or rejected cell to retry",
            hint=f"see `amc collections show {row.id}`",
        )
    return await show(runtime, email, row.id, full=True)


async def wait(
    runtime: Runtime,
    email: str,
    ref: str,
    *,
    on_change: Callable[[CollectionView], None] | None = None,
    tick: float = 1.0,
) -> CollectionView:
    """Until the collection is complete, failed or cancelled (its cells all settled)."""
    row = await find_collection(runtime, email, ref)
    last: tuple[str, tuple[int, ...]] | None = None
    while True:
        view = await show(runtime, email, row.id, full=True)
        seen = (view.state.value, tuple(view.totals.values()))
        if on_change is not None and seen != last:
            on_change(view)
        last = seen
        if view.state.final:
            return view
        await asyncio.sleep(tick)


def outcome_error(view: CollectionView) -> ExecutionFailed | None:
    """None when complete; else what `wait` reports (exit 1)."""
    if view.state == CollectionState.COMPLETE:
        return None
    t = view.totals
    return ExecutionFailed(
        f"collection {view.id} ended {view.state.value}: {t['succeeded']} cells succeeded, "
        f"{t['failed']} failed, {t['cancelled']} cancelled, {t['rejected']} rejected",
        hint=f"`amc collections retry {view.id}` runs the others again",
    )


# --- results ----------------------------------------------------------------------------------


async def results(
    runtime: Runtime,
    email: str,
    ref: str,
    *,
    fmt: str,
    output: Path | BinaryIO,
    folder: bool = False,
) -> int:
    """Every row of the succeeded cells as one dataset (window_start, window_end, instance_id
    first): CSV to `output` (a path or stream), one Parquet file, or with `folder` a Parquet
    dataset partitioned by window. The rows written."""
    from amc_manager.engine import combine

    row = await find_collection(runtime, email, ref)
    parts = [
        combine.Part(c.window_start, c.window_end, c.instance_id, c.result_path)
        for c in await runtime.store.collection_cells(row.id)
        if c.state.value == "succeeded" and c.result_path is not None
    ]
    opener = _opener(runtime)
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"unknown format {fmt!r}", hint="use csv or parquet")
    if folder:
        if not isinstance(output, Path):
            raise UsageError("a dataset folder needs --output FOLDER/")
        return await asyncio.to_thread(combine.write_folder, parts, output, opener)
    return await asyncio.to_thread(combine.write_file, parts, fmt, output, opener)


def _opener(runtime: Runtime) -> Callable[[str], Any]:
    """How a result file is read: through result storage (a local folder or S3), wherever
    the store says each one was kept; its errors as the application layer's."""

    def open_input(location: str) -> Any:
        with reading_results("a cell of the collection"):
            return runtime.results.open_input(location)

    return open_input


# --- the worker's loop ----------------------------------------------------------------------


def collection_loop(
    runtime: Runtime, *, post: Callable[..., Awaitable[bool]] = post_event
) -> CollectionLoop:
    """The worker's collections loop over this process's engine (one pass a second, scaled);
    webhooks are signed with AMC_SECRET_KEY and sent by `post`."""
    from amc_manager.service.keys import webhook_key

    engine = runtime.engine()
    return CollectionLoop(
        runtime.store,
        webhook_key(runtime),
        interval=engine.config.scaled(1.0),  # the worker keeps a floor (engine.worker)
        post=post,
    )
