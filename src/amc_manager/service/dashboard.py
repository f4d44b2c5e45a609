"""What the web dashboard's pages show beyond the REST objects: instance queues, the schema
panel and the grants table, under the same access rules as everything else."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from amc_manager.service.access import InstanceView, actor, list_instances, require_admin
from amc_manager.service.runtime import Runtime
from amc_manager.store.rows import OPEN_STATES, ExecutionState

QUEUED = frozenset({ExecutionState.QUEUED})


@dataclass(frozen=True)
class InstanceQueue:
    """An instance the user sees and its current queue: waiting here, and at AMC."""

    instance: InstanceView
    queued: int
    active: int


async def instance_queues(runtime: Runtime, email: str) -> list[InstanceQueue]:
    """Every instance the user sees with its open executions counted by where they wait."""
    me = await actor(runtime, email)
    views = await list_instances(runtime, email)
    open_rows = await runtime.store.list_executions(
        visible_to=None if me.is_admin else me.id, states=[s.value for s in OPEN_STATES]
    )
    queued = Counter(r.instance_id for r in open_rows if r.state in QUEUED)
    active = Counter(r.instance_id for r in open_rows if r.state not in QUEUED)
    return [InstanceQueue(v, queued[v.id], active[v.id]) for v in views]


async def schema_tables(runtime: Runtime, email: str, instance: str | None) -> list[dict[str, Any]]:
    """The tables the linter checks against (sandbox: the catalogue; real mode: the
    instance's dataSources), each with its columns' types and threshold classes."""
    from amc_manager.service.datasources import schema_for

    schema = await schema_for(runtime, email, instance)
    if schema is None:
        return []
    tables: list[dict[str, Any]] = []
    for name in schema.table_names:
        table = schema.table(name)
        if table is None:
            continue
        columns = [
            {"name": c.name, "type": c.data_type, "threshold": c.threshold}
            for c in table.columns.values()
        ]
        tables.append({"name": table.name, "columns": columns})
    return tables


@dataclass(frozen=True)
class GrantRow:
    """One user and how they reach each instance (`connected`, `granted`, `admin` or None)."""

    user_id: str
    email: str
    admin: bool
    disabled: bool
    access: dict[str, str | None]


async def grants_table(runtime: Runtime, by: str) -> tuple[list[InstanceView], list[GrantRow]]:
    """For admins: every instance, and per user how they may use each one."""
    from amc_manager.service.users import list_users

    await require_admin(runtime, by)
    instances = await list_instances(runtime, by)
    rows: list[GrantRow] = []
    for user in await list_users(runtime, by=by):
        reach = await runtime.store.instance_access(user.id)
        rows.append(
            GrantRow(
                user_id=user.id,
                email=user.email,
                admin=user.role.value == "admin",
                disabled=user.disabled,
                access={i.id: (reach[i.id].value if i.id in reach else None) for i in instances},
            )
        )
    return instances, rows
