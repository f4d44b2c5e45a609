"""Audit of every HTTP request the client sends: who, which instance, what, outcome, timing.

Events are emitted from httpx event hooks, so requests replayed inside the auth flow are
recorded too; the operation's context travels in a context variable. No event carries a
secret: only method, path (no query string), status and timings.
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
                str(a).split("?", 1)[0] + "?<redacted>" if "X-Amz-" in str(a) else a
                for a in record.args
            )
        return True


def redact_http_logs() -> None:
    """Install the filter once on httpx's logger (idempotent)."""
    target = logging.getLogger("httpx")
    if not any(isinstance(f, RedactQueryStrings) for f in target.filters):
        target.addFilter(RedactQueryStrings())


_context: ContextVar[AuditContext | None] = ContextVar("amc_audit_context", default=None)
_attempt: ContextVar[int] = ContextVar("amc_audit_attempt", default=1)


@contextmanager
def audit_scope(context: AuditContext, attempt: int = 1) -> Iterator[None]:
    token = _context.set(context)
    attempt_token = _attempt.set(attempt)
    try:
        yield
    finally:
        _context.reset(token)
        _attempt.reset(attempt_token)


class Auditor:
    """httpx event hooks that turn each request into an AuditEvent for `sink`."""

    def __init__(self, sink: AuditSink | None) -> None:
        self.sink = sink

    async def on_request(self, request: httpx.Request) -> None:
        request.extensions["amc_started"] = time.perf_counter()

    async def on_response(self, response: httpx.Response) -> None:
        self._emit(response.request, response.status_code, None)

    def transport_failed(self, request: httpx.Request | None, error: BaseException) -> None:
        if request is not None:
            self._emit(request, None, type(error).__name__)

    def _emit(self, request: httpx.Request, status: int | None, error: str | None) -> None:
        context = _context.get()
        if self.sink is None or context is None:
            return
        started = request.extensions.get("amc_started", time.perf_counter())
        self.sink.record(
            AuditEvent(
                user=context.user,
                instance_id=context.instance_id,
                operation=context.operation,
                kind=context.kind,
                method=request.method,
                path=request.url.path,
                status=status,
                attempt=_attempt.get(),
                duration=time.perf_counter() - float(started),
                error=error,
            )
        )
