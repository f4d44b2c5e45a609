"""Create-execution under lost answers and dropped connections: never a duplicate."""

from __future__ import annotations

import asyncio
from typing import Any

from amc_manager.client import ExecutionRequest
from amc_manager.client.submit import matches, with_nonce, without_nonce
from tests.client.conftest import client_for
from tests.windows import amc_window

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


async def test_hundred_submissions_make_exactly_hundred_executions(live: Any) -> None:
    server = live(
        throttle_rate=0,
        duration="600",
        faults={"lost_create_rate": 0.3, "drop_connection_rate": 0.15, "seed": 3},
    )
    async with client_for(server.sandbox, server.url, rate=0) as setup:
        await setup.client.create_workflow(
            setup.instance, {"workflowId": "saved-perf", "sqlQuery": SQL}
        )
        requests = []
        for i in range(100):
            start, end = amc_window(end_days_ago=3 + i % 30)
            if i % 2:
                requests.append(ExecutionRequest(sql=SQL, start=start, end=end))
            else:
                requests.append(
                    ExecutionRequest(
                        workflow_id="saved-perf",
                        start=start,
                        end=end,
                        parameter_values={"run": str(i)},
                    )
                )
        gate = asyncio.Semaphore(10)

        async def submit(request: ExecutionRequest) -> str:
            async with gate:
                execution = await setup.client.create_execution(setup.instance, request)
                return execution.execution_id

        ids = await asyncio.gather(*(submit(r) for r in requests))
        stats = await setup.stats()
    assert len(set(ids)) == 100
    assert stats["executions_created"] == 100
    assert stats["executions_stored"] == 100
    assert stats["faults"].get("lost_create", 0) > 5
    assert stats["faults"].get("dropped_connection", 0) > 5


def test_nonce_keeps_line_numbers_and_comes_off() -> None:
    sql = "SELECT a\nFROM t -- trailing comment"
    tagged = with_nonce(sql, "abc123")
    assert tagged.splitlines()[:2] == sql.splitlines()
    assert without_nonce(tagged) == sql


def test_matching_falls_back_to_sql_window_and_values() -> None:
    from amc_manager.client import Execution

    request = ExecutionRequest(sql=SQL, start="2026-01-01T00:00:00", end="2026-01-02T00:00:00")
    stripped = Execution.model_validate(
        {
            "workflowExecutionId": "e1",
            "status": "PENDING",
            "sqlQuery": SQL,
            "timeWindowStartOriginal": "2026-01-01T00:00:00",
            "timeWindowEndOriginal": "2026-01-02T00:00:00",
        }
    )
    assert matches(stripped, request, "nonce-not-kept-by-amc")
    other_window = stripped.model_copy(update={"time_window_end_original": "2026-01-03T00:00:00"})
    assert not matches(other_window, request, "x")
    tagged = stripped.model_copy(update={"sql_query": with_nonce(SQL, "other")})
    assert not matches(tagged, request, "mine")
