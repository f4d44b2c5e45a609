"""Saved workflows at AMC (per instance)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, offset_page
from amc_manager.api.routes.common import AMC_READ, PREFIX, WRITE
from amc_manager.api.schemas import Page, WorkflowIn, WorkflowOut, WorkflowUpdate

router = APIRouter(prefix=f"{PREFIX}/workflows", tags=["workflows"])
WorkflowId = Path(max_length=200, description="The workflow's id at AMC.")
InstanceQuery = Annotated[str, Query(max_length=64, description="AMC's or the internal id.")]


@collection(
    router,
    "GET",
    "",
    summary="The instance's saved workflows.",
    response_model=Page[WorkflowOut],
    responses=AMC_READ,
)
async def list_workflows(
    who: CallerDep,
    runtime: RuntimeDep,
    instance_id: InstanceQuery,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[WorkflowOut]:
    from amc_manager.service.workflows import list_saved

    saved = await list_saved(runtime, who.email, instance_id)
    items, after = offset_page(f"workflows:{instance_id}", saved, limit, cursor)
    return Page[WorkflowOut](
        items=[WorkflowOut(instance_id=instance_id, **w.to_json()) for w in items],
        next_cursor=after,
    )


@collection(
    router,
    "POST",
    "",
    summary="Save a workflow at AMC (its id must be new on the instance).",
    status_code=201,
    response_model=WorkflowOut,
    responses=WRITE,
)
async def create_workflow(
    body: WorkflowIn, who: MutatingCallerDep, runtime: RuntimeDep, response: Response
) -> WorkflowOut:
    from amc_manager.service.workflows import push, show

    await push(
        runtime,
        who.email,
        instance=body.instance_id,
        workflow_id=body.workflow_id,
        sql=body.sql,
        source=f"<workflow {body.workflow_id}>",
    )
    saved = await show(runtime, who.email, body.instance_id, body.workflow_id)
    response.headers["Location"] = (
        f"{PREFIX}/workflows/{body.workflow_id}?instance_id={body.instance_id}"
    )
    return WorkflowOut(instance_id=body.instance_id, **saved.to_json())


@router.get(
    "/{workflow_id}",
    summary="One saved workflow.",
    response_model=WorkflowOut,
    responses=AMC_READ,
)
async def get_workflow(
    who: CallerDep, runtime: RuntimeDep, instance_id: InstanceQuery, workflow_id: str = WorkflowId
) -> WorkflowOut:
    from amc_manager.service.workflows import show

    saved = await show(runtime, who.email, instance_id, workflow_id)
    return WorkflowOut(instance_id=instance_id, **saved.to_json())


@router.put(
    "/{workflow_id}",
    summary="Create or replace a saved workflow's SQL.",
    response_model=WorkflowOut,
    responses=WRITE,
)
async def put_workflow(
    body: WorkflowUpdate,
    who: MutatingCallerDep,
    runtime: RuntimeDep,
    workflow_id: str = WorkflowId,
) -> WorkflowOut:
    from amc_manager.service.workflows import push, show

    await push(
        runtime,
        who.email,
        instance=body.instance_id,
        workflow_id=workflow_id,
        sql=body.sql,
        source=f"<workflow {workflow_id}>",
    )
    saved = await show(runtime, who.email, body.instance_id, workflow_id)
    return WorkflowOut(instance_id=body.instance_id, **saved.to_json())


@router.delete(
    "/{workflow_id}", summary="Delete a saved workflow.", status_code=204, responses=WRITE
)
async def delete_workflow(
    who: MutatingCallerDep,
    runtime: RuntimeDep,
    instance_id: InstanceQuery,
    workflow_id: str = WorkflowId,
) -> Response:
    from amc_manager.service.workflows import delete

    await delete(runtime, who.email, instance_id, workflow_id)
    return Response(status_code=204)
