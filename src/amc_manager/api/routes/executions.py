"""Executions: create (with Idempotency-Key), list, get, cancel, and their result rows."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, keyset_before, keyset_page
from amc_manager.api.routes.common import LIST, PREFIX, READ_ONE, WRITE, documented
from amc_manager.api.routes.validate import problem_item
from amc_manager.api.schemas import (
    ColumnOut,
    CreatedExecution,
    ExecutionIn,
    ExecutionOut,
    Page,
    ResultPage,
)
from amc_manager.service import ExecutionState
from amc_manager.service.executions import ExecutionView

router = APIRouter(prefix=f"{PREFIX}/executions", tags=["executions"])
ExecutionId = Path(max_length=64, description="The execution's full id.")
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}


def execution_out(view: ExecutionView) -> dict[str, Any]:
    """The CLI's `--json` object without server paths: rows are reached by their route."""
    item = view.to_json()
    has_rows = item.pop("result_path", None) is not None
    item["results_url"] = f"{PREFIX}/executions/{view.id}/results" if has_rows else None
    return item


def _request_hash(body: ExecutionIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@collection(
    router,
    "POST",
    "",
    summary="Check and queue a run; with Idempotency-Key a repeat answers the same execution.",
    status_code=201,
    response_model=CreatedExecution,
    responses={
        200: {"description": "The execution an earlier request with the key made."},
        **WRITE,
    },
)
async def create_execution(
    body: ExecutionIn,
    who: MutatingCallerDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Unique per user: the same key and body answer the same execution.",
        ),
    ] = None,
) -> CreatedExecution:
    from amc_manager.service.checks import RunOptions, WindowInput
    from amc_manager.service.executions import show_execution
    from amc_manager.service.runs import Idempotency, RunRequest, submit
    from amc_manager.sql import values_from_mapping

    request = RunRequest(
        instance=body.instance_id,
        window=WindowInput(
            start=body.start, end=body.end, window=body.window, time_zone=body.time_zone
        ),
        sql=body.sql,
        workflow_id=body.workflow_id,
        values=values_from_mapping(dict(body.parameters or {})),
        options=RunOptions(
            timeout=body.timeout,
            ignore_data_gaps=body.ignore_data_gaps,
            filtered_column=body.filtered_column,
        ),
    )
    key = None if idempotency_key is None else Idempotency(idempotency_key, _request_hash(body))
    submitted = await submit(runtime, who.email, request, idempotency=key)
    view = await show_execution(runtime, who.email, submitted.execution_id, full=True, me=who.actor)
    response.status_code = 200 if submitted.replayed else 201
    response.headers["Location"] = f"{PREFIX}/executions/{view.id}"
    return CreatedExecution(
        **execution_out(view), warnings=[problem_item(p) for p in submitted.warnings]
    )


@collection(
    router,
    "GET",
    "",
    summary="Executions the caller may see, newest first.",
    response_model=Page[ExecutionOut],
    responses=LIST,
)
async def list_executions(
    who: CallerDep,
    runtime: RuntimeDep,
    instance_id: Annotated[str | None, Query(max_length=64)] = None,
    state: ExecutionState | None = None,
    collection_id: Annotated[
        str | None, Query(max_length=64, description="Only this collection's executions.")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ExecutionOut]:
    from amc_manager.service.executions import list_executions as listed

    before = keyset_before("executions", cursor)
    found = await listed(
        runtime,
        who.email,
        instance=instance_id,
        state=state.value if state else None,
        limit=limit + 1,
        before=before,
        me=who.actor,
        collection=collection_id,
        full_ids=True,
    )
    views, after = keyset_page("executions", found, limit, lambda v: (v.row.created_at, v.id))
    return Page[ExecutionOut](
        items=[ExecutionOut(**execution_out(v)) for v in views], next_cursor=after
    )


@router.get(
    "/{execution_id}",
    summary="One execution with its timeline.",
    response_model=ExecutionOut,
    responses=READ_ONE,
)
async def get_execution(
    who: CallerDep, runtime: RuntimeDep, execution_id: str = ExecutionId
) -> ExecutionOut:
    from amc_manager.service.executions import show_execution

    view = await show_execution(runtime, who.email, execution_id, full=True, me=who.actor)
    return ExecutionOut(**execution_out(view))


@router.post(
    "/{execution_id}/cancel",
    summary="Cancel (its creator and admins); a finished execution answers 409.",
    response_model=ExecutionOut,
    responses=WRITE,
)
async def cancel_execution(
    who: MutatingCallerDep, runtime: RuntimeDep, execution_id: str = ExecutionId
) -> ExecutionOut:
    from amc_manager.service.runs import cancel

    view = await cancel(runtime, who.email, execution_id, full=True)
    return ExecutionOut(**execution_out(view))


@router.get(
    "/{execution_id}/results",
    summary="The rows: a JSON page, or the whole result streamed as CSV, JSON lines or Parquet.",
    response_model=ResultPage,
    responses={
        200: {
            "description": "A page of rows (json) or the result file.",
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA.values()},
        },
        **documented(400, 401, 404, 409, 422, 500, 503),
    },
)
async def results(
    who: CallerDep,
    runtime: RuntimeDep,
    execution_id: str = ExecutionId,
    format: Literal["json", "csv", "jsonl", "parquet"] = "json",
    offset: Annotated[int, Query(ge=0, description="json: the first row.")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000, description="json: how many rows.")] = 1000,
) -> Any:
    from amc_manager.service.executions import find_execution, result_location
    from amc_manager.service.results import rows_page, stream_export

    row = await find_execution(runtime, who.email, execution_id, full=True, me=who.actor)
    result_location(row)  # 409 before any byte when there are no rows (or they were pruned)
    if format == "json":
        page = await asyncio.to_thread(rows_page, runtime.results, row, offset, limit)
        return ResultPage(
            columns=[ColumnOut(name=n, type=t) for n, t in page.columns],
            rows=page.rows,
            next_offset=page.next_offset,
        )
    name = f"{row.id}.{format}"
    # Every format streams from result storage (a folder or S3), wherever the file was kept.
    # Opened before the answer starts: a deleted result (409) or storage out of reach (503)
    # is a problem answer, not a cut stream.
    return StreamingResponse(
        await stream_export(runtime.results, row, format),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
