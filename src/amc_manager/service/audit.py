"""The audit log as users may read it: admins every row; anyone else the rows where they
acted and the rows where their Amazon token was used (contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amc_manager.service.access import actor
from amc_manager.service.executions import iso
from amc_manager.service.runtime import Runtime


@dataclass(frozen=True)
class AuditQuery:
    """Filters of `GET /api/v1/audit`; `before` is the last row id of the previous page."""

    user: str | None = None
    instance_id: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    before: int | None = None


async def audit_rows(runtime: Runtime, email: str, query: AuditQuery) -> list[dict[str, Any]]:
    """Audit rows the user may read, newest first, with times in ISO 8601."""
    me = await actor(runtime, email)
    await runtime.audit.flush()  # what this process did a moment ago is part of the answer
    rows = await runtime.store.list_audit(
        involving=None if me.is_admin else me.email,
        user=query.user,
        instance_id=query.instance_id,
        since=query.since,
        until=query.until,
        limit=query.limit,
        before=query.before,
    )
    return [{**row, "at": iso(row["at"])} for row in rows]


async def record_api_call(
    runtime: Runtime,
    email: str,
    *,
    method: str,
    route: str,
    status: int,
    target: str | None,
    duration: float,
    at: float,
) -> None:
    """One mutating REST call: who, which route, on what, and how it ended."""
    await runtime.store.record_audit(
        [
            {
                "at": at,
                "user_email": email,
                "token_owner": None,
                "instance_id": None,
                "operation": route[:64],
                "kind": "rest",
                "method": method,
                "path": route,
                "status": status,
                "attempt": 1,
                "duration": duration,
                "error": None,
                "target": None if target is None else target[:200],
            }
        ]
    )
