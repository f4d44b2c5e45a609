"""The REST API's app factory: `create_app(settings)` and the lifespan that opens one Runtime
(and, unless told otherwise, runs the engine's worker in the same process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from amc_manager.api import problems
from amc_manager.api.deps import ApiState
from amc_manager.api.metrics import ApiMetrics
from amc_manager.api.middleware import AccessLog, BodyLimit, SecurityHeaders
from amc_manager.api.routes import ROUTERS
from amc_manager.api.security import SessionSigner
from amc_manager.config import Settings

PREFIX = "/api/v1"
DOCS_PATHS = (f"{PREFIX}/docs",)
log = logging.getLogger("amc_manager.api")


def create_app(
    settings: Settings,
    *,
    worker: bool = True,
    state_hook: list[ApiState] | None = None,
) -> FastAPI:
    """The API over one Runtime built from `settings` when the app starts.

    `worker`: run the engine's worker in this process (`amc serve` without `--no-worker`).
    `state_hook`: a list the started app's state is appended to (for `amc serve` and tests).
    """
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _opened(settings, metrics) as state:
            app.state.api = state
            if state_hook is not None:
                state_hook.append(state)
            async with _worker(state, enabled=worker):
                yield
            state.draining.set()

    app = FastAPI(
        title="amc-manager",
        version=_version(),
        summary="Run Amazon Marketing Cloud SQL end to end over HTTP.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
        separate_input_output_schemas=False,
    )
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    from amc_manager.web import mount as mount_web

    mount_web(app)  # the dashboard's pages at / (503 naming `make assets` when not built)
    _middleware(app, settings, metrics)
    return app


def _middleware(app: FastAPI, settings: Settings, metrics: ApiMetrics) -> None:
    """Outermost last: the access log sees every answer, the body limit every request."""
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-CSRF-Token"],
            allow_credentials=False,
        )
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, docs_paths=DOCS_PATHS)
    app.add_middleware(AccessLog, metrics=metrics)


@asynccontextmanager
async def _opened(settings: Settings, metrics: ApiMetrics) -> AsyncIterator[ApiState]:
    from amc_manager.service.access import bootstrap_embedded
    from amc_manager.service.runtime import Runtime

    runtime = Runtime(settings)
    runtime.audit.observer = metrics.observe_call  # every AMC call, counted
    async with runtime:
        secret = await runtime.secret_key()
        if runtime.sandbox_mode:
            await bootstrap_embedded(runtime)
        yield ApiState(
            runtime=runtime,
            signer=SessionSigner(secret.reveal()),
            metrics=metrics,
            metrics_public=settings.metrics_public,
        )


@asynccontextmanager
async def _worker(state: ApiState, *, enabled: bool) -> AsyncIterator[None]:
    """The engine's worker beside the API; stopped (draining its in-flight steps within
    AMC_SHUTDOWN_TIMEOUT) when the app stops."""
    if not enabled:
        yield
        return
    from amc_manager.service.worker import build_worker

    worker = build_worker(state.runtime)
    worker.engine.on_amc_final = state.metrics.observe_detection
    task = asyncio.ensure_future(worker.run())
    log.info("worker %s started", worker.engine.owner)
    try:
        yield
    finally:
        state.draining.set()
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("worker stopped")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("amc-manager")
    except PackageNotFoundError:
        return "0"
