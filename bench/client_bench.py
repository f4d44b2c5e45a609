"""AMC client overhead per call: AmcClient against httpx.MockTransport serving canned answers.

Compares a bare httpx GET with `AmcClient.get_execution` (auth flow, budget, audit hooks,
error mapping, response model) on the same in-memory transport, so the difference is the
client's own cost. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from amc_manager.client import (
    AccessToken,
    AccountRef,
    AmcClient,
    InMemoryTokenStore,
    InstanceRef,
    LwaCredentials,
    MemoryAuditSink,
    RateLimiter,
    Secret,
)

CALLS = 3000
ROUNDS = 5
EXECUTION = {
    "workflowExecutionId": "2b04762b-cbdb-47c7-be39-42a585ecd40e",
    "workflowId": "my-first-workflow",
    "status": "RUNNING",
    "createTime": "2026-11-20T22:01:56Z",
    "lastUpdatedTime": "2026-11-20T22:02:56Z",
    "timeWindowStart": "2026-09-20T04:00:00Z",
    "timeWindowEnd": "2026-09-30T04:00:00Z",
    "timeWindowStartOriginal": "2026-09-20T00:00:00",
    "timeWindowEndOriginal": "2026-09-30T00:00:00",
    "timeWindowTimeZoneOriginal": "America/New_York",
    "parameterValues": {},
    "dataGaps": [],
}


def handler(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=EXECUTION)


async def per_call(make_call: object, calls: int) -> float:
    assert callable(make_call)
    started = time.perf_counter()
    for _ in range(calls):
        await make_call()
    return (time.perf_counter() - started) / calls


async def main() -> None:
    instance = InstanceRef("amcabcd1234", AccountRef("ENTITYABC123456789", "ATVPDKIKX0DER"))
    store = InMemoryTokenStore()
    await store.save_refresh_token("bench", Secret("Atzr|bench"))
    await store.save_access_token("bench", AccessToken(Secret("Atza|bench"), time.time() + 1e6))
    url = "http://amc.test" + instance.reporting_path("workflowExecutions", "e")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as raw_http:

        async def raw() -> None:
            response = await raw_http.get(url)
            response.json()

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = AmcClient(
                http=http,
                credentials=LwaCredentials("c", Secret("s")),
                token_store=store,
                user="bench",
                api_base_url="http://amc.test",
                budget=RateLimiter(0),
                audit=MemoryAuditSink(),
            )

            async def wrapped() -> None:
                await client.get_execution(instance, "e")

            await per_call(raw, 200)
            await per_call(wrapped, 200)
            raw_times, client_times = [], []
            for _ in range(ROUNDS):
                raw_times.append(await per_call(raw, CALLS))
                client_times.append(await per_call(wrapped, CALLS))
    base, full = statistics.median(raw_times), statistics.median(client_times)
    print(f"bare httpx GET + json:       {base * 1e6:8.1f} us/call")
    print(f"AmcClient.get_execution:     {full * 1e6:8.1f} us/call")
    print(
        f"client overhead:             {(full - base) * 1e6:8.1f} us/call "
        f"({full / base:.2f}x the bare call; median of {ROUNDS} rounds x {CALLS} calls)"
    )


if __name__ == "__main__":
    asyncio.run(main())
