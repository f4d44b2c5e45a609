"""The AMC side of `amc validate`: the instance's tables (cached a day) and AMC's dry run."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from amc_manager.cli.common import runtime_for, settings_for
from amc_manager.client import ExecutionRequest, ValidationError
from amc_manager.engine.accounts import resolve_instance
from amc_manager.sql import Problem, Severity, TimeWindow, prepare, read_values
from amc_manager.sql.problems import placeless

CACHE_SECONDS = 86400.0
DRY_RUN_TIMEOUT = 600.0


def _cache_file(home: Path, instance: str) -> Path:
    return home / "cache" / f"datasources-{instance}.json"


def data_sources(instance: str) -> list[dict[str, Any]]:
    """AMC's `dataSources` for the instance, from a one-day file cache in AMC_HOME."""
    settings = settings_for(None)
    cached = _cache_file(settings.amc_home, instance)
    if cached.exists() and time.time() - cached.stat().st_mtime < CACHE_SECONDS:
        loaded: list[dict[str, Any]] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded

    async def fetch() -> list[dict[str, Any]]:
        async with runtime_for(settings) as runtime:
            target = await resolve_instance(runtime, settings.user, instance)
            client = await runtime.client(settings.user)
            sources = await client.list_data_sources(target.ref())
            return [s.model_dump(by_alias=True) for s in sources]

    items = asyncio.run(fetch())
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(items), encoding="utf-8")
    return items


def dry_run(request: Any, instance: str, window: TimeWindow | None) -> list[Problem]:
    """Compile at AMC with `dryRun` (no quota, no output); its complaints become problems."""
    name = str(request.file)
    sql = request.file.read_text(encoding="utf-8")
    values = read_values(request.params, request.param_json, request.params_file)
    prepared = prepare(sql, values)
    fields = (window or TimeWindow("MOST_RECENT_WEEK", request.time_zone or "UTC")).amc_fields()
    execution = ExecutionRequest(
        sql=prepared.sql,
        start=fields.get("timeWindowStart"),
        end=fields.get("timeWindowEnd"),
        window_type=fields["timeWindowType"],
        time_zone=fields["timeWindowTimeZone"],
        parameter_values=dict(prepared.parameter_values),
        input_parameters=[dict(p) for p in prepared.input_parameters],
        dry_run=True,
    )
    settings = settings_for(None)

    async def submit() -> list[Problem]:
        async with runtime_for(settings) as runtime:
            target = await resolve_instance(runtime, settings.user, instance)
            client = await runtime.client(settings.user)
            try:
                created = await client.create_execution(target.ref(), execution)
            except ValidationError as exc:
                return [_from_amc(name, exc.details, exc.line, exc.column)]
            deadline = time.monotonic() + DRY_RUN_TIMEOUT
            current = created
            while not current.terminal and time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                current = await client.get_execution(target.ref(), created.execution_id)
            if current.status == "SUCCEEDED":
                return []
            return [_from_amc(name, current.status_reason or current.status, None, None)]

    return asyncio.run(submit())


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
