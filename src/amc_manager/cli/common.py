"""Helpers shared by the `amc` commands: settings, the runtime, the user, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from amc_manager.config import DEFAULT_USER, Settings, load_settings
from amc_manager.engine.accounts import bootstrap_embedded
from amc_manager.engine.runtime import Runtime
from amc_manager.store.rows import ExecutionRow, InstanceRow

T = TypeVar("T")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def settings_for(as_user: str | None) -> Settings:
    overrides: dict[str, Any] = {}
    if as_user:
        overrides["AMC_USER"] = as_user
    return load_settings(**overrides)


@asynccontextmanager
async def runtime_for(settings: Settings, *, bootstrap: bool = True) -> AsyncIterator[Runtime]:
    async with Runtime(settings) as runtime:
        if bootstrap:  # only the local default user is registered with the embedded sandbox
            await bootstrap_embedded(runtime, DEFAULT_USER)
        yield runtime


def run_async(body: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(body())  # type: ignore[arg-type]


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def execution_json(row: ExecutionRow, instance: InstanceRow | None = None) -> dict[str, Any]:
    """The `--json` object of contracts.md."""
    return {
        "id": row.id,
        "amc_execution_id": row.amc_execution_id,
        "instance_id": instance.instance_id if instance else row.instance_id,
        "state": row.state,
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
        "error": row.error if row.state in ("failed", "cancelled", "rejected") else None,
        "advice": row.advice,
    }


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*("" if v is None else str(v) for v in row))
    out.print(view)
