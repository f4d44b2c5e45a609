"""Execution state changes as streams (REST's server-sent events), read from the store.

Every poll re-checks that the user may still see what they watch, so a revoked grant ends a
stream at once rather than when it closes. Any process may have moved an execution (a worker,
another `amc serve`), so the store, not this process's memory, is the source of truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from amc_manager.service.access import actor, resolve_instance
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.service.executions import ExecutionView, find_execution, view_of
from amc_manager.service.runtime import Runtime

RECENT = 200  # a list page's stream follows the newest executions the user may see


@dataclass(frozen=True)
class Watch:
    """How a stream polls: every `poll` seconds until `stop` is set."""

    poll: float
    stop: asyncio.Event


async def _pause(watch: Watch) -> bool:
    """Wait one poll; False when the stream must end (the server is stopping)."""
    try:
        await asyncio.wait_for(watch.stop.wait(), watch.poll)
    except TimeoutError:
        return True
    return False


async def execution_changes(
    runtime: Runtime, email: str, execution_id: str, watch: Watch
) -> AsyncIterator[ExecutionView]:
    """The execution now, then at each change of state or AMC status; ends after a final
    state, when the user loses sight of it, or when the server stops."""
    last: tuple[str, str | None] | None = None
    while True:
        try:
            row = await find_execution(runtime, email, execution_id, full=True)
        except (NotFound, NotPermitted):  # access revoked, or the user disabled
            return
        key = (row.state.value, row.amc_status)
        if key != last:
            last = key
            yield await view_of(runtime, row)
        if row.terminal or not await _pause(watch):
            return


async def list_changes(
    runtime: Runtime, email: str, instance: str | None, watch: Watch
) -> AsyncIterator[ExecutionView]:
    """Changes of any execution the user may see (of one instance), among the newest ones;
    the first poll sets the baseline and sends nothing. Runs until the client or the server
    goes away."""
    from amc_manager.service.executions import list_executions

    seen: dict[str, tuple[str, str | None]] | None = None
    while True:
        try:  # a disabled user's stream ends, as does one of an instance no longer granted
            await actor(runtime, email)
            if instance is not None:
                await resolve_instance(runtime, email, instance, to_run=False)
        except (NotFound, NotPermitted):
            return
        views = await list_executions(runtime, email, instance=instance, limit=RECENT)
        current = {v.id: (v.state.value, v.row.amc_status) for v in views}
        if seen is not None:
            for view in reversed(views):  # oldest change first
                if seen.get(view.id) != current[view.id]:
                    yield view
        seen = current
        if not await _pause(watch):
            return
