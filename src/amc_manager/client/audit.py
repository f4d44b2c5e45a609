"""Audit of every HTTP request the client sends: who, which instance, what, outcome, timing.

Events are emitted from httpx event hooks, so requests replayed inside the auth flow are
recorded too. The hooks are installed once per `httpx.AsyncClient`, however many users'
clients share it; the operation's context and the sink it goes to travel in a context
variable, so each request is recorded exactly once, for the user who sent it. No event
carries a secret: only method, path (no query string), status and timings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx

Kind = Literal["api", "token", "download"]
logger = logging.getLogger("amc_manager.audit")


@dataclass(frozen=True)
class AuditContext:
    """What the client is doing when it sends a request."""

    user: str
    instance_id: str | None
    operation: str
    kind: Kind = "api"


@dataclass(frozen=True)
class AuditEvent:
    """One HTTP request to AMC (or LwA, or a result file) and its outcome."""

    user: str
    instance_id: str | None
    operation: str
    kind: Kind
    method: str
    path: str
    status: int | None
    attempt: int
    duration: float
    error: str | None = None
    at: float = field(default_factory=time.time)


class AuditSink(Protocol):
    def record(self, event: AuditEvent) -> None: ...


class MemoryAuditSink:
    """Keeps events in a list (tests, short-lived tools)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def count(self, kind: Kind) -> int:
        return sum(1 for e in self.events if e.kind == kind)


class LoggingAuditSink:
    """Writes one INFO line per request to the `amc_manager.audit` logger."""

    def record(self, event: AuditEvent) -> None:
        logger.info(
            "%s %s %s %s status=%s attempt=%d %.3fs user=%s instance=%s%s",
            event.kind,
            event.operation,
            event.method,
            event.path,
            event.status,
            event.attempt,
            event.duration,
            event.user,
            event.instance_id or "-",
            f" error={event.error}" if event.error else "",
        )


class RedactQueryStrings(logging.Filter):
    """Cuts query strings from httpx's request log lines: presigned URLs carry signatures."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                str(a).split("?", 1)[0] + "?<redacted>" if _secret_query(str(a)) else a
                for a in record.args
            )
        return True


def _secret_query(url: str) -> bool:
    """Presigned URLs, and Login with Amazon's consent and callback URLs (state, code)."""
    query = url.partition("?")[2]
    return "X-Amz-" in query or "state=" in query or "code=" in query


def redact_http_logs() -> None:
    """Install the filter once on httpx's logger (idempotent)."""
    target = logging.getLogger("httpx")
    if not any(isinstance(f, RedactQueryStrings) for f in target.filters):
        target.addFilter(RedactQueryStrings())


@dataclass(frozen=True)
class _Scope:
    context: AuditContext
    attempt: int
    sink: AuditSink | None


_scope: ContextVar[_Scope | None] = ContextVar("amc_audit_scope", default=None)


@contextmanager
def audit_scope(context: AuditContext, sink: AuditSink | None, attempt: int = 1) -> Iterator[None]:
    """Requests sent inside this block are audited to `sink` as `context`, attempt `attempt`."""
    token = _scope.set(_Scope(context, attempt, sink))
    try:
        yield
    finally:
        _scope.reset(token)


def install_audit_hooks(http: httpx.AsyncClient) -> None:
    """Add the audit hooks to `http` once, however many clients (users) share it.

    The hooks are the same functions for every client; each request is recorded once, to the
    sink of the scope it was sent in (the client and user that sent it).
    """
    hooks = http.event_hooks
    if _on_request in hooks.get("request", []):
        return
    hooks["request"] = [*hooks.get("request", []), _on_request]
    hooks["response"] = [*hooks.get("response", []), _on_response]
    http.event_hooks = hooks


def audit_transport_failure(error: httpx.RequestError) -> None:
    """Record a request that got no answer (the hooks only see answers)."""
    try:
        request = error.request
    except RuntimeError:  # an error raised before any request was built
        return
    _emit(request, None, type(error).__name__)


async def _on_request(request: httpx.Request) -> None:
    request.extensions["amc_started"] = time.perf_counter()


async def _on_response(response: httpx.Response) -> None:
    _emit(response.request, response.status_code, None)


def _emit(request: httpx.Request, status: int | None, error: str | None) -> None:
    scope = _scope.get()
    if scope is None or scope.sink is None:
        return
    started = request.extensions.get("amc_started", time.perf_counter())
    context = scope.context
    scope.sink.record(
        AuditEvent(
            user=context.user,
            instance_id=context.instance_id,
            operation=context.operation,
            kind=context.kind,
            method=request.method,
            path=request.url.path,
            status=status,
            attempt=scope.attempt,
            duration=time.perf_counter() - float(started),
            error=error,
        )
    )
