"""The audit log: every AMC call and every mutating API call, with who acted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from amc_manager.api.deps import CallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, decode_cursor, encode_cursor
from amc_manager.api.problems import ApiProblem
from amc_manager.api.routes.common import LIST, PREFIX
from amc_manager.api.schemas import AuditOut, Page

router = APIRouter(prefix=f"{PREFIX}/audit", tags=["audit"])
When = Annotated[datetime | None, Query(description="ISO 8601 time (UTC when no offset).")]


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@collection(
    router,
    "GET",
    "",
    summary="Audit rows (admins: all; others: theirs and their token's).",
    response_model=Page[AuditOut],
    responses=LIST,
)
async def list_audit(
    who: CallerDep,
    runtime: RuntimeDep,
    user: Annotated[str | None, Query(max_length=320, description="The acting user.")] = None,
    instance_id: Annotated[str | None, Query(max_length=64)] = None,
    since: When = None,
    until: When = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[AuditOut]:
    from amc_manager.service.audit import AuditQuery, audit_rows

    before = None
    if cursor is not None:
        position = decode_cursor("audit", cursor)
        if len(position) != 1 or not isinstance(position[0], int):
            raise ApiProblem(400, "the cursor is not one this list gave", slug="invalid-cursor")
        before = position[0]
    query = AuditQuery(
        user=user,
        instance_id=instance_id,
        since=_epoch(since),
        until=_epoch(until),
        limit=limit + 1,
        before=before,
    )
    rows = await audit_rows(runtime, who.email, query)
    after = encode_cursor("audit", [rows[limit - 1]["id"]]) if len(rows) > limit else None
    return Page[AuditOut](items=[AuditOut(**r) for r in rows[:limit]], next_cursor=after)
