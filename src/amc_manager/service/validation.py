"""`validate`: SQL, parameters and the window checked locally, against AMC's tables, and by
AMC's own dry run."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from amc_manager.client import ValidationError
from amc_manager.errors import AmcManagerError, UsageError
from amc_manager.service.access import client_for, resolve_instance
from amc_manager.service.checks import Checked, WindowInput, check_sql, parse_values, run_spec
from amc_manager.service.datasources import sandbox_schema, schema_for
from amc_manager.service.runtime import Runtime
from amc_manager.sql import ParamValue, Problem, Severity, TimeWindow
from amc_manager.sql.problems import placeless

DRY_RUN_TIMEOUT = 600.0
DRY_RUN_POLL = 1.0


@dataclass(frozen=True)
class ValidateRequest:
    """What `validate` is asked to check; values as the command line gives them."""

    sql: str
    source: str
    window: WindowInput
    params: Sequence[str] = ()
    param_json: Sequence[str] = ()
    params_file: Path | None = None
    instance: str | None = None
    dry_run: bool = False
    values: Mapping[str, ParamValue] | None = None  # typed values (REST) instead of the options


def _values(request: ValidateRequest) -> tuple[dict[str, ParamValue], list[Problem]]:
    if request.values is not None:
        return dict(request.values), []
    try:
        return parse_values(request.params, request.param_json, request.params_file), []
    except AmcManagerError as exc:
        return {}, [placeless(request.source, exc.message, exc.hint)]


async def validate(
    request: ValidateRequest,
    *,
    sandbox_mode: bool,
    sandbox_config: Path | None = None,
    runtime: Runtime | None = None,
    email: str = "",
    now: datetime | None = None,
) -> Checked:
    """Every problem; with `dry_run`, AMC's own compile when nothing local is wrong.

    Only `--instance` needs the runtime (AMC's `dataSources`, the dry run): local checks
    touch neither the store nor AMC."""
    if request.dry_run and not request.instance:
        raise UsageError("--dry-run needs --instance", hint="add --instance AMC_INSTANCE_ID")
    values, problems = _values(request)
    if request.instance is not None and runtime is not None:
        schema = await schema_for(runtime, email, request.instance)
    else:
        schema = sandbox_schema(sandbox_config) if sandbox_mode else None
    checked = check_sql(
        request.sql,
        source=request.source,
        values=values,
        window=request.window,
        schema=schema,
        now=now,
    )
    problems += checked.problems
    if request.dry_run and runtime is not None and not any(p.is_error for p in problems):
        problems += await _dry_run(runtime, email, request, checked)
    return Checked(problems, checked.window, checked.prepared, values)


async def _dry_run(
    runtime: Runtime, email: str, request: ValidateRequest, checked: Checked
) -> list[Problem]:
    """Compile at AMC with `dryRun` (no quota, no output); its complaints become problems."""
    assert request.instance is not None and checked.prepared is not None
    target = await resolve_instance(runtime, email, request.instance)
    client = await client_for(runtime, email, target)
    window = checked.window or TimeWindow("MOST_RECENT_WEEK", request.window.time_zone or "UTC")
    execution = run_spec(target, checked.prepared, window, {"dry_run": True}).request()
    try:
        created = await client.create_execution(target.ref(), execution)
    except ValidationError as exc:
        return [_from_amc(request.source, exc.details, exc.line, exc.column)]
    current = created
    deadline = runtime.clock() + DRY_RUN_TIMEOUT
    while not current.terminal and runtime.clock() < deadline:
        await asyncio.sleep(DRY_RUN_POLL)
        current = await client.get_execution(target.ref(), created.execution_id)
    if current.status == "SUCCEEDED":
        return []
    return [_from_amc(request.source, current.status_reason or current.status, None, None)]


def _from_amc(file: str, details: str, line: int | None, column: int | None) -> Problem:
    hint = "AMC's own dry run refused the query"
    if line is None:
        return placeless(file, f"AMC dry run: {details}", hint)
    return Problem(
        file=file,
        line=line,
        column=column or 1,
        severity=Severity.ERROR,
        message=f"AMC dry run: {details}",
        hint=hint,
    )
