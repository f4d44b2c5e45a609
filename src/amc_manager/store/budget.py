"""Persistence of the shared request budget: one `request_budget` row per key, compare-and-set.

The store knows nothing of the algorithm: the caller passes a pure step function that maps
the row as read (None when the key has none yet) to the row to write and a result. The step
may run more than once, when another process changed the row between read and write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from amc_manager.store import schema as t
from amc_manager.store.store import Store

R = TypeVar("R")


@dataclass(frozen=True)
class BudgetRow:
    """The stored budget of one key (an AMC instance id, or `discovery`)."""

    rate: float
    next_free: float
    paused_until: float
    last_penalty: float


Step = Callable[[BudgetRow | None], tuple[BudgetRow, R]]


async def read_budget(store: Store, key: str) -> BudgetRow | None:
    async with store.begin() as conn:
        return await _read(conn, store, key, lock=False)


async def update_budget(
    store: Store, key: str, step: Step[R], *, guess: BudgetRow | None = None
) -> R:
    """Apply `step` to `key`'s row atomically and return its result.

    Compare-and-set: the write applies only if the row is still what was read, else the step
    runs again on the new row. SQLite's driver begins a transaction only at the first write,
    so there the SELECT alone would let two callers take the same slot (PostgreSQL also locks
    the row with FOR UPDATE, so there the first write always wins).

    `guess`: the row as this caller last wrote it. While nobody else wrote since (one worker
    per instance, the usual case), the step applies to it in one statement, no read.
    """
    if guess is not None:
        after, result = step(guess)
        async with store.begin() as conn:
            if await _write(conn, store, key, guess, after):
                return result
    while True:
        async with store.begin() as conn:
            before = await _read(conn, store, key, lock=True)
            after, result = step(before)
            if await _write(conn, store, key, before, after):
                return result


async def _read(conn: AsyncConnection, store: Store, key: str, *, lock: bool) -> BudgetRow | None:
    b = t.request_budget
    query = sa.select(b.c.rate, b.c.next_free, b.c.paused_until, b.c.last_penalty).where(
        b.c.key == key
    )
    if lock and store.dialect == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else BudgetRow(*(float(v) for v in row))


async def _write(
    conn: AsyncConnection, store: Store, key: str, before: BudgetRow | None, after: BudgetRow
) -> bool:
    """Insert (if absent) or update (if unchanged); False when another writer came first."""
    b = t.request_budget
    values: dict[str, Any] = asdict(after)
    if before is None:
        insert = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(b)
        done = await conn.execute(
            insert.values(key=key, **values).on_conflict_do_nothing(index_elements=["key"])
        )
        return bool(done.rowcount)
    unchanged = [b.c[name] == value for name, value in asdict(before).items()]
    done = await conn.execute(b.update().where(b.c.key == key, *unchanged).values(**values))
    return bool(done.rowcount)
