"""Errors as `application/problem+json` (RFC 9457): our error family, HTTP errors, request
validation and anything unexpected, mapped to a status in one place.

Every body has `type`, `title`, `status` and `detail`; a `hint` says what to do, and request
validation lists `errors` with field paths. An unexpected exception answers a bare 500: its
text may hold anything, so it is logged (without the request's secrets) and never echoed.

AmcManagerError (amc_manager.errors)
└── ApiProblem          what the API itself refuses (authentication, CSRF, throttling, cursors)
    └── BodyTooLarge    a request body over the limit, noticed while reading it (413)
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from amc_manager.client import errors as amc
from amc_manager.errors import (
    AmcManagerError,
    ConfigurationError,
    InvalidQuery,
    ParameterError,
    UsageError,
    WindowError,
)
from amc_manager.service import InvalidTransition, StoreError
from amc_manager.service.errors import (
    Conflict,
    NotFound,
    NotPermitted,
    ResultGone,
    StorageUnavailable,
)
from amc_manager.sql.problems import Problem as SourceProblem

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("amc_manager.api")

# Most specific first: the first class an error is an instance of decides its status.
STATUS_OF: tuple[tuple[type[AmcManagerError], int], ...] = (
    (NotFound, 404),
    (NotPermitted, 403),
    (Conflict, 409),
    (InvalidQuery, 422),
    (ParameterError, 422),
    (WindowError, 422),
    (UsageError, 400),
    (amc.InvalidIdentity, 400),
    (amc.ValidationError, 422),
    (amc.NotFoundError, 404),
    (amc.ExecutionFailed, 409),
    (amc.ExecutionRejected, 409),
    (amc.ReauthenticationRequired, 409),
    (amc.RateLimitedError, 503),
    (amc.QuotaExceededError, 503),
    (amc.DownloadUnavailable, 503),
    (amc.AmcError, 502),  # AMC refused or could not be reached: the gateway's problem
    (InvalidTransition, 409),
    (StoreError, 503),
    (StorageUnavailable, 503),  # result storage out of reach: try again later
    (ResultGone, 409),  # as for a result pruned by retention
    (ConfigurationError, 500),
)


class FieldError(BaseModel):
    """One invalid field of the request: where it is and what is wrong."""

    loc: list[str | int] = Field(description="Path to the field: body, query, path or header.")
    message: str
    type: str


class SqlProblem(BaseModel):
    """One problem of the SQL, its parameters or its window (as `POST /validate` lists them)."""

    severity: str
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    hint: str | None = Field(None, description="What to do about it.")
    errors: list[FieldError] | None = None
    problems: list[SqlProblem] | None = Field(
        None, description="Every problem of refused SQL, parameters or window."
    )


class ApiProblem(AmcManagerError):
    """A problem the API itself raises (authentication, CSRF, throttling, cursors)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail, hint=hint)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.headers = headers


class BodyTooLarge(ApiProblem):
    """The request body went over the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than {limit // 1024} KiB",
            slug="body-too-large",
            hint="send less per request",
            headers={"Connection": "close"},
        )


def status_of(exc: AmcManagerError) -> int:
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 500


def problem_type(slug: str | None = None) -> str:
    if slug is None:
        return "about:blank"
    return f"urn:amc-manager:problem:{slug}"


def _slug(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def problem_response(
    status: int,
    detail: str | None,
    *,
    slug: str | None = None,
    hint: str | None = None,
    errors: list[FieldError] | None = None,
    sql_problems: list[SqlProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=problem_type(slug),
        title=_title(status),
        status=status,
        detail=detail,
        hint=hint,
        errors=errors,
        problems=sql_problems,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status, headers=headers, media_type=MEDIA_TYPE
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _ours(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AmcManagerError)
    status = status_of(exc)
    if status >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc.message)
    headers = None
    retry_after = getattr(exc, "retry_after", None)
    if status == 503 and isinstance(retry_after, int | float):
        headers = {"Retry-After": str(max(1, round(retry_after)))}
    return problem_response(
        status,
        exc.message,
        slug=_slug(type(exc).__name__),
        hint=exc.hint,
        sql_problems=_sql_problems(exc),
        headers=headers,
    )


def _sql_problems(exc: AmcManagerError) -> list[SqlProblem] | None:
    if not isinstance(exc, InvalidQuery) or not exc.problems:
        return None
    found = [p for p in exc.problems if isinstance(p, SourceProblem)]
    return [
        SqlProblem(
            severity=p.severity.value, message=p.message, hint=p.hint, line=p.line, column=p.column
        )
        for p in found
    ]


async def _api(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        exc.status, exc.detail, slug=exc.slug, hint=exc.hint, headers=exc.headers
    )


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such route"
    return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}) or None)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(e) for e in exc.errors()]
    first = errors[0] if errors else None
    detail = "the request is invalid"
    if first is not None:
        detail = f"{'.'.join(str(p) for p in first.loc)}: {first.message}"
    return problem_response(422, detail, slug="invalid-request", errors=errors)


def _field_error(error: dict[str, Any]) -> FieldError:
    loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
    return FieldError(loc=loc, message=str(error.get("msg", "invalid")), type=str(error["type"]))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem_response(500, "an unexpected error occurred; it was logged")


def install(app: FastAPI) -> None:
    """Register every handler: the one place errors become HTTP answers."""
    app.add_exception_handler(AmcManagerError, _ours)
    app.add_exception_handler(ApiProblem, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problems a route may answer with."""
    return {
        status: {
            "model": Problem,
            "description": _title(status),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted(set(statuses))
    }
