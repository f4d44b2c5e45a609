"""The sandbox's front door for `/amc/...`: counters, throttling and injected faults.

Faults are drawn from a seeded generator so a test run is repeatable; every fault is off by
default. A dropped connection sends half a response and aborts, which a real HTTP client sees
as a broken connection. Fail markers are the deterministic fault: counted in the state store,
so every process sharing it fails the same executions.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amc_manager.sandbox import store as st
from amc_manager.sandbox.config import FailMarker
from amc_manager.sandbox.errors import SandboxError

if TYPE_CHECKING:
    import sqlite3

    from amc_manager.sandbox.service import Sandbox


class DroppedConnection(SandboxError, ConnectionAbortedError):
    """Raised inside the server to cut a connection on purpose."""


def _instance_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "amc" and parts[2] == "reporting":
        return parts[3]
    return None


class FaultMiddleware:
    """Wraps the sandbox app; only paths under `/amc/` are counted, throttled and faulted."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.rng = random.Random(sandbox.config.faults.seed)
        self._burst_left = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/amc/"):
            await self.app(scope, receive, send)
            return
        sandbox, faults = self.sandbox, self.sandbox.config.faults
        instance = _instance_of(scope["path"])
        sandbox.stats.api_request(instance)
        if faults.latency_ms and (not faults.slow_instances or instance in faults.slow_instances):
            await asyncio.sleep(faults.latency_ms / 1000)
        wait = sandbox.throttle.acquire(instance or "discovery")
        if wait is None and self._rate_limit_fault():
            wait = sandbox.config.scaled(faults.retry_after_seconds)
        if wait is not None:
            sandbox.stats.throttled(instance)
            await self._throttled(send, wait)
            return
        if faults.server_error_rate and self.rng.random() < faults.server_error_rate:
            sandbox.stats.faults["server_error"] += 1
            status = self.rng.choice((500, 502, 503))
            await self._error(
                send, status, "Internal Server Error" if status == 500 else "Service Unavailable"
            )
            return
        if faults.drop_connection_rate and self.rng.random() < faults.drop_connection_rate:
            sandbox.stats.faults["dropped_connection"] += 1
            if self.rng.random() < 0.5:
                await self._drop(send)
            await self._run_then_drop(scope, receive, send)
            return
        if (
            self._is_create(scope)
            and faults.lost_create_rate
            and self.rng.random() < faults.lost_create_rate
        ):
            sandbox.stats.faults["lost_create"] += 1
            await self._run_then(scope, receive, lambda: self._gateway_timeout(send))
            return
        await self.app(scope, receive, send)

    def _rate_limit_fault(self) -> bool:
        faults = self.sandbox.config.faults
        if self._burst_left > 0:
            self._burst_left -= 1
            return True
        if faults.rate_limit_rate and self.rng.random() < faults.rate_limit_rate:
            self._burst_left = faults.rate_limit_burst - 1
            self.sandbox.stats.faults["rate_limit_burst"] += 1
            return True
        return False

    @staticmethod
    def _is_create(scope: Scope) -> bool:
        return scope["method"] == "POST" and str(scope["path"]).endswith("/workflowExecutions")

    async def _respond(
        self, send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
    ) -> None:
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _error(
        self, send: Send, status: int, details: str, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        body: dict[str, Any] = {"code": str(status), "details": details}
        if self.sandbox.config.faults.message_shaped_errors:
            body = {"message": details}
        await self._respond(send, status, body, extra or [])

    async def _throttled(self, send: Send, wait: float) -> None:
        from amc_manager.sandbox.app import retry_after_header

        header = retry_after_header(wait, self.sandbox.config.time_scale).encode()
        await self._error(send, 429, "Too Many Requests", [(b"retry-after", header)])

    async def _gateway_timeout(self, send: Send) -> None:
        # API Gateway's own body shape, as AIOA saw it: {"message": "Endpoint request timed out"}
        await self._respond(send, 504, {"message": "Endpoint request timed out"}, [])

    async def _drop(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"', "more_body": True})
        raise DroppedConnection("sandbox fault: connection dropped")

    async def _run_then(self, scope: Scope, receive: Receive, after: Any) -> None:
        """Handle the request fully (state changes happen), then lose the real response."""

        async def swallow(_message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        await after()

    async def _run_then_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._run_then(scope, receive, lambda: self._drop(send))


def fail_marked(conn: sqlite3.Connection, doc: dict[str, Any], markers: list[FailMarker]) -> None:
    """Plan a new execution to end FAILED when its SQL holds a marker not yet failed `times`.

    Called in the create's transaction, so concurrent creates count each failure once. Dry runs
    (no compute) and executions already bound to fail do not count.
    """
    if not markers or doc["dry_run"] or doc["outcome"] != "SUCCEEDED":
        return
    sql = str(doc["workflow"].get("sqlQuery", ""))
    for marker in markers:
        if marker.marker not in sql:
            continue
        key = f"fail_marker:{marker.marker}"
        failed = int(st.meta_get(conn, key) or 0)
        if failed < marker.times:
            st.meta_set(conn, key, str(failed + 1))
            doc["outcome"], doc["outcome_reason"] = "FAILED", marker.reason
            return
