"""Prometheus metrics of one `amc serve` process: HTTP latency by route, AMC calls by
operation and status, AMC's 429s, token refreshes, and executions by state (read from the
store at each scrape, so every process sharing the store reports the same numbers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from amc_manager.client import AuditEvent
from amc_manager.service import ExecutionState

if TYPE_CHECKING:
    from amc_manager.service.runtime import Runtime

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The process's own registry (not the global one: several apps may live in one test)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_latency = Histogram(
            "amc_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            ("route", "method", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.amc_calls = Counter(
            "amc_api_calls",
            "Requests to AMC (and Login with Amazon) by operation and HTTP status.",
            ("operation", "status"),
            registry=self.registry,
        )
        self.amc_throttled = Counter(
            "amc_api_throttled",
            "AMC answers of 429 Too Many Requests, by operation.",
            ("operation",),
            registry=self.registry,
        )
        self.token_refreshes = Counter(
            "amc_token_requests",
            "Requests to Login with Amazon's token endpoint, by HTTP status.",
            ("status",),
            registry=self.registry,
        )
        self.executions = Gauge(
            "amc_executions",
            "Executions in the store, by state.",
            ("state",),
            registry=self.registry,
        )

    def observe_call(self, event: AuditEvent) -> None:
        status = "error" if event.status is None else str(event.status)
        self.amc_calls.labels(event.operation, status).inc()
        if event.status == 429:
            self.amc_throttled.labels(event.operation).inc()
        if event.kind == "token":
            self.token_refreshes.labels(status).inc()

    async def render(self, runtime: Runtime) -> bytes:
        counts = await runtime.store.execution_counts()
        for state in ExecutionState:
            self.executions.labels(state.value).set(counts.get(state.value, 0))
        return generate_latest(self.registry)
