"""Collections (backfills and batches): create, list, get with coverage, retry, pause, resume,
cancel. Combined results stay with the CLI (`amc collections results`); over REST each cell's
rows are reached through its execution's results route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, keyset_before, keyset_page
from amc_manager.api.routes.common import LIST, PREFIX, READ_ONE, WRITE
from amc_manager.api.routes.validate import problem_item
from amc_manager.api.schemas import JsonValue, Page, ProblemItem, WindowIn

router = APIRouter(prefix=f"{PREFIX}/collections", tags=["collections"])
CollectionId = Path(max_length=64, description="The collection's full id.")


class CollectionIn(WindowIn):
    instance_ids: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=50)
    sql: str | None = Field(None, max_length=500_000)
    workflow_id: str | None = Field(None, max_length=200)
    every: str | None = Field(
        None, max_length=16, description="day, week, week:MON..week:SUN or month."
    )
    parameters: dict[str, JsonValue] | None = None
    name: str | None = Field(None, max_length=200)
    notify: str | None = Field(None, max_length=2000, description="Webhook URL (signed).")


class CellOut(BaseModel):
    window_start: str
    window_end: str
    instance_id: str
    state: str
    execution_id: str
    execution_state: str
    amc_status: str | None
    row_count: int | None
    attempts: int
    error: str | None
    execution_url: str


class MissingCell(BaseModel):
    window_start: str
    window_end: str
    instance_id: str
    state: str


class CoverageOut(BaseModel):
    windows_total: int
    windows_complete: int
    cells_total: int
    cells_succeeded: int
    missing: list[MissingCell]


class CollectionOut(BaseModel):
    id: str
    name: str | None
    state: str
    reason: str | None
    workflow_id: str
    source: str | None
    sql_hash: str | None
    every: str | None
    time_window_start: str
    time_window_end: str
    time_zone: str
    parameters: dict[str, JsonValue]
    instances: list[str]
    windows: int
    cells_total: int
    totals: dict[str, int]
    notify_url: str | None
    notified_at: str | None
    created_at: str | None
    updated_at: str | None
    finished_at: str | None
    executions_url: str
    row_count: int | None = None
    coverage: CoverageOut | None = None
    cells: list[CellOut] | None = None


class CreatedCollection(CollectionOut):
    warnings: list[ProblemItem] = Field(default_factory=list)


def collection_out(item: dict[str, Any]) -> dict[str, Any]:
    item = dict(item)
    item["executions_url"] = f"{PREFIX}/executions?collection_id={item['id']}"
    if item.get("cells") is not None:
        item["cells"] = [
            {**c, "execution_url": f"{PREFIX}/executions/{c['execution_id']}"}
            for c in item["cells"]
        ]
    return item


@collection(
    router,
    "POST",
    "",
    summary="Check, push the SQL as a saved workflow and queue one execution per cell.",
    status_code=201,
    response_model=CreatedCollection,
    responses=WRITE,
)
async def create_collection(
    body: CollectionIn, who: MutatingCallerDep, runtime: RuntimeDep, response: Response
) -> CreatedCollection:
    from amc_manager.service.checks import WindowInput
    from amc_manager.service.collections import CollectionRequest, create, show
    from amc_manager.sql import values_from_mapping

    request = CollectionRequest(
        instances=body.instance_ids,
        window=WindowInput(
            start=body.start, end=body.end, window=body.window, time_zone=body.time_zone
        ),
        every=body.every,
        sql=body.sql,
        workflow_id=body.workflow_id,
        values=values_from_mapping(dict(body.parameters or {})),
        name=body.name,
        notify_url=body.notify,
    )
    created = await create(runtime, who.email, request)
    view = await show(runtime, who.email, created.collection_id, full=True)
    response.headers["Location"] = f"{PREFIX}/collections/{view.id}"
    return CreatedCollection(
        **collection_out(view.to_json()), warnings=[problem_item(p) for p in created.warnings]
    )


@collection(
    router,
    "GET",
    "",
    summary="Collections the caller may see, newest first, with totals per cell state.",
    response_model=Page[CollectionOut],
    responses=LIST,
)
async def list_collections(
    who: CallerDep, runtime: RuntimeDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[CollectionOut]:
    from amc_manager.service.collections import list_collections as listed

    before = keyset_before("collections", cursor)
    found = await listed(runtime, who.email, limit=limit + 1, before=before)
    views, after = keyset_page("collections", found, limit, lambda v: (v.row.created_at, v.id))
    return Page[CollectionOut](
        items=[CollectionOut(**collection_out(v.to_json())) for v in views], next_cursor=after
    )


@router.get(
    "/{collection_id}",
    summary="One collection: every cell, its coverage and totals.",
    response_model=CollectionOut,
    responses=READ_ONE,
)
async def get_collection(
    who: CallerDep, runtime: RuntimeDep, collection_id: str = CollectionId
) -> CollectionOut:
    from amc_manager.service.collections import show

    view = await show(runtime, who.email, collection_id, full=True)
    return CollectionOut(**collection_out(view.to_json()))


async def _act(verb: str, email: str, runtime: Any, collection_id: str) -> CollectionOut:
    from amc_manager.service import collections

    action = getattr(collections, verb)
    view = await action(runtime, email, collection_id, full=True)
    return CollectionOut(**collection_out(view.to_json()))


@router.post(
    "/{collection_id}/retry",
    summary="Run the failed, cancelled and rejected cells again (409 when there are none).",
    response_model=CollectionOut,
    responses=WRITE,
)
async def retry_collection(
    who: MutatingCallerDep, runtime: RuntimeDep, collection_id: str = CollectionId
) -> CollectionOut:
    return await _act("retry", who.email, runtime, collection_id)


@router.post(
    "/{collection_id}/pause",
    summary="Submit no more cells until resumed (its creator and admins).",
    response_model=CollectionOut,
    responses=WRITE,
)
async def pause_collection(
    who: MutatingCallerDep, runtime: RuntimeDep, collection_id: str = CollectionId
) -> CollectionOut:
    return await _act("pause", who.email, runtime, collection_id)


@router.post(
    "/{collection_id}/resume",
    summary="Submit the queued cells again.",
    response_model=CollectionOut,
    responses=WRITE,
)
async def resume_collection(
    who: MutatingCallerDep, runtime: RuntimeDep, collection_id: str = CollectionId
) -> CollectionOut:
    return await _act("resume", who.email, runtime, collection_id)


@router.post(
    "/{collection_id}/cancel",
    summary="Cancel every open cell; an ended collection answers 409.",
    response_model=CollectionOut,
    responses=WRITE,
)
async def cancel_collection(
    who: MutatingCallerDep, runtime: RuntimeDep, collection_id: str = CollectionId
) -> CollectionOut:
    return await _act("cancel", who.email, runtime, collection_id)
