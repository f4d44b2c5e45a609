"""Handing work to the engine and following it: what `amc run` and `amc executions wait` do."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amc_manager.client import ExecutionRequest
from amc_manager.store import ExecutionRow, ExecutionState, InstanceRow, NewExecution, Store

if TYPE_CHECKING:
    from amc_manager.engine.engine import Engine

S = ExecutionState
# AMC has the run (or had it: it ended).
SUBMITTED_STATES = (
    S.PENDING,
    S.RUNNING,
    S.DOWNLOADING,
    S.SUCCEEDED,
    S.FAILED,
    S.CANCELLED,
    S.REJECTED,
)


@dataclass(frozen=True)
class RunSpec:
    """One execution to run: ad-hoc SQL or a saved workflow, its window and parameters."""

    instance: InstanceRow
    sql: str | None = None
    workflow_id: str | None = None
    start: str | None = None
    end: str | None = None
    window_type: str = "EXPLICIT"
    time_zone: str = "UTC"
    parameter_values: dict[str, Any] = field(default_factory=dict)
    input_parameters: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def request(self) -> ExecutionRequest:
        """This run as AMC's create-execution request."""
        return amc_request(
            sql=self.sql,
            workflow_id=self.workflow_id,
            start=self.start,
            end=self.end,
            window_type=self.window_type,
            time_zone=self.time_zone,
            parameter_values=self.parameter_values,
            input_parameters=self.input_parameters,
            options=self.options,
        )


def amc_request(
    *,
    sql: str | None,
    workflow_id: str | None,
    start: str | None,
    end: str | None,
    window_type: str | None,
    time_zone: str,
    parameter_values: Mapping[str, Any],
    input_parameters: Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
) -> ExecutionRequest:
    """The one step from prepared SQL (or a saved workflow), a window and the run's options
    to AMC's request: queued runs (`Engine`) and AMC's dry run both go through it."""
    return ExecutionRequest(
        sql=sql,
        workflow_id=None if sql is not None else workflow_id,
        start=start,
        end=end,
        window_type=None if start else window_type,
        time_zone=time_zone,
        parameter_values=dict(parameter_values),
        input_parameters=[dict(p) for p in input_parameters],
        timeout_seconds=options.get("timeout_seconds"),
        ignore_data_gaps=bool(options.get("ignore_data_gaps")),
        require_synthetic_data=bool(options.get("require_synthetic_data")),
        disable_aggregation_controls=bool(options.get("disable_aggregation_controls")),
        dry_run=bool(options.get("dry_run")),
        privacy=(
            {"filteredMetricsDiscriminatorColumn": options["filtered_column"]}
            if options.get("filtered_column") and sql is not None
            else {}
        ),
    )


def sql_hash(sql: str | None) -> str | None:
    return None if sql is None else hashlib.sha256(sql.encode("utf-8")).hexdigest()


async def enqueue(
    store: Store,
    user_id: str,
    spec: RunSpec,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> str:
    """Store the execution as `queued`; nothing reaches AMC until the engine admits it. With
    an `idempotency_key` already used by the user, the id of the execution it made."""
    return await store.add_execution(
        new_execution(user_id, spec, idempotency_key=idempotency_key, request_hash=request_hash)
    )


def new_execution(
    user_id: str,
    spec: RunSpec,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> NewExecution:
    """The queued execution of `spec` as the store takes it (runs and collections' cells)."""
    return NewExecution(
        user_id=user_id,
        instance_id=spec.instance.id,
        adhoc=spec.sql is not None,
        sql=spec.sql,
        sql_hash=sql_hash(spec.sql),
        workflow_id=spec.workflow_id,
        input_parameters=spec.input_parameters,
        parameter_values=spec.parameter_values,
        time_window_type="EXPLICIT" if spec.start else spec.window_type,
        time_window_start=spec.start,
        time_window_end=spec.end,
        time_zone=spec.time_zone,
        options=spec.options,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


async def follow(
    engine: Engine,
    execution_id: str,
    *,
    until: Callable[[ExecutionRow], bool],
    on_change: Callable[[ExecutionRow], None] | None = None,
    tick: float = 0.2,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ExecutionRow:
    """Drive this execution (when no other process holds it) until `until(row)` holds.

    Time comes from the engine's clock; between passes it waits until the run is due, at
    least `tick` and at most five ticks (another process may move it meanwhile).
    """
    last_state = None
    while True:
        await engine.run_once(only={execution_id})
        row = await engine.store.get_execution(execution_id)
        if row is None:
            raise KeyError(execution_id)
        if on_change is not None and (row.state, row.amc_status) != last_state:
            last_state = (row.state, row.amc_status)
            on_change(row)
        if until(row):
            return row
        due_in = row.next_check_at - engine.clock()
        await sleep(min(max(due_in, tick), 5 * tick))


def finished(row: ExecutionRow) -> bool:
    return row.terminal


def submitted_or_waiting(row: ExecutionRow) -> bool:
    """`--no-wait`: return once AMC has it, or once it waits locally behind a limit (the
    engine put it back on the queue for later, so it is due after it was created)."""
    return row.state in SUBMITTED_STATES or (
        row.state == S.QUEUED and row.attempts == 0 and row.next_check_at > row.created_at
    )
