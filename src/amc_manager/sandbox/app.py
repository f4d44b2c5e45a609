"""The sandbox as an ASGI application: AMC's reporting API, discovery, Login with Amazon, S3."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from amc_manager.sandbox import executions as ex
from amc_manager.sandbox import lwa
from amc_manager.sandbox.errors import BadRequest, SandboxHTTPError, Throttled, Unauthorized
from amc_manager.sandbox.faults import FaultMiddleware
from amc_manager.sandbox.identity import Account
from amc_manager.sandbox.results import check_presigned, presign, s3_error_xml
from amc_manager.sandbox.service import Sandbox
from amc_manager.sandbox.timewindow import format_utc

JSON_TYPES = ("application/json", "application/x-amz-json")


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _error_response(request: Request, status: int, details: str) -> JSONResponse:
    if _sandbox(request).config.faults.message_shaped_errors:
        return JSONResponse({"message": details}, status_code=status)
    return JSONResponse({"code": str(status), "details": details}, status_code=status)


def retry_after_header(seconds: float, time_scale: float) -> str:
    """Whole seconds as HTTP says; with a time scale the scaled value needs a fraction."""
    if time_scale == 1:
        return str(max(1, math.ceil(seconds)))
    return f"{max(seconds, 0.001):.3f}"


async def _on_sandbox_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxHTTPError)
    response = _error_response(request, exc.status, exc.details)
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = retry_after_header(
            exc.retry_after, _sandbox(request).config.time_scale
        )
    return response


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = "Not Found" if exc.status_code == 404 else str(exc.detail)
    return _error_response(request, exc.status_code, detail)


async def _on_oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, lwa.OAuthError)
    return JSONResponse(exc.body(), status_code=exc.status)


# --- request plumbing --------------------------------------------------------------------


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if not (
        content_type in JSON_TYPES
        or (content_type.startswith("application/vnd.") and content_type.endswith("json"))
    ):
        raise SandboxHTTPError(f"Unsupported Media Type: {content_type}", status=415)
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None


async def _authenticate(request: Request, *, advertiser: bool = True) -> Account:
    """The account the bearer's identity sees; 403 when the Ads headers name another."""
    sandbox = _sandbox(request)
    headers = request.headers
    identity = await lwa.check_bearer(
        sandbox.store,
        sandbox.config,
        headers.get("authorization"),
        headers.get("amazon-advertising-api-clientid"),
        sandbox.clock(),
        sandbox.token_cache,
    )
    account = sandbox.directory.account_of(identity)
    if advertiser and (
        headers.get("amazon-advertising-api-advertiserid") != account.account_id
        or headers.get("amazon-advertising-api-marketplaceid") != account.marketplace_id
    ):
        raise Unauthorized()
    return account


async def _instance(request: Request) -> str:
    """The path's instance, when it is one of the caller's account (else 403, as AMC)."""
    account = await _authenticate(request)
    instance_id = str(request.path_params["instance_id"])
    if account.instance(instance_id) is None:
        raise Unauthorized()
    return instance_id


def _limit(request: Request) -> int:
    # An empty value is the default, as AMC takes it (AIOA pages with `nextToken=` empty).
    raw = request.query_params.get("limit") or "100"
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid limit '{raw}': an integer from 1 to 100 is required.") from None
    if not 1 <= limit <= 100:
        raise BadRequest(f"Invalid limit {limit}: an integer from 1 to 100 is required.")
    return limit


def _page(request: Request, items: list[Any], scope: str) -> tuple[list[Any], str | None]:
    """`limit`/`nextToken` paging; a token is bound to the query that produced it."""
    limit = _limit(request)
    key = hashlib.sha256(scope.encode()).hexdigest()[:16]
    token = request.query_params.get("nextToken") or ""
    offset = 0
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset = int(decoded["o"])
            if decoded["k"] != key or offset < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
            raise BadRequest(f"Invalid nextToken '{token}'.") from None
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_token = (
        base64.urlsafe_b64encode(json.dumps({"o": offset + limit, "k": key}).encode()).decode()
        if more
        else None
    )
    return page, next_token


def _paged(request: Request, field: str, items: list[Any], scope: str) -> JSONResponse:
    page, token = _page(request, items, scope)
    body: dict[str, Any] = {field: page}
    if token:
        body["nextToken"] = token
    return JSONResponse(body)


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise BadRequest(f"Invalid {name} '{value}': true or false.")
    return value == "true"


# --- Login with Amazon --------------------------------------------------------------------


