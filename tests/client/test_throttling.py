"""The request budget: a burst under AMC's throttle, 429s with Retry-After honoured."""

from __future__ import annotations

import asyncio
from typing import Any

from amc_manager.client import RateLimiter
from tests.client.conftest import client_for


async def test_burst_of_200_calls_sees_no_429_after_two_seconds(live: Any) -> None:
    # time_scale 2: AMC's 10 requests/s become 20/s, so the burst takes 10 s instead of 20.
    # AMC's bucket of 10 absorbs a stall of the process (client and sandbox share it) of up
    # to 10 / 20 = 0.5 s; at time_scale 5 that was 0.2 s, and a loaded CI machine stalled longer.
    server = live(throttle_rate=10, throttle_burst=10, time_scale=2)
    async with client_for(server.sandbox, server.url, rate=9.5 * 2) as setup:
        await asyncio.gather(*(setup.client.list_workflows(setup.instance) for _ in range(200)))
        stats = await setup.stats()
    per_second = stats["throttled_by_second"].get(setup.instance.instance_id, {})
    assert all(int(second) < 2 for second in per_second), per_second
    assert stats["requests_by_instance"][setup.instance.instance_id] >= 200


async def test_retry_after_is_respected(live: Any) -> None:
    server = live(
        throttle_rate=0,
        time_scale=4,
        faults={"rate_limit_rate": 0.3, "rate_limit_burst": 2, "retry_after_seconds": 1.2},
    )
    # No client-side budget here: the waits seen are the server's Retry-After alone.
    async with client_for(server.sandbox, server.url, rate=0) as setup:
        for _ in range(10):
            await setup.client.list_workflows(setup.instance)
        stats = await setup.stats()
    assert stats["throttled_total"] >= 2
    retried = [e for e in setup.audit.events if e.status == 429]
    assert len(retried) == stats["throttled_total"]
    # Retry-After "0.300" (1.2 s at time_scale 4): each 429 was followed by that wait.
    assert setup.sleeps.count(0.3) >= len(retried)


async def test_limiter_slows_after_429_and_recovers() -> None:
    now = [0.0]
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(
        10, recovery_seconds=5, recovery_step=5, clock=lambda: now[0], sleep=sleep
    )
    for _ in range(10):
        await limiter.acquire("amcaaaaaaaa")
    assert abs(sum(waited) - 0.9) < 1e-9
    await limiter.penalize("amcaaaaaaaa", 3.0)
    assert limiter.rate("amcaaaaaaaa") == 5
    waited.clear()
    await limiter.acquire("amcaaaaaaaa")
    assert waited and abs(waited[0] - 3.0) < 0.2
    now[0] += 10
    await limiter.acquire("amcaaaaaaaa")
    assert limiter.rate("amcaaaaaaaa") == 10
    await limiter.acquire("other-instance")
    assert limiter.rate("other-instance") == 10
