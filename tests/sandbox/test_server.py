"""The sandbox on a real socket: throttling, faults, counters, restarts and determinism."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.rows import assert_same_rows, same_rows
from tests.sandbox.conftest import live_api
from tests.sandbox.helpers import Api

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


async def _stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/__sandbox/stats")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def test_throttling_answers_429_with_retry_after(live_server_factory: Any) -> None:
    live = live_server_factory(throttle_rate=5, throttle_burst=5)
    async with live_api(live) as api:
        client = api.client
        responses = [await api.request("GET", f"{api.base}/workflows") for _ in range(15)]
        limited = [r for r in responses if r.status_code == 429]
        assert limited, "a burst beyond the bucket must be throttled"
        assert limited[0].json() == {"code": "429", "details": "Too Many Requests"}
        retry_after = float(limited[0].headers["Retry-After"])
        assert retry_after >= 1
        other = api.sandbox.account.instances[1].instance_id
        assert (await api.request("GET", f"/amc/reporting/{other}/workflows")).status_code == 200
        await asyncio.sleep(retry_after)
        assert (await api.request("GET", f"{api.base}/workflows")).status_code == 200
        stats = await _stats(client)
        assert stats["throttled_total"] == len(limited)
        assert stats["requests_by_instance"][api.instance] == 16
        assert stats["token_grants"] == 1


async def test_counters_keep_grants_and_downloads_apart(live_server_factory: Any) -> None:
    live = live_server_factory(throttle_rate=0)
    async with live_api(live) as api:
        client = api.client
        final, _ = await api.run(SQL)
        stats = await _stats(client)
        assert stats["token_grants"] == 1
        assert stats["downloads"] == 1
        assert stats["executions_created"] == 1
        assert stats["executions_stored"] == 1
        assert stats["max_open_by_instance"][api.instance] == 1
        assert stats["requests_total"] == sum(stats["requests_by_instance"].values())
        per_second = stats["requests_by_second"][api.instance]
        assert sum(per_second.values()) == stats["requests_by_instance"][api.instance]
        del final


async def test_stats_endpoint_off_by_default(live_server_factory: Any) -> None:
    live = live_server_factory(stats_enabled=False)
    async with httpx.AsyncClient(base_url=live.url) as client:
        assert (await client.get("/__sandbox/stats")).status_code == 404


async def test_lost_create_response_still_creates(live_server_factory: Any) -> None:
    live = live_server_factory(faults={"lost_create_rate": 1.0})
    async with live_api(live) as api:
        client = api.client
        response = await api.create(SQL)
        assert response.status_code == 504
        assert response.json() == {"message": "Endpoint request timed out"}
        stats = await _stats(client)
        assert stats["executions_created"] == 1
        assert stats["faults"]["lost_create"] == 1


async def test_server_errors_and_dropped_connections(live_server_factory: Any) -> None:
    live = live_server_factory(faults={"server_error_rate": 1.0})
    async with live_api(live) as api:
        response = await api.request("GET", f"{api.base}/workflows")
        assert response.status_code in (500, 502, 503)
        assert response.json()["code"] == str(response.status_code)
    live = live_server_factory(faults={"drop_connection_rate": 1.0})
    async with live_api(live) as api:
        with pytest.raises(httpx.TransportError):
            await api.request("GET", f"{api.base}/workflows")


async def test_rate_limit_bursts(live_server_factory: Any) -> None:
    live = live_server_factory(
        throttle_rate=0,
        faults={"rate_limit_rate": 1.0, "rate_limit_burst": 3, "retry_after_seconds": 2},
    )
    async with live_api(live) as api:
        response = await api.request("GET", f"{api.base}/workflows")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "2"


async def test_state_survives_a_restart(live_server_factory: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = live_server_factory(state_dir=state)
    async with live_api(first) as api:
        final, rows = await api.run(SQL)
        token = api.headers["Authorization"]
    second = live_server_factory(state_dir=state)
    async with httpx.AsyncClient(base_url=second.url) as client2:
        api2 = Api(client2, second.sandbox)
        api2.headers = {**api.headers, "Authorization": token}
        again = await api2.status(final["workflowExecutionId"])
        assert again["status"] == "SUCCEEDED"
        assert again["createTime"] == final["createTime"]
        assert await api2.rows(final["workflowExecutionId"]) == rows


async def test_same_seed_same_rows_other_seed_differs(live_server_factory: Any) -> None:
    results = []
    for seed in (11, 11, 12):
        live = live_server_factory(seed=seed)
        async with live_api(live) as api:
            results.append(((await api.run(SQL))[1], api.instance))
    assert results[0][1] == results[1][1]
    assert_same_rows(results[0][0], results[1][0], header=True)
    assert not same_rows(results[0][0], results[2][0], header=True)
    assert results[0][1] != results[2][1]
