"""The store's side of result storage: uploads under way (their temporaries), and retention
(results and audit rows past their age). `Store` inherits `ResultStore`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from amc_manager.store import schema as t


@dataclass(frozen=True)
class PendingUpload:
    """A result upload that began: its temporary location, for which execution, by whom."""

    location: str
    execution_id: str
    owner: str
    started_at: float


@dataclass(frozen=True)
class KeptResult:
    """A succeeded execution's result file: where it is, when the execution finished."""

    execution_id: str
    location: str
    finished_at: float


class ResultStore:
    """Pending uploads and retention, on the store's engine (`begin`) and clock."""

    if TYPE_CHECKING:
        clock: Callable[[], float]

        def begin(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    async def add_pending_upload(self, location: str, execution_id: str, owner: str) -> None:
        """Record an upload's temporary location before anything is written there."""
        values = {
            "location": location,
            "execution_id": execution_id,
            "owner": owner,
            "started_at": self.clock(),
        }
        async with self.begin() as conn:
            await conn.execute(t.result_uploads.insert().values(**values))

    async def pending_uploads(
        self, *, execution_id: str | None = None, started_before: float | None = None
    ) -> list[PendingUpload]:
        u = t.result_uploads.c
        query = sa.select(u.location, u.execution_id, u.owner, u.started_at).order_by(u.started_at)
        if execution_id is not None:
            query = query.where(u.execution_id == execution_id)
        if started_before is not None:
            query = query.where(u.started_at < started_before)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [PendingUpload(r[0], r[1], r[2], float(r[3])) for r in rows]

    async def remove_pending_upload(self, location: str) -> None:
        async with self.begin() as conn:
            await conn.execute(
                t.result_uploads.delete().where(t.result_uploads.c.location == location)
            )

    async def results_finished_before(self, cutoff: float, limit: int = 500) -> list[KeptResult]:
        """Succeeded executions that finished before `cutoff` and still have a result file."""
        e = t.workflow_executions.c
        query = (
            sa.select(e.id, e.result_path, e.finished_at)
            .where(e.finished_at < cutoff, e.result_path.is_not(None), e.state == "succeeded")
            .order_by(e.finished_at)
            .limit(limit)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [KeptResult(r[0], r[1], float(r[2])) for r in rows]

    async def forget_result(self, execution_id: str, location: str) -> bool:
        """The result file at `location` is gone: the execution keeps its row count and
        columns, without a location (so asking for its rows says it was deleted)."""
        e = t.workflow_executions
        async with self.begin() as conn:
            done = await conn.execute(
                e.update()
                .where(e.c.id == execution_id, e.c.result_path == location)
                .values(result_path=None)
            )
        return bool(done.rowcount)

    async def prune_audit(self, before: float) -> int:
        """Delete audit rows written before `before`; how many."""
        a = t.audit_log
        async with self.begin() as conn:
            done = await conn.execute(a.delete().where(a.c.at < before))
        return int(done.rowcount or 0)
