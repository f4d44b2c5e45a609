"""Server-sent events: one execution's state changes, and every change a list page shows."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from amc_manager.api.deps import CallerDep, StateDep
from amc_manager.api.routes.common import PREFIX, documented
from amc_manager.api.schemas import StateEvent
from amc_manager.service.executions import ExecutionView, iso

router = APIRouter(prefix=PREFIX, tags=["events"])
STREAM = {
    200: {
        "description": "`state` events (data: a StateEvent) until a final state.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    **documented(401, 404, 422, 500),
}


def state_event(view: ExecutionView) -> ServerSentEvent:
    row = view.row
    data = StateEvent(
        id=row.id,
        instance_id=view.instance_id,
        state=row.state,
        amc_status=row.amc_status,
        updated_at=iso(row.updated_at),
        row_count=row.row_count,
        error=row.error if row.terminal else None,
    )
    return ServerSentEvent(data=data, event="state", id=f"{row.id}:{row.updated_at}")


async def visible_execution(
    who: CallerDep, state: StateDep, execution_id: str = Path(max_length=64)
) -> str:
    """404 before the stream starts when the caller may not see the execution."""
    from amc_manager.service.executions import find_execution

    return (
        await find_execution(state.runtime, who.email, execution_id, full=True, me=who.actor)
    ).id


async def visible_instance(
    who: CallerDep,
    state: StateDep,
    instance_id: Annotated[str | None, Query(max_length=64)] = None,
) -> str | None:
    from amc_manager.service.access import resolve_instance

    if instance_id is None:
        return None
    await resolve_instance(state.runtime, who.email, instance_id, to_run=False)
    return instance_id


@router.get(
    "/executions/{execution_id}/events",
    summary="The execution's state now and at each change; ends at a final state.",
    response_class=EventSourceResponse,
    responses=STREAM,
)
async def execution_events(
    execution_id: Annotated[str, Depends(visible_execution)], who: CallerDep, state: StateDep
) -> AsyncIterable[ServerSentEvent]:
    from amc_manager.service.events import Watch, execution_changes

    watch = Watch(min(state.event_poll, state.execution_poll), state.draining)
    async for view in execution_changes(state.runtime, who.email, execution_id, watch):
        yield state_event(view)


@router.get(
    "/events",
    summary="State changes of every execution the caller may see (of one instance).",
    response_class=EventSourceResponse,
    responses=STREAM,
)
async def all_events(
    instance_id: Annotated[str | None, Depends(visible_instance)],
    who: CallerDep,
    state: StateDep,
) -> AsyncIterable[ServerSentEvent]:
    from amc_manager.service.events import Watch, list_changes

    watch = Watch(state.event_poll, state.draining)
    async for view in list_changes(state.runtime, who.email, instance_id, watch):
        yield state_event(view)
