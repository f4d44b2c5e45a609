"""Executions as users see them: views, lookup by id prefix, the timeline, result files."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from amc_manager.client import ExecutionFailed
from amc_manager.errors import UsageError
from amc_manager.service.access import Actor, actor, resolve_instance
from amc_manager.service.errors import NotFound, ResultGone, reading_results
from amc_manager.service.lookup import MIN_PREFIX, by_id_or_prefix
from amc_manager.service.runtime import Runtime
from amc_manager.storage import Results
from amc_manager.store.rows import ExecutionEvent, ExecutionRow, ExecutionState, InstanceRow

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("csv", "parquet", "json", "jsonl")


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    # time.gmtime: a third of datetime's cost, and a list page formats 150 of these
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@dataclass(frozen=True)
class TimelineEntry:
    """One state change: the state reached (AMC's status beside it), when, and why."""

    state: ExecutionState
    amc_status: str | None
    at: float
    note: str | None

    @classmethod
    def of(cls, event: ExecutionEvent) -> TimelineEntry:
        return cls(event.state, event.amc_status, event.at, event.note)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "amc_status": self.amc_status,
            "at": iso(self.at),
            "note": self.note,
        }


@dataclass(frozen=True)
class ExecutionView:
    """An execution as every front end shows it (contracts.md, the `--json` object)."""

    row: ExecutionRow
    instance_id: str
    timeline: tuple[TimelineEntry, ...] = ()

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def state(self) -> ExecutionState:
        return self.row.state

    def to_json(self) -> dict[str, Any]:
        row = self.row
        item: dict[str, Any] = {
            "id": row.id,
            "amc_execution_id": row.amc_execution_id,
            "instance_id": self.instance_id,
            "state": row.state.value,
            "amc_status": row.amc_status,
            "workflow_id": row.workflow_id,
            "time_window_type": row.time_window_type,
            "time_window_start": row.time_window_start,
            "time_window_end": row.time_window_end,
            "time_zone": row.time_zone,
            "parameters": row.parameter_values,
            "sql_hash": row.sql_hash,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "finished_at": iso(row.finished_at),
            "row_count": row.row_count,
            "result_path": row.result_path,
            "error": row.error if row.state.terminal and row.state != "succeeded" else None,
            "failure_kind": row.failure_kind.value if row.failure_kind else None,
            "collection_id": row.collection_id,
            "advice": row.advice,
        }
        if self.timeline:
            item["timeline"] = [entry.to_json() for entry in self.timeline]
        return item


async def view_of(
    runtime: Runtime,
    row: ExecutionRow,
    *,
    instances: dict[str, InstanceRow] | None = None,
    timeline: bool = False,
) -> ExecutionView:
    instance = (instances or {}).get(row.instance_id) or await runtime.store.instance_by_pk(
        row.instance_id
    )
    events: tuple[TimelineEntry, ...] = ()
    if timeline:
        events = tuple(TimelineEntry.of(e) for e in await runtime.store.execution_events(row.id))
    return ExecutionView(row, instance.instance_id, events)


