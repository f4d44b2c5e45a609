"""Collections in the store: the collection, its cells (window x instance) and their executions,
written together, so a crash never leaves half a collection; pause, resume, retry, settling.

`Store` inherits `CollectionStore`; its methods use the store's engine, clock and dialect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from amc_manager.store import schema as t
from amc_manager.store.access import usable_instances
from amc_manager.store.rows import ExecutionRow, ExecutionState, NewExecution

S = ExecutionState
# A held cell is due at no time a clock reaches: pausing keeps queued cells off every claim.
HELD = 1.0e12
RETRYABLE: tuple[ExecutionState, ...] = (S.FAILED, S.CANCELLED, S.REJECTED)


@dataclass(frozen=True)
class NewCollection:
    """What `add_collection` needs besides the cells."""

    user_id: str
    workflow_id: str
    time_zone: str
    window_start: str
    window_end: str
    name: str | None = None
    source: str | None = None
    sql_hash: str | None = None
    every: str | None = None
    parameter_values: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    notify_url: str | None = None


@dataclass(frozen=True)
class NewCell:
    """One (window, instance) and the execution that runs it (its `collection_id` is set by
    the store)."""

    window_index: int
    window_start: str
    window_end: str
    execution: NewExecution


@dataclass(frozen=True)
class CollectionRow:
    """One row of `collections` (schema.py says what each field means)."""

    id: str
    user_id: str
    name: str | None
    workflow_id: str
    source: str | None
    sql_hash: str | None
    every: str | None
    time_zone: str
    window_start: str
    window_end: str
    parameter_values: dict[str, Any]
    options: dict[str, Any]
    notify_url: str | None
    state: str
    reason: str | None
    created_at: float
    updated_at: float
    ended_state: str | None
    ended_at: float | None
    notified_at: float | None
    notify_delivered: bool | None

    @classmethod
    def from_row(cls, row: Any) -> CollectionRow:
        m = row._mapping
        return cls(
            id=m["id"],
            user_id=m["user_id"],
            name=m["name"],
            workflow_id=m["workflow_id"],
            source=m["source"],
            sql_hash=m["sql_hash"],
            every=m["every"],
            time_zone=m["time_zone"],
            window_start=m["window_start"],
            window_end=m["window_end"],
            parameter_values=dict(m["parameter_values"] or {}),
            options=dict(m["options"] or {}),
            notify_url=m["notify_url"],
            state=m["state"],
            reason=m["reason"],
            created_at=float(m["created_at"]),
            updated_at=float(m["updated_at"]),
            ended_state=m["ended_state"],
            ended_at=m["ended_at"],
            notified_at=m["notified_at"],
            notify_delivered=m["notify_delivered"],
        )


@dataclass(frozen=True)
class CellRow:
    """A cell with what its current execution says."""

    window_index: int
    window_start: str
    window_end: str
    instance_pk: str
    instance_id: str  # AMC's
    attempts: int
    execution_id: str
    state: ExecutionState
    amc_status: str | None
    row_count: int | None
    result_path: str | None
    error: str | None
    submitted_at: float | None
    finished_at: float | None


def collection_admission(
    other: Any, instance_pk: str, collection_id: str, max_collection: int | None
) -> list[sa.ColumnElement[bool]]:
    """The extra conditions for a collection's cell to start submitting: its collection is
    running, and collections hold fewer than `max_collection` active runs on the instance."""
    c = t.collections.c
    running = sa.exists().where(c.id == collection_id, c.state == "running")
    conditions: list[sa.ColumnElement[bool]] = [running]
    if max_collection is not None:
        active = other.c.state.in_([S.SUBMITTING.value, S.PENDING.value, S.RUNNING.value])
        in_collections = sa.select(sa.func.count()).where(
            other.c.instance_id == instance_pk, active, other.c.collection_id.is_not(None)
        )
        conditions.append(in_collections.scalar_subquery() < max_collection)
    return conditions


class CollectionStore:
    """The store's collection operations (a mixin of `Store`)."""

    clock: Callable[[], float]

    if TYPE_CHECKING:

        def begin(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

        @property
        def dialect(self) -> str: ...

    async def add_collection(self, new: NewCollection, cells: Sequence[NewCell]) -> str:
        """The collection, every cell and every cell's queued execution, in one transaction."""
        from amc_manager.store.store import insert_queued, queued_row

        now = self.clock()
        collection_id = str(uuid.uuid4())
        values = {
            **asdict(new),
            "id": collection_id,
            "state": "running",
            "created_at": now,
            "updated_at": now,
        }
        async with self.begin() as conn:
            await conn.execute(t.collections.insert().values(**values))
            for cell in cells:
                row = queued_row(replace(cell.execution, collection_id=collection_id), now)
                await insert_queued(conn, row)
                await conn.execute(
                    t.collection_cells.insert().values(
                        collection_id=collection_id,
                        window_index=cell.window_index,
                        instance_id=cell.execution.instance_id,
                        window_start=cell.window_start,
                        window_end=cell.window_end,
                        execution_id=row["id"],
                        attempts=1,
                    )
                )
        return collection_id

    async def get_collection(self, collection_id: str) -> CollectionRow | None:
        query = sa.select(t.collections).where(t.collections.c.id == collection_id)
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else CollectionRow.from_row(row)

    async def list_collections(
        self,
        *,
        visible_to: str | None = None,
        limit: int | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[CollectionRow]:
        """Newest first: those whose every instance `visible_to` may use (None: all); `limit`
        rows older than `before` (created_at, id)."""
        c = t.collections.c
        query = sa.select(t.collections).order_by(c.created_at.desc(), c.id.desc())
        if visible_to is not None:
            query = query.where(_visible(visible_to))
        if before is not None:
            at, last_id = before
            query = query.where(
                sa.or_(c.created_at < at, sa.and_(c.created_at == at, c.id < last_id))
            )
        if limit is not None:
            query = query.limit(limit)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [CollectionRow.from_row(r) for r in rows]

    async def collection_ids(self, *, visible_to: str | None = None, prefix: str = "") -> list[str]:
        c = t.collections.c
        query = sa.select(c.id).order_by(c.id)
        if visible_to is not None:
            query = query.where(_visible(visible_to))
        if prefix:
            query = query.where(c.id.startswith(prefix, autoescape=True))
        async with self.begin() as conn:
            return [str(r[0]) for r in (await conn.execute(query)).all()]

    async def collection_visible(self, collection_id: str, user_id: str) -> bool:
        query = sa.select(t.collections.c.id).where(
            t.collections.c.id == collection_id, _visible(user_id)
        )
        async with self.begin() as conn:
            return (await conn.execute(query)).first() is not None

    async def collection_cells(self, collection_id: str) -> list[CellRow]:
        """Every cell, by window then AMC instance id, with its current execution."""
        cell, e, i = t.collection_cells.c, t.workflow_executions.c, t.amc_instances.c
        query = (
            sa.select(
                cell.window_index,
                cell.window_start,
                cell.window_end,
                cell.instance_id.label("instance_pk"),
                i.instance_id,
                cell.attempts,
                cell.execution_id,
                e.state,
                e.amc_status,
                e.row_count,
                e.result_path,
                e.error,
                e.submitted_at,
                e.finished_at,
            )
            .select_from(
                t.collection_cells.join(t.workflow_executions, e.id == cell.execution_id).join(
                    t.amc_instances, i.id == cell.instance_id
                )
            )
            .where(cell.collection_id == collection_id)
            .order_by(cell.window_index, i.instance_id)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [
            CellRow(
                window_index=int(r.window_index),
                window_start=r.window_start,
                window_end=r.window_end,
                instance_pk=r.instance_pk,
                instance_id=r.instance_id,
                attempts=int(r.attempts),
                execution_id=r.execution_id,
                state=ExecutionState(r.state),
                amc_status=r.amc_status,
                row_count=r.row_count,
                result_path=r.result_path,
                error=r.error,
                submitted_at=r.submitted_at,
                finished_at=r.finished_at,
            )
            for r in rows
        ]

    async def cell_state_counts(self, collection_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """For each collection, how many of its cells' current executions are in each state."""
        if not collection_ids:
            return {}
        cell, e = t.collection_cells.c, t.workflow_executions.c
        query = (
            sa.select(cell.collection_id, e.state, sa.func.count())
            .select_from(t.collection_cells.join(t.workflow_executions, e.id == cell.execution_id))
            .where(cell.collection_id.in_(sorted(set(collection_ids))))
            .group_by(cell.collection_id, e.state)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        counts: dict[str, dict[str, int]] = {i: {} for i in collection_ids}
        for collection_id, state, n in rows:
            counts[str(collection_id)][str(state)] = int(n)
        return counts

    async def set_collection_state(
        self,
        collection_id: str,
        state: str,
        *,
        reason: str | None = None,
        only_from: Sequence[str] = ("running", "paused"),
    ) -> bool:
        """Record the user's intent (running, paused, cancelled) if the collection is in one
        of `only_from`. Leaving `running` holds its queued cells off every claim (and drops
        their leases); back to `running` makes them due at once. False: not changed."""
        c, e = t.collections.c, t.workflow_executions.c
        now = self.clock()
        async with self.begin() as conn:
            done = await conn.execute(
                t.collections.update()
                .where(c.id == collection_id, c.state.in_(list(only_from)))
                .values(state=state, reason=reason, updated_at=now)
            )
            if not done.rowcount:
                return False
            queued = sa.and_(e.collection_id == collection_id, e.state == S.QUEUED.value)
            held = {"next_check_at": HELD, "lease_owner": None, "lease_expires_at": None}
            if state == "running":
                held = {"next_check_at": now}
                queued = sa.and_(queued, e.next_check_at >= HELD)
            await conn.execute(t.workflow_executions.update().where(queued).values(**held))
        return True

    async def retry_cells(self, collection_id: str) -> list[str]:
        """A new queued execution for every cell whose current one failed, was cancelled or
        rejected (a copy of it); the collection runs again and may end (and notify) anew.
        The new executions' ids (none: nothing to retry)."""
        from amc_manager.store.store import insert_queued, queued_row

        cell, e, c = t.collection_cells.c, t.workflow_executions.c, t.collections.c
        query = (
            sa.select(t.workflow_executions, cell.window_index, cell.instance_id.label("cell_pk"))
            .select_from(t.collection_cells.join(t.workflow_executions, e.id == cell.execution_id))
            .where(cell.collection_id == collection_id, e.state.in_([s.value for s in RETRYABLE]))
        )
        now = self.clock()
        made: list[str] = []
        async with self.begin() as conn:
            if self.dialect == "postgresql":
                await conn.execute(sa.select(c.id).where(c.id == collection_id).with_for_update())
            for found in (await conn.execute(query)).all():
                row = queued_row(_again(ExecutionRow.from_row(found)), now)
                await insert_queued(conn, row)
                await conn.execute(
                    t.collection_cells.update()
                    .where(
                        cell.collection_id == collection_id,
                        cell.window_index == found.window_index,
                        cell.instance_id == found.cell_pk,
                    )
                    .values(execution_id=row["id"], attempts=cell.attempts + 1)
                )
                made.append(str(row["id"]))
            if made:
                await conn.execute(
                    t.collections.update()
                    .where(c.id == collection_id)
                    .values(
                        state="running",
                        reason=None,
                        updated_at=now,
                        ended_state=None,
                        ended_at=None,
                        notify_claimed_until=None,
                        notified_at=None,
                        notify_delivered=None,
                    )
                )
        return made

    async def unsettled_collections(self) -> list[CollectionRow]:
        """Collections whose end no worker has recorded yet."""
        query = sa.select(t.collections).where(t.collections.c.ended_state.is_(None))
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [CollectionRow.from_row(r) for r in rows]

    async def settle_collection(self, collection_id: str, state: str) -> bool:
        """Record the collection's final state once (False: another worker did, or a retry
        made it run again in between)."""
        c = t.collections.c
        now = self.clock()
        async with self.begin() as conn:
            done = await conn.execute(
                t.collections.update()
                .where(c.id == collection_id, c.ended_state.is_(None))
                .values(ended_state=state, ended_at=now, updated_at=now)
            )
            return bool(done.rowcount)

    async def due_notifications(self) -> list[CollectionRow]:
        """Ended collections with a webhook not sent yet (nor being sent by a live claim)."""
        c = t.collections.c
        query = sa.select(t.collections).where(
            c.ended_state.in_(["complete", "failed"]),
            c.notify_url.is_not(None),
            c.notified_at.is_(None),
            sa.or_(c.notify_claimed_until.is_(None), c.notify_claimed_until < self.clock()),
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [CollectionRow.from_row(r) for r in rows]

    async def claim_notification(self, collection_id: str, seconds: float) -> bool:
        """Take the collection's webhook for `seconds`, so one worker sends it; a worker that
        dies while sending lets the claim lapse and another sends it."""
        c = t.collections.c
        now = self.clock()
        async with self.begin() as conn:
            done = await conn.execute(
                t.collections.update()
                .where(
                    c.id == collection_id,
                    c.notified_at.is_(None),
                    c.ended_state.is_not(None),
                    sa.or_(c.notify_claimed_until.is_(None), c.notify_claimed_until < now),
                )
                .values(notify_claimed_until=now + seconds)
            )
            return bool(done.rowcount)

    async def record_notification(self, collection_id: str, *, delivered: bool) -> None:
        c = t.collections.c
        async with self.begin() as conn:
            await conn.execute(
                t.collections.update()
                .where(c.id == collection_id)
                .values(notified_at=self.clock(), notify_delivered=delivered)
            )


def _visible(user_id: str) -> sa.ColumnElement[bool]:
    """The collection has no cell on an instance the user may not use."""
    cell = t.collection_cells.c
    foreign = sa.exists().where(
        cell.collection_id == t.collections.c.id, cell.instance_id.not_in(usable_instances(user_id))
    )
    return sa.not_(foreign)


def _again(row: ExecutionRow) -> NewExecution:
    """The same run once more, as a new execution."""
    return NewExecution(
        user_id=row.user_id,
        instance_id=row.instance_id,
        adhoc=row.adhoc,
        time_window_type=row.time_window_type,
        time_zone=row.time_zone,
        sql=row.sql,
        sql_hash=row.sql_hash,
        workflow_id=row.workflow_id,
        time_window_start=row.time_window_start,
        time_window_end=row.time_window_end,
        input_parameters=row.input_parameters,
        parameter_values=row.parameter_values,
        options=row.options,
        collection_id=row.collection_id,
    )
