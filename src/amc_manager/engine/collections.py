"""Collections in the engine: cell and collection states derived from executions, the fair
order of queued work, the worker loop that records a collection's end and sends its webhook,
and the combined result of a collection (streamed, batch by batch).

A collection's state is never stored ahead of its cells: `running`, `paused` and `cancelled`
are the user's intent; `complete` (every cell succeeded) and `failed` (nothing left to run, at
least one cell failed, was cancelled or rejected) are read from the cells' executions.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from amc_manager.engine.notify import post_event
from amc_manager.store import ExecutionRow, ExecutionState, Store
from amc_manager.store.collections import CollectionRow

logger = logging.getLogger("amc_manager.collections")
S = ExecutionState


class CellState(StrEnum):
    """A cell's state (contracts.md), read from its current execution."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def open(self) -> bool:
        return self in (CellState.QUEUED, CellState.RUNNING)


class CollectionState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (CollectionState.COMPLETE, CollectionState.FAILED, CollectionState.CANCELLED)


CELL_OF: Mapping[ExecutionState, CellState] = {
    S.QUEUED: CellState.QUEUED,
    S.SUBMITTING: CellState.RUNNING,
    S.PENDING: CellState.RUNNING,
    S.RUNNING: CellState.RUNNING,
    S.DOWNLOADING: CellState.RUNNING,
    S.SUCCEEDED: CellState.SUCCEEDED,
    S.FAILED: CellState.FAILED,
    S.CANCELLED: CellState.CANCELLED,
    S.REJECTED: CellState.REJECTED,
}


def cell_state(state: ExecutionState | str) -> CellState:
    return CELL_OF[ExecutionState(state)]


def cell_totals(execution_counts: Mapping[str, int]) -> dict[str, int]:
    """Execution states counted per cell state (every cell state present, zeros included)."""
    totals = dict.fromkeys((c.value for c in CellState), 0)
    for state, n in execution_counts.items():
        totals[cell_state(state).value] += n
    return totals


def derive_state(intent: str, totals: Mapping[str, int]) -> CollectionState:
    """The collection's state from the user's intent and its cells' totals (by cell state).

    Cancelled stays cancelled; while any cell is open the collection runs (or is paused);
    once none is, it is complete when every cell succeeded and failed otherwise.
    """
    if intent == CollectionState.CANCELLED:
        return CollectionState.CANCELLED
    if any(totals.get(c.value, 0) for c in CellState if c.open):
        return (
            CollectionState.PAUSED if intent == CollectionState.PAUSED else CollectionState.RUNNING
        )
    cells = sum(totals.values())
    if cells and totals.get(CellState.SUCCEEDED.value, 0) == cells:
        return CollectionState.COMPLETE
    return CollectionState.FAILED


# --- fair admission ---------------------------------------------------------------------------


def collection_slots(max_instance: int, share: float) -> int:
    """How many of an instance's active slots collections may hold together: `share` of them,
    at least one, and one fewer than all when there are two or more (so other work always
    finds a slot: a backfill never starves an `amc run`)."""
    if max_instance <= 1:
        return max_instance
    return max(1, min(max_instance - 1, math.floor(max_instance * share)))


def lane(row: ExecutionRow) -> str | None:
    """Queued work waits in lanes: each collection is one, work outside collections another."""
    return row.collection_id


def fair_order(rows: Sequence[ExecutionRow]) -> list[ExecutionRow]:
    """Queued runs of one instance, oldest first within each lane, the lanes taken in turns
    (round robin, the lane with the oldest run first): a 52-week backfill queued before an
    `amc run` has one turn before it, not 52."""
    lanes: dict[str | None, list[ExecutionRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.created_at, r.id)):
        lanes[lane(row)].append(row)
    ordered: list[ExecutionRow] = []
    queues = list(lanes.values())
    for turn in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[turn] for q in queues if turn < len(q))
    return ordered


async def hold_for_lost_access(store: Store, row: ExecutionRow, reason: str) -> None:
    """A cell's creator lost access to its instance: the collection pauses with that reason
    (its queued cells wait; nothing is submitted for them), instead of its cells failing."""
    assert row.collection_id is not None
    if await store.set_collection_state(row.collection_id, "paused", reason=reason):
        logger.warning("collection %s paused: %s", row.collection_id, reason)


# --- the worker's loop ------------------------------------------------------------------------


class CollectionLoop:
    """Each pass: record the end of every collection whose cells are all done (once,
    whichever worker sees it first) and send its webhook (once: claimed before sending,
    recorded after)."""

    def __init__(
        self,
        store: Store,
        secret_key: Callable[[], Awaitable[str]],
        *,
        interval: float = 1.0,
        notify_claim: float = 120.0,
        post: Callable[..., Awaitable[bool]] = post_event,
    ) -> None:
        self.store = store
        self._secret_key = secret_key
        self.interval = interval
        self.notify_claim = notify_claim
        self._post = post

    async def step(self) -> float:
        await self.settle(await self.store.unsettled_collections())
        for row in await self.store.due_notifications():
            await self.notify(row)
        return self.interval

    async def settle(self, rows: Iterable[CollectionRow]) -> None:
        rows = list(rows)
        counts = await self.store.cell_state_counts([r.id for r in rows])
        for row in rows:
            state = derive_state(row.state, cell_totals(counts.get(row.id, {})))
            if state.final and await self.store.settle_collection(row.id, state.value):
                logger.info("collection %s ended %s", row.id, state.value)

    async def notify(self, row: CollectionRow) -> None:
        if row.notify_url is None or not await self.store.claim_notification(
            row.id, self.notify_claim
        ):
            return
        kind = f"collection.{row.ended_state}"
        payload = await self.payload(row)
        delivered = await self._post(row.notify_url, kind, payload, await self._secret_key())
        await self.store.record_notification(row.id, delivered=delivered)

    async def payload(self, row: CollectionRow) -> dict[str, Any]:
        cells = await self.store.collection_cells(row.id)
        totals: dict[str, int] = dict.fromkeys((c.value for c in CellState), 0)
        for cell in cells:
            totals[cell_state(cell.state).value] += 1
        return {
            "collection_id": row.id,
            "name": row.name,
            "state": row.ended_state,
            "window_start": row.window_start,
            "window_end": row.window_end,
            "time_zone": row.time_zone,
            "cells": len(cells),
            "totals": totals,
            "row_count": sum(c.row_count or 0 for c in cells),
            "unsucceeded": [
                {
                    "window_start": c.window_start,
                    "window_end": c.window_end,
                    "instance_id": c.instance_id,
                    "state": cell_state(c.state).value,
                    "execution_id": c.execution_id,
                    "error": c.error,
                }
                for c in cells
                if c.state != S.SUCCEEDED
            ],
        }