async def list_executions(
    runtime: Runtime,
    email: str,
    *,
    instance: str | None = None,
    state: str | None = None,
    limit: int | None = None,
    before: tuple[float, str] | None = None,
    me: Actor | None = None,
    collection: str | None = None,
    full_ids: bool = False,
) -> list[ExecutionView]:
    """The executions the user may see (of every instance they may use; an admin's: all),
    newest first, optionally of one instance, in one state or of one collection (every
    attempt of its cells; an id or prefix, or with `full_ids` the full id only, as the REST
    API takes); `limit` of them older than `before` (the last
    page's last `(row.created_at, row.id)`: keyset paging). `me`: the user, already read
    from the store for this request (the REST API's caller). Rows leave out what a list never
    shows (SQL, input parameters, options, result columns)."""
    states = [_state(state)] if state else None
    me = me or await actor(runtime, email)
    target = await resolve_instance(runtime, email, instance, to_run=False) if instance else None
    if collection is not None:
        from amc_manager.service.collections import find_collection

        found = await find_collection(runtime, email, collection, full=full_ids)
        rows = await runtime.store.list_executions(
            visible_to=None if me.is_admin else me.id,
            instance_pk=target.id if target else None,
            states=states,
            limit=limit,
            before=before,
            collection_id=found.id,
        )
        instances = await runtime.store.instances_by_pks([r.instance_id for r in rows])
        return [ExecutionView(r, instances[r.instance_id].instance_id) for r in rows]
    pairs = await runtime.store.execution_page(
        visible_to=None if me.is_admin else me.id,
        instance_pk=target.id if target else None,
        states=states,
        limit=limit,
        before=before,
    )
    return [ExecutionView(row, amc_instance_id) for row, amc_instance_id in pairs]


def _state(name: str) -> ExecutionState:
    try:
        return ExecutionState(name.lower())
    except ValueError:
        raise UsageError(
            f"unknown state {name!r}",
            hint="use one of " + ", ".join(s.value for s in ExecutionState),
        ) from None


async def visible_ids(runtime: Runtime, email: str) -> list[str]:
    """Every execution id the user may see (what prefixes must be unique among)."""
    me = await actor(runtime, email)
    return await runtime.store.execution_ids(visible_to=None if me.is_admin else me.id)


async def find_execution(
    runtime: Runtime, email: str, ref: str, *, full: bool = False, me: Actor | None = None
) -> ExecutionRow:
    """A full id, or a unique prefix of at least 6 characters, among the executions the user
    may see (`full`: the full id only, as the REST API takes). Any other is unknown."""
    if full:
        return (await _visible(runtime, email, ref, me=me, timeline=False)).row
    me = await actor(runtime, email)
    scope = None if me.is_admin else me.id
    store = runtime.store

    async def visible(row: ExecutionRow) -> bool:
        return scope is None or await store.may_use(me.id, row.instance_id)

    async def prefixed(prefix: str) -> list[str]:
        return await store.execution_ids(visible_to=scope, prefix=prefix)

    return await by_id_or_prefix(
        ref,
        kind="execution",
        full=False,
        get=store.get_execution,
        visible=visible,
        prefixed=prefixed,
        listed_by="amc executions list",
    )


async def show_execution(
    runtime: Runtime, email: str, ref: str, *, full: bool = False, me: Actor | None = None
) -> ExecutionView:
    """One execution the user may see, with its timeline (`full`: by its full id only, in one
    store read with the access check in its query)."""
    if full:
        return await _visible(runtime, email, ref, me=me, timeline=True)
    row = await find_execution(runtime, email, ref)
    return await view_of(runtime, row, timeline=True)


async def _visible(
    runtime: Runtime, email: str, execution_id: str, *, me: Actor | None, timeline: bool
) -> ExecutionView:
    me = me or await actor(runtime, email)
    found = await runtime.store.execution_detail(
        execution_id, visible_to=None if me.is_admin else me.id, timeline=timeline
    )
    if found is None:
        raise NotFound(
            f"unknown execution {execution_id}",
            hint=f"give the full id or a prefix of at least {MIN_PREFIX} characters",
        )
    row, amc_instance_id, events = found
    return ExecutionView(row, amc_instance_id, tuple(TimelineEntry.of(e) for e in events))