async def token(request: Request) -> Response:
    sandbox = _sandbox(request)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            raw = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise lwa.OAuthError("invalid_request", "The request body is not valid JSON") from None
        form = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    else:
        form = {k: str(v) for k, v in (await request.form()).items()}
    body = await lwa.grant(sandbox.store, sandbox.config, form, sandbox.clock(), sandbox.directory)
    sandbox.stats.token_grants += 1
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def consent(request: Request) -> Response:
    sandbox = _sandbox(request)
    params = dict(request.query_params)
    if "text/html" in request.headers.get("accept", ""):  # a browser picks who signs in
        page = lwa.sign_in_page(params, sandbox.directory)
        if page is not None:
            return HTMLResponse(page, headers={"Cache-Control": "no-store"})
    target = await lwa.authorize(
        sandbox.store, sandbox.config, params, sandbox.clock(), sandbox.directory
    )
    return RedirectResponse(target, status_code=302)


# --- discovery ----------------------------------------------------------------------------


async def accounts(request: Request) -> Response:
    account = await _authenticate(request, advertiser=False)
    return _paged(request, "amcAccounts", [account.as_json()], "accounts")


def _instance_json(request: Request, instance: Any) -> dict[str, Any]:
    creation = format_utc(datetime(2024, 1, 15, 17, 0))
    endpoint = str(request.base_url).rstrip("/")
    result: dict[str, Any] = instance.as_json(creation=creation, api_endpoint=endpoint)
    return result


async def instances(request: Request) -> Response:
    account = await _authenticate(request)
    items = [_instance_json(request, i) for i in account.instances]
    return _paged(request, "instances", items, f"instances:{account.account_id}")


async def instance(request: Request) -> Response:
    """Wrapped in `instance`, as the Administration spec and Amazon's samples show it."""
    instance_id = await _instance(request)
    found = _sandbox(request).directory.owner(instance_id)
    assert found is not None  # _instance checked the caller's account holds it
    return JSONResponse({"instance": _instance_json(request, found.instance(instance_id))})


# --- workflows ----------------------------------------------------------------------------


async def workflows(request: Request) -> Response:
    instance_id = await _instance(request)
    sandbox = _sandbox(request)
    if request.method == "POST":
        await sandbox.create_workflow(instance_id, await _json_body(request))
        return JSONResponse({})
    items = await sandbox.list_workflows(instance_id)
    return _paged(request, "workflows", items, f"workflows:{instance_id}")


async def workflow(request: Request) -> Response:
    instance_id = await _instance(request)
    sandbox = _sandbox(request)
    workflow_id = str(request.path_params["workflow_id"])
    if request.method == "PUT":
        await sandbox.update_workflow(instance_id, workflow_id, await _json_body(request))
        return JSONResponse({})
    if request.method == "DELETE":
        await sandbox.delete_workflow(instance_id, workflow_id)
        return JSONResponse({})
    # Flat, as AMC answers in practice (the spec wraps it in `workflow`; amc-api.md 3.7).
    return JSONResponse(await sandbox.get_workflow(instance_id, workflow_id))


# --- executions ---------------------------------------------------------------------------


async def executions(request: Request) -> Response:
    instance_id = await _instance(request)
    sandbox = _sandbox(request)
    if request.method == "POST":
        return JSONResponse(await sandbox.create_execution(instance_id, await _json_body(request)))
    params = request.query_params
    workflow_id = params.get("workflowId")
    tz_name = params.get("timeZone", "UTC")
    min_raw, max_raw = params.get("minCreationTime"), params.get("maxCreationTime")
    if workflow_id is None and min_raw is None:
        raise BadRequest("Either workflowId or minCreationTime must be provided.")
    items = await sandbox.list_executions(
        instance_id,
        workflow_id=workflow_id,
        min_created=ex.creation_bound(min_raw, tz_name, "minCreationTime") if min_raw else None,
        max_created=ex.creation_bound(max_raw, tz_name, "maxCreationTime") if max_raw else None,
        include_cancelled=_flag(request, "includeCancelled"),
        include_workflow=_flag(request, "includeWorkflow"),
        ascending=_flag(request, "sortAscending"),
    )
    filters = sorted((k, v) for k, v in params.items() if k not in ("nextToken", "limit"))
    scope = f"executions:{instance_id}:{filters}"
    return _paged(request, "executions", items, scope)


