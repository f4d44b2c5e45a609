"""Sandbox benchmark: status GETs per second through a real server, and the examples' run times.

Run with `make bench` (or `.venv/bin/python bench/sandbox_bench.py`). Prints figures; asserts
nothing. Everything runs against `amc sandbox serve` on 127.0.0.1, throttling off.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sandbox_server import sandbox_server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "amc_manager" / "examples"
STATUS_SECONDS = 5.0
CONCURRENCY = 8


async def login(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    token = (
        await client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|sandbox-refresh-token",
                "client_id": "amzn1.application-oa2-client.sandbox",
                "client_secret": "sandbox-client-secret",
            },
        )
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Amazon-Advertising-API-ClientId": "amzn1.application-oa2-client.sandbox",
    }
    account = (await client.get("/amc/accounts", headers=headers)).json()["amcAccounts"][0]
    headers["Amazon-Advertising-API-AdvertiserId"] = account["accountId"]
    headers["Amazon-Advertising-API-MarketplaceId"] = account["marketplaceId"]
    instance = (await client.get("/amc/instances", headers=headers)).json()["instances"][0]
    return headers, instance["instanceId"]


def window(days: int) -> dict[str, str]:
    end = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    end -= timedelta(days=3)
    return {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": (end - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S"),
        "timeWindowEnd": end.strftime("%Y-%m-%dT%H:%M:%S"),
    }


async def _raw_worker(host: str, port: int, request: bytes, deadline: float) -> int:
    """One keep-alive connection sending GETs as fast as answers come back.

    A bare asyncio client: httpx costs more CPU per request than the server does, and on two
    cores the client would be what is measured.
    """
    reader, writer = await asyncio.open_connection(host, port)
    count = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"unexpected answer: {head[:80]!r}")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            count += 1
    finally:
        writer.close()
    return count


async def status_rate(client: httpx.AsyncClient, headers: dict[str, str], base: str) -> None:
    sql = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
    created = (
        await client.post(
            f"{base}/workflowExecutions",
            headers=headers,
            json={"workflow": {"sqlQuery": sql}, **window(1)},
        )
    ).json()
    path = f"{base}/workflowExecutions/{created['workflowExecutionId']}"
    host, port = client.base_url.host, client.base_url.port or 80
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    started = time.perf_counter()
    deadline = started + STATUS_SECONDS
    counts = await asyncio.gather(
        *(_raw_worker(host, port, request, deadline) for _ in range(CONCURRENCY))
    )
    elapsed = time.perf_counter() - started
    total = sum(counts)
    print(
        f"status GETs: {total} in {elapsed:.2f} s = {total / elapsed:.0f}/s "
        f"({CONCURRENCY} keep-alive connections, throttling off)"
    )


def _params(sql: str) -> list[dict[str, Any]]:
    found = re.findall(r"^--\s*@param\s+(\w+)\s+(\S+)(?:\s+(.+))?$", sql, flags=re.M)
    params = []
    for name, data_type, default in found:
        entry: dict[str, Any] = {"name": name, "dataType": data_type}
        if data_type.startswith("ARRAY<"):
            entry["dataType"] = {"type": "ARRAY", "elementDataType": data_type[6:-1]}
        if default:
            entry["defaultValue"] = json.loads(default)
        params.append(entry)
    return params


async def example_times(client: httpx.AsyncClient, headers: dict[str, str], base: str) -> None:
    print("examples over a 4-week window (create -> SUCCEEDED, execution time 0 s):")
    for path in sorted(EXAMPLES.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        body = {"workflow": {"sqlQuery": sql, "inputParameters": _params(sql)}, **window(28)}
        started = time.perf_counter()
        created = await client.post(f"{base}/workflowExecutions", headers=headers, json=body)
        if created.status_code != 200:
            print(f"  {path.name:45s} refused: {created.json().get('details')}")
            continue
        url = f"{base}/workflowExecutions/{created.json()['workflowExecutionId']}"
        while (status := (await client.get(url, headers=headers)).json()["status"]) in (
            "PENDING",
            "RUNNING",
        ):
            await asyncio.sleep(0.05)
        print(f"  {path.name:45s} {status:9s} {time.perf_counter() - started:6.2f} s")


async def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_server(Path(tmp), {"throttle_rate": 0, "duration": "0"}) as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=300) as client:
            headers, instance = await login(client)
            base = f"/amc/reporting/{instance}"
            await status_rate(client, headers, base)
            await example_times(client, headers, base)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
