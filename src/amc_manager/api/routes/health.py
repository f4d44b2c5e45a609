"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from amc_manager.api.deps import RuntimeDep, StateDep, caller
from amc_manager.api.problems import ApiProblem, documented
from amc_manager.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers.", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the store is reachable and migrated.",
    response_model=Readiness,
    responses=documented(503),
)
async def readyz(runtime: RuntimeDep) -> Readiness:
    from amc_manager.service.runtime import ready

    try:
        at_head, revision = await ready(runtime)
    except Exception:  # any failure to reach the store is "not ready", whatever its kind
        raise ApiProblem(503, "the store cannot be reached", slug="not-ready") from None
    if not at_head:
        raise ApiProblem(503, f"the store is at schema {revision}, not migrated", slug="not-ready")
    return Readiness(status="ready", schema_revision=revision)


@router.get(
    "/metrics",
    summary="Prometheus metrics (an admin's token, or open with AMC_METRICS_PUBLIC=true).",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "OK"},
        **documented(401, 403),
    },
)
async def metrics(request: Request, state: StateDep) -> Response:
    if not state.metrics_public:
        who = await caller(request, state)
        if not who.actor.is_admin:
            raise ApiProblem(403, "metrics need an admin's token", slug="not-admin")
    body = await state.metrics.render(state.runtime)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
