"""`amc worker --metrics-port`: the same Prometheus metrics as `amc serve`'s `/metrics`, served
by a tiny ASGI app on uvicorn inside the worker's event loop (loopback unless told otherwise).

The registry is `ApiMetrics`, wired as `amc serve` wires it (every AMC call counted, the
detection lag observed when the engine reads a final status, the store-wide gauges read at
each scrape), plus the worker's own count of store queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from amc_manager.api.metrics import ApiMetrics

if TYPE_CHECKING:
    from amc_manager.service.runtime import Runtime

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
START_SECONDS = 10.0


class _Quiet(uvicorn.Server):
    """uvicorn without its signal handling: the worker owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class MetricsServer:
    """Serves `GET /metrics` for one worker process until `stop()`."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        host: str = "127.0.0.1",
        port: int = 9464,
        store_queries: Callable[[], int] | None = None,
    ) -> None:
        self.runtime = runtime
        self.metrics = ApiMetrics()
        if store_queries is not None:
            self.metrics.registry.register(_StoreQueries(store_queries))
        self.host = host
        self.port = port
        self._server: _Quiet | None = None
        self._task: asyncio.Task[None] | None = None

    def wire(self) -> None:
        """Count what this process does: AMC calls, detection lags (as `amc serve` does)."""
        self.runtime.audit.observer = self.metrics.observe_call
        self.runtime.engine().on_amc_final = self.metrics.observe_detection

    async def start(self) -> str:
        """Bind and serve; the URL actually bound (port 0 picks a free one)."""
        self.wire()
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        config = uvicorn.Config(
            self._app,
            host=self.host,
            port=self.port,
            access_log=False,
            log_config=None,
            lifespan="off",
            interface="asgi3",
            server_header=False,
        )
        self._server = _Quiet(config)
        self._task = asyncio.ensure_future(self._server.serve())
        deadline = asyncio.get_running_loop().time() + START_SECONDS
        while not self._server.started:
            if self._task.done():
                self._task.result()  # the bind failed: raise its error
                raise OSError(f"could not serve metrics on {self.host}:{self.port}")
            if asyncio.get_running_loop().time() > deadline:
                raise OSError(f"metrics server on {self.host}:{self.port} did not start")
            await asyncio.sleep(0.02)
        return self.url

    @property
    def url(self) -> str:
        host, port = self.host, self.port
        if self._server is not None:
            for listener in self._server.servers:
                for sock in listener.sockets:
                    host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/metrics"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await self._task

    async def _app(self, scope: Scope, _receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != "/metrics" or scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 404, b"not found\n", "text/plain; charset=utf-8")
            return
        body = await self.metrics.render(self.runtime)
        await _answer(send, 200, body, CONTENT_TYPE_LATEST)


class _StoreQueries(Collector):
    """`amc_store_queries_total`, read from the process's statement counter at each scrape."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "amc_store_queries",
            "Statements this process sent to the store (the worker's database cost).",
            value=self.count(),
        )


async def _answer(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