def shortest_prefixes(
    ids: Sequence[str], among: Sequence[str], minimum: int = MIN_PREFIX
) -> dict[str, str]:
    """For each of `ids`, its shortest prefix of at least `minimum` characters that no other
    id in `among` shares (git's and docker's short ids). Sorted, only neighbours can clash."""
    ordered = sorted(set(among) | set(ids))
    short: dict[str, str] = {}
    for index, value in enumerate(ordered):
        need = minimum
        if index > 0:
            need = max(need, _common_prefix(value, ordered[index - 1]) + 1)
        if index + 1 < len(ordered):
            need = max(need, _common_prefix(value, ordered[index + 1]) + 1)
        short[value] = value[:need]
    return {i: short[i] for i in ids}


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def output_format(output: Path | None, fmt: str | None) -> str:
    """`--format`, else the output's extension, else CSV."""
    chosen = (fmt or (output.suffix.lstrip(".") if output else "") or "csv").lower()
    if chosen not in FORMATS:
        raise UsageError(f"unknown format {chosen!r}", hint=f"use one of {', '.join(FORMATS)}")
    return chosen


def prove_writable(output: Path) -> None:
    """Create and remove a file beside `output`, so a run never ends unable to deliver."""
    if output.is_dir():
        raise UsageError(f"cannot write --output {output}: it is a folder", hint="name a file")
    probe = output.parent / f".{output.name}.amc-probe"
    try:
        probe.touch(exist_ok=True)
        probe.unlink()
        if output.exists():
            with output.open("ab"):
                pass
    except OSError as exc:
        raise UsageError(
            f"cannot write --output {output}: {exc.strerror or 'not writable'}",
            hint="choose a path in an existing, writable folder",
        ) from None


def result_location(row: ExecutionRow) -> str:
    """Where a succeeded execution's Parquet file is kept (a path or `s3://...`: never shown
    over REST); ExecutionFailed (exit 1) when there is none."""
    if row.state != ExecutionState.SUCCEEDED:
        raise ExecutionFailed(
            f"execution {row.id} is {row.state}; results exist only after it succeeded",
            hint=f"amc executions wait {row.id}",
        )
    if row.result_path is None and row.result_columns is not None:  # kept, then pruned
        raise ResultGone(f"the result file of execution {row.id} was deleted by retention")
    if row.result_path is None:
        raise ExecutionFailed(
            f"execution {row.id} produced no result file",
            hint="a dry run or skipPublish run has no rows",
        )
    return row.result_path


@contextmanager
def open_result(results: Results, row: ExecutionRow) -> Iterator[pa.NativeFile]:
    """The stored result file of a succeeded execution, open for reading (blocking): wherever
    it was kept; ResultGone when retention or a person deleted it, StorageUnavailable when
    result storage cannot be reached."""
    location = result_location(row)
    with reading_results(f"execution {row.id}"):
        reader = results.open_input(location)
    with reader:
        yield reader


def export_rows(results: Results, row: ExecutionRow, fmt: str, target: Path | BinaryIO) -> int:
    """Write the result rows as csv, json, jsonl or parquet, read from result storage (wherever
    this result was kept); a failure is one clear error. Blocking: run it in a thread."""
    with open_result(results, row) as source:
        return export_opened(source, row, fmt, target)


def export_opened(source: Any, row: ExecutionRow, fmt: str, target: Path | BinaryIO) -> int:
    """`export_rows` from a result file already open (`open_result`). Blocking."""
    from amc_manager.engine.exports import export  # pyarrow: only when rows are written

    try:
        return export(source, fmt, target)  # type: ignore[arg-type]
    except OSError as exc:
        where = target if isinstance(target, Path) else "the output"
        raise ExecutionFailed(
            f"could not write the rows of {row.id} to {where}: {exc.strerror or exc}",
            hint=f"the result is kept; write it elsewhere with `amc results {row.id} --output`",
        ) from None


def preview(results: Results, row: ExecutionRow, limit: int) -> tuple[list[str], list[list[Any]]]:
    """Column names and the first `limit` rows of the result file (blocking)."""
    import pyarrow.parquet as pq  # only when rows are shown

    with open_result(results, row) as reader:
        source = pq.ParquetFile(reader)
        batch = next(source.iter_batches(batch_size=limit), None)
        rows = [] if batch is None else [list(r.values()) for r in batch.to_pylist()]
        return list(source.schema_arrow.names), rows
