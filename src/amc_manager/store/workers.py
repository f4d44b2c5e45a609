"""The store's worker registry: who runs, where, since when, their heartbeats and leases.

A worker's id is its engine's lease owner id, so its leases are the executions whose
`lease_owner` it is. A worker silent for `LOST_AFTER_BEATS` of its own heartbeat intervals is
`lost`; whoever notices marks it so and releases its leases in the same transaction, so other
workers take its runs over at once instead of waiting for the leases to lapse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from amc_manager.store import schema as t
from amc_manager.store.store import Store

ALIVE, LOST, STOPPED = "alive", "lost", "stopped"
# Silent for this many of its own heartbeat intervals: the worker is taken for dead. Three
# beats ride out a slow database or a busy event loop without a false alarm.
LOST_AFTER_BEATS = 3.0
# Rows of workers that stopped or were lost this long ago are dropped (seconds).
FORGET_AFTER = 7 * 86400.0


@dataclass(frozen=True)
class WorkerRow:
    """One worker as `amc workers list` shows it; `state` is as of the reading's `now`."""

    id: str
    host: str
    pid: int
    version: str
    started_at: float
    last_heartbeat: float
    heartbeat_seconds: float
    state: str
    stopped_at: float | None
    leases: int


def _silent_since(now: float) -> sa.ColumnElement[bool]:
    """Alive on record, but silent for longer than its own beats allow."""
    w = t.workers.c
    return sa.and_(
        w.state == ALIVE, w.last_heartbeat < now - LOST_AFTER_BEATS * w.heartbeat_seconds
    )


async def register_worker(
    store: Store,
    worker_id: str,
    *,
    host: str,
    pid: int,
    version: str,
    heartbeat_seconds: float,
    now: float,
) -> None:
    """The worker's row, alive from `now` (a restarted id starts afresh)."""
    values = {
        "host": host[:255],
        "pid": pid,
        "version": version[:64],
        "started_at": now,
        "last_heartbeat": now,
        "heartbeat_seconds": heartbeat_seconds,
        "state": ALIVE,
        "stopped_at": None,
    }
    w = t.workers.c
    async with store.begin() as conn:
        done = await conn.execute(t.workers.update().where(w.id == worker_id).values(**values))
        if not done.rowcount:
            await conn.execute(t.workers.insert().values(id=worker_id, **values))


async def beat(store: Store, worker_id: str, *, now: float) -> bool:
    """Record a heartbeat (a worker marked lost while merely slow is alive again).
    False: the worker has no row (it was forgotten): the caller registers again."""
    w = t.workers.c
    async with store.begin() as conn:
        done = await conn.execute(
            t.workers.update()
            .where(w.id == worker_id, w.state != STOPPED)
            .values(last_heartbeat=now, state=ALIVE)
        )
    return bool(done.rowcount)


async def mark_stopped(store: Store, worker_id: str, *, now: float) -> None:
    """A graceful stop: the worker has already handed its leases over."""
    w = t.workers.c
    async with store.begin() as conn:
        await conn.execute(
            t.workers.update()
            .where(w.id == worker_id)
            .values(state=STOPPED, stopped_at=now, last_heartbeat=now)
        )


async def reap_lost(store: Store, *, now: float, by: str) -> list[str]:
    """Mark every silent worker but `by` (the one looking) `lost` and release its leases at
    once; forget workers gone for a week. Returns the ids newly marked lost."""
    w, e = t.workers.c, t.workflow_executions.c
    async with store.begin() as conn:
        query = sa.select(w.id).where(_silent_since(now), w.id != by)
        if store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        lost = [str(r[0]) for r in (await conn.execute(query)).all()]
        if lost:
            await conn.execute(t.workers.update().where(w.id.in_(lost)).values(state=LOST))
            await conn.execute(
                t.workflow_executions.update()
                .where(e.lease_owner.in_(lost))
                .values(lease_owner=None, lease_expires_at=None)
            )
        await conn.execute(
            t.workers.delete().where(w.state != ALIVE, w.last_heartbeat < now - FORGET_AFTER)
        )
    return lost


async def list_workers(store: Store, *, now: float) -> list[WorkerRow]:
    """Every known worker, newest first, with the leases it holds and its state as of `now`."""
    w = t.workers.c
    async with store.begin() as conn:
        rows = (await conn.execute(sa.select(t.workers).order_by(w.started_at.desc()))).all()
        leases = await _lease_counts(conn, [str(r.id) for r in rows], now)
    out = []
    for r in rows:
        state = str(r.state)
        if state == ALIVE and r.last_heartbeat < now - LOST_AFTER_BEATS * r.heartbeat_seconds:
            state = LOST
        out.append(
            WorkerRow(
                id=str(r.id),
                host=str(r.host),
                pid=int(r.pid),
                version=str(r.version),
                started_at=float(r.started_at),
                last_heartbeat=float(r.last_heartbeat),
                heartbeat_seconds=float(r.heartbeat_seconds),
                state=state,
                stopped_at=None if r.stopped_at is None else float(r.stopped_at),
                leases=leases.get(str(r.id), 0),
            )
        )
    return out


async def _lease_counts(conn: AsyncConnection, ids: Sequence[str], now: float) -> dict[str, int]:
    """Leases each worker holds (a lapsed one is anybody's, so it is not counted)."""
    if not ids:
        return {}
    e = t.workflow_executions.c
    query = (
        sa.select(e.lease_owner, sa.func.count())
        .where(e.lease_owner.in_(list(ids)), e.lease_expires_at > now)
        .group_by(e.lease_owner)
    )
    return {str(owner): int(n) for owner, n in (await conn.execute(query)).all()}


class StatementCounter:
    """Counts the statements a store sends to its database (benchmarks, worker metrics)."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        sa.event.listen(store.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1
