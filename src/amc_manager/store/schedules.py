"""The store's schedules and their runs: a mixin of `Store` (tables in schema.py, migration 0005).

A slot fires once because its run row is unique on (schedule, slot): whoever inserts it fires
it; everyone else sees the clash and moves on. Every other change is a compare-and-set on the
value read before, so two workers never both act on one change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from amc_manager.store import schema as t
from amc_manager.store.access import usable_instances
from amc_manager.store.errors import StoreError
from amc_manager.store.rows import TERMINAL_STATES

ACTIVE = "active"
PAUSED = "paused"
# Run statuses: claimed, execution made, then the execution's final state; or skipped.
FIRING, FIRED, SKIPPED, FAILED = "firing", "fired", "skipped", "failed"
RUN_OUTCOMES = tuple(s.value for s in TERMINAL_STATES)


@dataclass(frozen=True)
class NewSchedule:
    """What `add_schedule` stores; the store fills in id, state and times."""

    user_id: str
    instance_id: str
    name: str | None
    workflow_id: str
    cron: str | None
    every: str | None
    at: str | None
    time_zone: str
    window: str
    parameters: dict[str, Any]
    pause_after: int | None
    notify_url: str | None
    next_at: float


@dataclass(frozen=True)
class ScheduleRow:
    id: str
    user_id: str
    instance_id: str
    name: str | None
    workflow_id: str
    cron: str | None
    every: str | None
    at: str | None
    time_zone: str
    window: str
    parameters: dict[str, Any]
    pause_after: int | None
    notify_url: str | None
    state: str
    paused_reason: str | None
    next_at: float
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Any) -> ScheduleRow:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ScheduleRunRow:
    id: str
    schedule_id: str
    slot_key: str
    fire_at: float
    manual: bool
    status: str
    execution_id: str | None
    window_start: str
    window_end: str
    error: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Any) -> ScheduleRunRow:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SettledRun:
    """A fired run whose execution ended: the run, and how its execution ended."""

    run: ScheduleRunRow
    state: str
    failure_kind: str | None
    error: str | None


class ScheduleStore:
    """Schedules and their runs (mixed into `Store`, which provides `begin` and `clock`)."""

    clock: Callable[[], float]

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError  # Store's

    async def add_schedule(self, new: NewSchedule) -> str:
        now = self.clock()
        schedule_id = str(uuid.uuid4())
        values = {
            **asdict(new),
            "id": schedule_id,
            "state": ACTIVE,
            "created_at": now,
            "updated_at": now,
        }
        async with self.begin() as conn:
            await conn.execute(t.schedules.insert().values(**values))
        return schedule_id

    async def get_schedule(self, schedule_id: str) -> ScheduleRow | None:
        query = sa.select(t.schedules).where(t.schedules.c.id == schedule_id)
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else ScheduleRow.from_row(row)

    async def list_schedules(
        self,
        *,
        visible_to: str | None = None,
        limit: int | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[ScheduleRow]:
        """Newest first; on the instances `visible_to` may use (None: all); `limit` rows
        older than `before` (created_at, id)."""
        c = t.schedules.c
        query = sa.select(t.schedules).order_by(c.created_at.desc(), c.id.desc())
        if visible_to is not None:
            query = query.where(c.instance_id.in_(usable_instances(visible_to)))
        if before is not None:
            at, last = before
            query = query.where(sa.or_(c.created_at < at, sa.and_(c.created_at == at, c.id < last)))
        if limit is not None:
            query = query.limit(limit)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ScheduleRow.from_row(r) for r in rows]

    async def schedule_ids(self, *, visible_to: str | None, prefix: str) -> list[str]:
        c = t.schedules.c
        query = sa.select(c.id).where(c.id.like(prefix.replace("%", "").replace("_", "") + "%"))
        if visible_to is not None:
            query = query.where(c.instance_id.in_(usable_instances(visible_to)))
        async with self.begin() as conn:
            return [str(r[0]) for r in (await conn.execute(query.order_by(c.id))).all()]

    async def update_schedule(self, schedule_id: str, **values: Any) -> bool:
        """Change settings (name, window, parameters, cadence, next_at...)."""
        c = t.schedules.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.schedules.update()
                .where(c.id == schedule_id)
                .values(updated_at=self.clock(), **values)
            )
            return bool(done.rowcount)

    async def set_schedule_state(
        self,
        schedule_id: str,
        state: str,
        *,
        reason: str | None = None,
        next_at: float | None = None,
        only_from: str | None = None,
    ) -> bool:
        """Pause or resume; with `only_from`, only when it is in that state (so of two
        workers pausing one schedule, one does it and tells)."""
        c = t.schedules.c
        values: dict[str, Any] = {"state": state, "paused_reason": reason}
        if next_at is not None:
            values["next_at"] = next_at
        where = [c.id == schedule_id]
        if only_from is not None:
            where.append(c.state == only_from)
        async with self.begin() as conn:
            done = await conn.execute(
                t.schedules.update().where(*where).values(updated_at=self.clock(), **values)
            )
            return bool(done.rowcount)

    async def delete_schedule(self, schedule_id: str) -> bool:
        """The schedule and its run history; the executions it made stay."""
        async with self.begin() as conn:
            await conn.execute(
                t.schedule_runs.delete().where(t.schedule_runs.c.schedule_id == schedule_id)
            )
            done = await conn.execute(t.schedules.delete().where(t.schedules.c.id == schedule_id))
            return bool(done.rowcount)

    async def due_schedules(self, now: float, *, limit: int = 100) -> list[ScheduleRow]:
        """Active schedules whose next slot is at or before `now`, earliest first."""
        c = t.schedules.c
        query = (
            sa.select(t.schedules)
            .where(c.state == ACTIVE, c.next_at <= now)
            .order_by(c.next_at, c.id)
            .limit(limit)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ScheduleRow.from_row(r) for r in rows]

    async def next_due(self) -> float | None:
        """The earliest next slot of any active schedule."""
        c = t.schedules.c
        async with self.begin() as conn:
            found = (
                await conn.execute(sa.select(sa.func.min(c.next_at)).where(c.state == ACTIVE))
            ).scalar()
        return None if found is None else float(found)

    async def advance_schedule(self, schedule_id: str, slot: float, following: float) -> bool:
        """Move the cursor from `slot` (decided) to `following`; False: already moved."""
        c = t.schedules.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.schedules.update()
                .where(c.id == schedule_id, c.next_at == slot)
                .values(next_at=following)
            )
            return bool(done.rowcount)

    # --- runs ---------------------------------------------------------------------------------

    async def claim_run(
        self,
        schedule_id: str,
        *,
        slot_key: str,
        fire_at: float,
        status: str,
        window_start: str,
        window_end: str,
        manual: bool = False,
        at: float | None = None,
    ) -> ScheduleRunRow | None:
        """Insert the slot's run (claimed `at`, the scheduler's clock); None when it is there
        already (someone decided it)."""
        now = self.clock() if at is None else at
        values = {
            "id": str(uuid.uuid4()),
            "schedule_id": schedule_id,
            "slot_key": slot_key,
            "fire_at": fire_at,
            "manual": manual,
            "status": status,
            "execution_id": None,
            "window_start": window_start,
            "window_end": window_end,
            "error": None,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self.begin() as conn:
                await conn.execute(t.schedule_runs.insert().values(**values))
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                return None
            raise
        return ScheduleRunRow(**values)  # type: ignore[arg-type]

    async def set_run(self, run_id: str, from_status: str, status: str, **values: Any) -> bool:
        """Compare-and-set the run's status (and other fields); False: it had moved on."""
        c = t.schedule_runs.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.schedule_runs.update()
                .where(c.id == run_id, c.status == from_status)
                .values(status=status, updated_at=self.clock(), **values)
            )
            return bool(done.rowcount)

    async def runs_of(
        self, schedule_id: str, *, limit: int | None = None, before: tuple[float, str] | None = None
    ) -> list[ScheduleRunRow]:
        """The schedule's runs, newest slot first."""
        c = t.schedule_runs.c
        query = (
            sa.select(t.schedule_runs)
            .where(c.schedule_id == schedule_id)
            .order_by(c.fire_at.desc(), c.id.desc())
        )
        if before is not None:
            at, last = before
            query = query.where(sa.or_(c.fire_at < at, sa.and_(c.fire_at == at, c.id < last)))
        if limit is not None:
            query = query.limit(limit)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ScheduleRunRow.from_row(r) for r in rows]

    async def runs_firing(self, *, claimed_before: float) -> list[ScheduleRunRow]:
        """Runs claimed but without an execution since before `claimed_before` (their
        claimer died, or is slow: firing is idempotent by the slot, so either is safe)."""
        c = t.schedule_runs.c
        query = sa.select(t.schedule_runs).where(c.status == FIRING, c.created_at < claimed_before)
        async with self.begin() as conn:
            rows = (await conn.execute(query.order_by(c.fire_at))).all()
        return [ScheduleRunRow.from_row(r) for r in rows]

    async def runs_settled(self, *, limit: int = 200) -> list[SettledRun]:
        """Fired runs whose execution reached a final state."""
        r, e = t.schedule_runs, t.workflow_executions
        query = (
            sa.select(r, e.c.state.label("x_state"), e.c.failure_kind, e.c.error.label("x_error"))
            .join(e, e.c.id == r.c.execution_id)
            .where(r.c.status == FIRED, e.c.state.in_(RUN_OUTCOMES))
            .order_by(r.c.fire_at)
            .limit(limit)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [
            SettledRun(ScheduleRunRow.from_row(row), row.x_state, row.failure_kind, row.x_error)
            for row in rows
        ]

    async def recent_outcomes(self, schedule_id: str, count: int) -> list[str]:
        """The statuses of the schedule's last `count` finished runs (skipped ones aside),
        newest slot first."""
        c = t.schedule_runs.c
        query = (
            sa.select(c.status)
            .where(c.schedule_id == schedule_id, c.status.in_(RUN_OUTCOMES))
            .order_by(c.fire_at.desc(), c.id.desc())
            .limit(count)
        )
        async with self.begin() as conn:
            return [str(r[0]) for r in (await conn.execute(query)).all()]

    async def execution_states(self, execution_ids: Sequence[str]) -> dict[str, str]:
        """The current state of each execution (run history shows them)."""
        if not execution_ids:
            return {}
        c = t.workflow_executions.c
        query = sa.select(c.id, c.state).where(c.id.in_(sorted(set(execution_ids))))
        async with self.begin() as conn:
            return {str(i): str(s) for i, s in (await conn.execute(query)).all()}
