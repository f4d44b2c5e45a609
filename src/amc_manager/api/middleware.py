"""Plain ASGI middleware around the API: body limit, security headers, the access log and
HTTP latency by route.

The access log is ours (uvicorn's is off): it names the route template when one matched
(so `/signin/{token}` never logs a token) and drops query strings, where secrets could travel.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amc_manager.api.problems import BodyTooLarge, problem_response

if TYPE_CHECKING:
    from amc_manager.api.metrics import ApiMetrics

MAX_BODY = 1024 * 1024  # 1 MiB (contracts.md)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
access_log = logging.getLogger("amc_manager.api.access")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
# The docs page loads its script and styles from a CDN; every other answer allows nothing.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413: by Content-Length, else (a chunked
    body) by reading it first, which holds at most `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.limit)
        response = problem_response(
            error.status, error.detail, slug=error.slug, hint=error.hint, headers=error.headers
        )
        await response(scope, receive, send)


class SecurityHeaders:
    """Headers every answer carries: no sniffing, no framing, no referrer, a strict CSP."""

    def __init__(self, app: ASGIApp, *, docs_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        relaxed = scope["path"] in self.docs_paths

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [h for h in SECURITY_HEADERS if h[0] not in present]
                if not relaxed and b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", API_CSP))
                if scope.get("scheme") == "https":
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, with_headers)


class AccessLog:
    """One line per request (method, route, status, milliseconds) and its latency metric."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            elapsed = time.perf_counter() - began
            route = route_of(scope)
            method = str(scope["method"])
            self.metrics.http_latency.labels(route, method, str(status)).observe(elapsed)
            access_log.info("%s %s %d %.1fms", method, route, status, elapsed * 1000)
        if method not in SAFE_METHODS:
            await _audit(scope, route, status, elapsed)


async def _audit(scope: Scope, route: str, status: int, elapsed: float) -> None:
    """Every mutating call of an authenticated caller goes to the audit log: who, route,
    target (the path's ids), outcome."""
    from amc_manager.service.audit import record_api_call

    who = (scope.get("state") or {}).get("caller")
    api = getattr(scope["app"].state, "api", None)
    if who is None or api is None:
        return
    params = scope.get("path_params") or {}
    target = ",".join(f"{k}={v}" for k, v in params.items() if k != "token") or None
    try:
        await record_api_call(
            api.runtime,
            who.email,
            method=str(scope["method"]),
            route=route,
            status=status,
            target=target,
            duration=elapsed,
            at=time.time(),
        )
    except Exception as exc:  # the answer is sent; a failed audit write must be seen, not raised
        access_log.warning("could not audit %s %s: %s", scope["method"], route, type(exc).__name__)


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/v1/executions/{id}`), else a fixed label: a raw
    path may carry a secret (a one-time sign-in token) and would make labels unbounded."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "<unmatched>"
