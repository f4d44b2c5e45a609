"""Saved workflows at AMC: push (create or update), list, show, delete; kept in the store too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from amc_manager.engine.jobs import sql_hash
from amc_manager.errors import UsageError
from amc_manager.service.access import client_for, resolve_instance
from amc_manager.service.runtime import Runtime
from amc_manager.sql import input_parameters, scan_template


@dataclass(frozen=True)
class SavedWorkflow:
    """A workflow as AMC holds it."""

    workflow_id: str
    sql: str | None
    input_parameters: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "sql": self.sql,
            "input_parameters": self.input_parameters,
        }


def workflow_parameters(sql: str, source: str) -> list[dict[str, Any]]:
    """AMC's `inputParameters` of a file; `{{name}}` placeholders cannot be saved."""
    template = scan_template(sql, source)
    if template.placeholders:
        raise UsageError(
            f"{source} has {{{{name}}}} placeholders, which a saved workflow cannot take",
            hint="use CUSTOM_PARAMETER('name') with a `-- @param` line",
        )
    return [dict(p) for p in input_parameters(template)]


async def push(
    runtime: Runtime, email: str, *, instance: str, workflow_id: str, sql: str, source: str
) -> None:
    """Create the workflow at AMC, or update it when it exists; record it in the store."""
    params = workflow_parameters(sql, source)
    target = await resolve_instance(runtime, email, instance)
    client = await client_for(runtime, email, target)
    body = {"workflowId": workflow_id, "sqlQuery": sql, "inputParameters": params}
    existing = {w.workflow_id for w in await client.list_workflows(target.ref())}
    if workflow_id in existing:
        await client.update_workflow(target.ref(), body)
    else:
        await client.create_workflow(target.ref(), body)
    await runtime.store.save_workflow(target.id, workflow_id, sql, sql_hash(sql) or "", params)


async def push_to_each(
    runtime: Runtime,
    email: str,
    instances: Iterable[str],
    *,
    workflow_id: str,
    sql: str,
    source: str,
) -> str:
    """A SQL file pushed as the saved workflow `workflow_id` on every instance (what a
    collection or schedule made from a file runs: saved runs do not count against AMC's
    ad-hoc daily quota); the workflow id."""
    for instance in instances:
        await push(
            runtime, email, instance=instance, workflow_id=workflow_id, sql=sql, source=source
        )
    return workflow_id


async def list_saved(runtime: Runtime, email: str, instance: str) -> list[SavedWorkflow]:
    target = await resolve_instance(runtime, email, instance)
    client = await client_for(runtime, email, target)
    return [
        SavedWorkflow(w.workflow_id, w.sql_query, list(w.input_parameters))
        for w in await client.list_workflows(target.ref())
    ]


async def show(runtime: Runtime, email: str, instance: str, workflow_id: str) -> SavedWorkflow:
    target = await resolve_instance(runtime, email, instance)
    client = await client_for(runtime, email, target)
    found = await client.get_workflow(target.ref(), workflow_id)
    return SavedWorkflow(found.workflow_id, found.sql_query, list(found.input_parameters))


async def delete(runtime: Runtime, email: str, instance: str, workflow_id: str) -> None:
    target = await resolve_instance(runtime, email, instance)
    client = await client_for(runtime, email, target)
    await client.delete_workflow(target.ref(), workflow_id)
    await runtime.store.delete_workflow(target.id, workflow_id)
