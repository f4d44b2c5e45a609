"""Running AMC SQL: check, queue, follow, detach, cancel, and the typed outcome of a run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from amc_manager.client import ExecutionFailed
from amc_manager.engine.jobs import enqueue, finished, follow, submitted_or_waiting
from amc_manager.errors import AmcManagerError, UsageError
from amc_manager.service.access import actor, client_for, resolve_instance
from amc_manager.service.checks import RunOptions, WindowInput, check_sql, run_spec
from amc_manager.service.datasources import schema_for
from amc_manager.service.errors import Conflict, NotPermitted
from amc_manager.service.executions import ExecutionView, find_execution, view_of
from amc_manager.service.runtime import Runtime
from amc_manager.sql import ParamValue, Problem
from amc_manager.store.rows import ExecutionRow, ExecutionState, FailureKind

REJECTED_ADVICE = "change the query or the time window instead of re-running the same one"


@dataclass(frozen=True)
class RunRequest:
    """One run as any front end asks for it: ad-hoc SQL or a saved workflow, on an instance."""

    instance: str
    window: WindowInput
    sql: str | None = None
    source: str = "<sql>"  # the file name problems are reported against
    workflow_id: str | None = None
    values: Mapping[str, ParamValue] = field(default_factory=dict)
    options: RunOptions = field(default_factory=RunOptions)
    lint: bool = True


@dataclass(frozen=True)
class Submitted:
    """A queued run: its id and the warnings the check found (errors refuse the run);
    `replayed`: an earlier request with the same idempotency key made it."""

    execution_id: str
    warnings: list[Problem]
    replayed: bool = False


@dataclass(frozen=True)
class Idempotency:
    """REST's `Idempotency-Key` (unique per user) and a hash of the request it came with."""

    key: str
    request_hash: str


async def submit(
    runtime: Runtime,
    email: str,
    request: RunRequest,
    *,
    now: datetime | None = None,
    idempotency: Idempotency | None = None,
) -> Submitted:
    """Check the request exactly as `validate` does, then queue it; nothing is stored when
    anything is wrong. With `idempotency`, a key the user used before answers with the
    execution it made (even when both requests race: the store keeps the key unique), or
    Conflict when it came with another request."""
    if idempotency is not None:
        earlier = await _replay(runtime, email, idempotency)
        if earlier is not None:
            return earlier
    if (request.sql is None) == (request.workflow_id is None):
        raise UsageError("give a SQL file or --workflow WORKFLOW_ID (one of them)")
    if not request.window.given:
        raise UsageError(
            "no time window given", hint="give --start and --end, or --window MOST_RECENT_WEEK"
        )
    request.options.check(saved_workflow=request.workflow_id is not None)
    target = await resolve_instance(runtime, email, request.instance)
    await client_for(runtime, email, target)  # some connected user's token reaches it
    schema = await schema_for(runtime, email, request.instance) if request.lint else None
    checked = check_sql(
        request.sql,
        source=request.source,
        values=request.values,
        window=request.window,
        schema=schema,
        lint_sql=request.lint,
        now=now,
    )
    checked.raise_for_errors()
    assert checked.window is not None
    spec = run_spec(
        target,
        checked.prepared,
        checked.window,
        request.options.stored(),
        workflow_id=request.workflow_id,
        values=request.values,
    )
    key = None if idempotency is None else idempotency.key
    digest = None if idempotency is None else idempotency.request_hash
    me = await actor(runtime, email)
    execution_id = await enqueue(
        runtime.store, me.id, spec, idempotency_key=key, request_hash=digest
    )
    if idempotency is not None:  # a racing request with the key may have stored it first
        await _replay(runtime, email, idempotency)
    return Submitted(execution_id, checked.warnings)


async def _replay(runtime: Runtime, email: str, idempotency: Idempotency) -> Submitted | None:
    me = await actor(runtime, email)
    row = await runtime.store.execution_by_idempotency_key(me.id, idempotency.key)
    if row is None:
        return None
    if row.request_hash != idempotency.request_hash:
        raise Conflict(
            f"Idempotency-Key {idempotency.key!r} was used for another request "
            f"(execution {row.id})",
            hint="use a new key for a new request",
        )
    return Submitted(row.id, [], replayed=True)


async def follow_run(
    runtime: Runtime,
    execution_id: str,
    *,
    until_submitted: bool = False,
    on_change: Callable[[ExecutionView], None] | None = None,
) -> ExecutionView:
    """Drive the run (sharing the work with any worker) until it is submitted or finished."""
    first = await find_execution_row(runtime, execution_id)
    instance_id = (await view_of(runtime, first)).instance_id

    def changed(row: ExecutionRow) -> None:
        if on_change is not None:
            on_change(ExecutionView(row, instance_id))

    condition = submitted_or_waiting if until_submitted else finished
    row = await follow(runtime.engine(), execution_id, until=condition, on_change=changed)
    return await view_of(runtime, row)


async def find_execution_row(runtime: Runtime, execution_id: str) -> ExecutionRow:
    row = await runtime.store.get_execution(execution_id)
    if row is None:
        raise UsageError(f"unknown execution {execution_id}", hint="see `amc executions list`")
    return row


async def detach(runtime: Runtime, execution_id: str) -> None:
    """Stop following: this process gives up its lease, and any worker carries the run on."""
    await runtime.engine().detach(execution_id)


async def wait(
    runtime: Runtime,
    email: str,
    ref: str,
    *,
    on_change: Callable[[ExecutionView], None] | None = None,
) -> ExecutionView:
    """Drive an execution the user may see to its end."""
    row = await find_execution(runtime, email, ref)
    return await follow_run(runtime, row.id, on_change=on_change)


async def cancel(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> ExecutionView:
    """Cancel at AMC (or locally while still queued): for its creator and admins; a finished
    run cannot be cancelled."""
    row = await find_execution(runtime, email, ref, full=full)
    me = await actor(runtime, email)
    if row.user_id != me.id and not me.is_admin:
        raise NotPermitted(
            f"only the user who created execution {row.id} or an admin may cancel it",
            hint="ask them or an admin",
        )
    if row.terminal or row.state == ExecutionState.DOWNLOADING:
        raise ExecutionFailed(
            f"execution {row.id} has already finished ({row.state}); nothing to cancel",
            hint="see `amc executions show` for its outcome",
        )
    return await view_of(runtime, await runtime.engine().cancel(row.id, by=email))


def outcome_error(view: ExecutionView) -> AmcManagerError | None:
    """None for success; else the error a front end reports, typed by the failure's kind:
    AMC refusing the request at submission is the request's fault (exit 2), the rest is
    accepted work that failed (exit 1)."""
    row = view.row
    if row.state == ExecutionState.SUCCEEDED:
        return None
    reason = (row.error or "no reason given").rstrip(".")
    if row.failure_kind == FailureKind.REFUSED:
        return UsageError(f"execution {row.id}: {reason}", hint="fix the SQL or the request")
    advice = row.advice or (REJECTED_ADVICE if row.state == ExecutionState.REJECTED else None)
    return ExecutionFailed(f"execution {row.id} ended {row.state}: {reason}", hint=advice or None)