async def execution(request: Request) -> Response:
    instance_id = await _instance(request)
    sandbox = _sandbox(request)
    execution_id = str(request.path_params["execution_id"])
    if request.method == "PUT":
        await sandbox.cancel_execution(instance_id, execution_id, await _json_body(request))
        return JSONResponse({})
    include = _flag(request, "includeWorkflow")
    return JSONResponse(
        await sandbox.get_execution(instance_id, execution_id, include_workflow=include)
    )


async def download_urls(request: Request) -> Response:
    instance_id = await _instance(request)
    sandbox = _sandbox(request)
    execution_id = str(request.path_params["execution_id"])
    doc, files = await sandbox.result_files(instance_id, execution_id)
    metadata = list((doc.get("result") or {}).get("metadata", []))
    base = str(request.base_url)
    now = sandbox.now()
    expires = ex.expire_seconds(sandbox.config)
    bucket = sandbox.bucket(instance_id)

    def url(name: str) -> str:
        return presign(
            sandbox.url_secret, base, f"/s3/{bucket}/{execution_id}/{name}", now, expires
        )

    return JSONResponse(
        {
            "downloadUrls": [url(f) for f in files],
            "metadataDownloadUrls": [url(m) for m in metadata],
        }
    )


# --- data sources, downloads, counters ----------------------------------------------------


async def data_sources(request: Request) -> Response:
    instance_id = await _instance(request)
    items = _sandbox(request).data_sources()
    return _paged(request, "dataSources", items, f"dataSources:{instance_id}")


async def data_source(request: Request) -> Response:
    await _instance(request)
    name = str(request.path_params["data_source_id"])
    return JSONResponse({"dataSource": _sandbox(request).data_source(name)})


async def s3_object(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.stats.downloads += 1
    request_id = hashlib.sha1(request.url.path.encode()).hexdigest()[:16].upper()
    problem = check_presigned(
        sandbox.url_secret, request.url.path, dict(request.query_params), sandbox.now()
    )
    if problem is not None:
        code, message = problem.split("|", 1)
        return Response(
            s3_error_xml(code, message, request_id), status_code=403, media_type="application/xml"
        )
    path = sandbox.result_path(
        str(request.path_params["execution_id"]), str(request.path_params["name"])
    )
    if path is None:
        xml = s3_error_xml("NoSuchKey", "The specified key does not exist.", request_id)
        return Response(xml, status_code=404, media_type="application/xml")
    media = "application/json" if path.suffix == ".json" else "text/csv"
    return FileResponse(path, media_type=media)


async def stats(request: Request) -> Response:
    sandbox = _sandbox(request)
    if not sandbox.config.stats_enabled:
        raise HTTPException(404)
    body = sandbox.stats.as_json()
    body["executions_stored"] = await sandbox.store.transact(_count_executions)
    body["now"] = format_utc(datetime.now(UTC).replace(tzinfo=None))
    return JSONResponse(body)


def _count_executions(conn: Any) -> int:
    from amc_manager.sandbox.store import count_executions

    return count_executions(conn)


def create_app(sandbox: Sandbox) -> FaultMiddleware:
    """The ASGI app over `sandbox` (already configured); opens it on first use."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    reporting = "/amc/reporting/{instance_id}"
    routes = [
        Route("/auth/o2/token", token, methods=["POST"]),
        Route("/ap/oa", consent, methods=["GET"]),
        Route("/amc/accounts", accounts, methods=["GET"]),
        Route("/amc/instances", instances, methods=["GET"]),
        Route("/amc/instances/{instance_id}", instance, methods=["GET"]),
        Route(f"{reporting}/workflows", workflows, methods=["GET", "POST"]),
        Route(f"{reporting}/workflows/{{workflow_id}}", workflow, methods=["GET", "PUT", "DELETE"]),
        Route(f"{reporting}/workflowExecutions", executions, methods=["GET", "POST"]),
        Route(
            f"{reporting}/workflowExecutions/{{execution_id}}", execution, methods=["GET", "PUT"]
        ),
        Route(
            f"{reporting}/workflowExecutions/{{execution_id}}/downloadUrls",
            download_urls,
            methods=["GET"],
        ),
        Route(f"{reporting}/dataSources", data_sources, methods=["GET"]),
        Route(f"{reporting}/dataSources/{{data_source_id}}", data_source, methods=["GET"]),
        Route("/s3/{bucket}/{execution_id}/{name}", s3_object, methods=["GET"]),
        Route("/__sandbox/stats", stats, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            SandboxHTTPError: _on_sandbox_error,
            HTTPException: _on_http_error,
            lwa.OAuthError: _on_oauth_error,
        },
    )
    sandbox.open()
    app.state.sandbox = sandbox
    return FaultMiddleware(app, sandbox)
