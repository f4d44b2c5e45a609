"""Prometheus metrics of one `amc serve` process: HTTP latency by route, AMC calls by
operation and status, AMC's 429s, token refreshes; and, read from the store at each scrape
(so every process sharing the store reports the same numbers), executions by state, queue
depth per instance and the lag from AMC finishing a run to its result being available."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from amc_manager.client import AuditEvent
from amc_manager.service import ExecutionState

if TYPE_CHECKING:
    from amc_manager.service.runtime import Runtime

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Lags are paced by polling (seconds to minutes) and downloads (up to hours for big results).
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
FINAL_AMC_STATUSES = ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED")


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
        self.queue_depth = Gauge(
            "amc_queue_depth",
            "Executions waiting in state queued, by AMC instance id.",
            ("instance_id",),
            registry=self.registry,
        )
        self.detection_lag = Histogram(
            "amc_detection_lag_seconds",
            "From AMC finishing a run (its lastUpdatedTime) to this process's worker reading it.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.total_lag = Histogram(
            "amc_total_lag_seconds",
            "From AMC finishing a run to its result being available (our succeeded).",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        # Execution events already turned into lag observations (ids only grow).
        self._lags_read_upto = 0

    def observe_call(self, event: AuditEvent) -> None:
        status = "error" if event.status is None else str(event.status)
        self.amc_calls.labels(event.operation, status).inc()
        if event.status == 429:
            self.amc_throttled.labels(event.operation).inc()
        if event.kind == "token":
            self.token_refreshes.labels(status).inc()

    def observe_detection(self, amc_finished_at: float, noticed_at: float) -> None:
        """The in-process worker read a run's final status (AMC's own time where it gives one)."""
        self.detection_lag.observe(max(0.0, noticed_at - amc_finished_at))

    async def render(self, runtime: Runtime) -> bytes:
        counts = await runtime.store.execution_counts()
        for state in ExecutionState:
            self.executions.labels(state.value).set(counts.get(state.value, 0))
        await self._read_queue_depths(runtime)
        await self._read_lags(runtime)
        return generate_latest(self.registry)

    async def _read_queue_depths(self, runtime: Runtime) -> None:
        depths = await runtime.store.queue_depths()
        self.queue_depth.clear()  # an instance whose queue emptied reports nothing, not stale
        for instance_id, depth in depths.items():
            self.queue_depth.labels(instance_id).set(depth)

    async def _read_lags(self, runtime: Runtime) -> None:
        """Observe the runs that succeeded since the last scrape, once each."""
        upto, lags = await runtime.store.finish_lags(self._lags_read_upto, FINAL_AMC_STATUSES)
        self._lags_read_upto = upto
        for amc_finished_at, available_at in lags:
            self.total_lag.observe(max(0.0, available_at - amc_finished_at))
