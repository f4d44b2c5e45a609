"""REST API benchmark: reads at a fixed arrival rate over 100,000 stored executions."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ABOUT = """`amc serve --no-worker` (a real process on 127.0.0.1) over a store holding 100,000
executions (bulk-inserted through the store's schema), on SQLite and, when
AMC_TEST_POSTGRES_URL is set, on a new PostgreSQL database.

Run with `.venv/bin/python bench/api_bench.py [--seconds 30] [--rate 200] [--capacity 10]`.
Prints figures; asserts nothing. A separate load process (plain asyncio HTTP/1.1 keep-alive
connections: httpx's pool would cost the load process a core at these rates) first measures
capacity (closed-loop, 4 requests in flight for `--capacity` seconds per route: requests a
second and p50), then drives `GET /api/v1/executions?limit=50` and then
`GET /api/v1/executions/{id}` (random stored ids) each at `--rate` requests a second for
`--seconds`, open-loop: request i is sent at start + i/rate whatever the earlier answers did,
and its latency counts from that scheduled instant (so a stall is not hidden). Per route and
backend: p50/p99 latency and errors (non-2xx or transport errors). Then `--posts` POST
/executions against the embedded sandbox (20 in flight, spread over 10 tokens so the
per-token burst allowance of mutating routes is not what is measured; the runs only queue,
as there is no worker). Aim: p99 under 50 ms for the reads, zero errors.
"""

ROOT = Path(__file__).resolve().parent.parent
AMC = str(ROOT / ".venv" / "bin" / "amc")
EXECUTIONS = 100_000
CHUNK = 5_000
SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


def env_for(home: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMC_")}
    env["AMC_HOME"] = str(home)
    if database_url:
        env["AMC_DATABASE_URL"] = database_url
    return env


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`amc serve --no-worker` on a free port; its output goes to a file (a pipe nobody
    reads would fill up and stall the server)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [AMC, "serve", "--no-worker", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"ready at (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        if found:
            return proc, found.group(1)
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"amc serve did not become ready: {log.read_text(errors='replace')[-500:]}")


def make_token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [AMC, "tokens", "create", "--name", f"bench-{uuid.uuid4().hex[:6]}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"amc tokens create failed: {out.stderr.strip()}")
    return out.stdout.splitlines()[0].strip()


async def fill(home: Path, database_url: str | None) -> tuple[list[str], str]:
    """100,000 finished executions on the store's first instance; their ids and the
    instance's AMC id."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from amc_manager.store import database_url_for
    from amc_manager.store import schema as t

    engine = create_async_engine(database_url_for(database_url, home))
    try:
        async with engine.begin() as conn:
            pk, instance_id = (
                await conn.execute(sa.select(t.amc_instances.c.id, t.amc_instances.c.instance_id))
            ).first()  # type: ignore[misc]
            user_id = (await conn.execute(sa.select(t.users.c.id))).scalar_one()
        ids = [str(uuid.uuid4()) for _ in range(EXECUTIONS)]
        base = time.time() - EXECUTIONS
        for start in range(0, EXECUTIONS, CHUNK):
            rows = [row(ids[i], user_id, pk, base + i) for i in range(start, start + CHUNK)]
            async with engine.begin() as conn:
                await conn.execute(t.workflow_executions.insert(), rows)
    finally:
        await engine.dispose()
    return ids, str(instance_id)


def row(execution_id: str, user_id: str, instance_pk: str, at: float) -> dict[str, Any]:
    return {
        "id": execution_id,
        "user_id": user_id,
        "instance_id": instance_pk,
        "state": "succeeded",
        "amc_status": "SUCCEEDED",
        "amc_execution_id": uuid.uuid4().hex,
        "adhoc": True,
        "sql": SQL,
        "sql_hash": "0" * 64,
        "input_parameters": {},
        "parameter_values": {},
        "time_window_type": "EXPLICIT",
        "time_window_start": "2026-11-01T00:00:00",
        "time_window_end": "2026-11-02T00:00:00",
        "time_zone": "Etc/UTC",
        "options": {},
        "nonce": uuid.uuid4().hex,
        "submitted_at": at,
        "next_check_at": at,
        "attempts": 0,
        "row_count": 10,
        "created_at": at,
        "updated_at": at,
        "finished_at": at + 60,
    }


# --- the load process ----------------------------------------------------------------------


class Connections:
    """A minimal HTTP/1.1 keep-alive client for GETs: the load process must not be what is
    measured (httpx's pool costs a core's worth of CPU at these rates on a 2-core machine)."""

    def __init__(self, url: str, token: str, limit: int = 256) -> None:
        parts = httpx.URL(url)
        self.host, self.port = str(parts.host), int(parts.port or 80)
        self.head = f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n\r\n"
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.gate = asyncio.Semaphore(limit)

    async def get(self, path: str) -> int:
        """The answer's status; the body is read whole (and dropped)."""
        async with self.gate:
            if self.idle:  # a kept connection the server may have closed meanwhile: retry once
                try:
                    return await self._send(self.idle.pop(), path)
                except (ConnectionError, asyncio.IncompleteReadError):
                    pass
            return await self._send(await asyncio.open_connection(self.host, self.port), path)

    async def _send(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str
    ) -> int:
        reader, writer = conn
        try:
            writer.write(f"GET {path} HTTP/1.1\r\n{self.head}".encode())
            status, keep = await self._answer(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append(conn)
        else:
            writer.close()
        return status

    @staticmethod
    async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, keep = 0, False, True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                keep = value != b"close"
        if chunked:
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        elif length:
            await reader.readexactly(length)
        return status, keep

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def drive(
    url: str, token: str, paths: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """Open-loop: request i is sent at start + i/rate; latency from that instant."""
    latencies: list[float] = []
    errors = 0
    client = Connections(url, token)

    async def one(path: str, due: float) -> None:
        nonlocal errors
        try:
            if await asyncio.wait_for(client.get(path), 30) >= 300:
                errors += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        latencies.append(time.perf_counter() - due)

    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    tasks = []
    for i in range(total):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(paths[i % len(paths)], due)))
    await asyncio.gather(*tasks)
    client.close()
    return {"requests": total, "errors": errors, **_percentiles(latencies)}


async def capacity(
    url: str, token: str, paths: list[str], seconds: float, concurrency: int = 4
) -> dict[str, Any]:
    """Closed-loop: `concurrency` requests always in flight for `seconds`; answers a second
    (what the server sustains) and their latency."""
    latencies: list[float] = []
    errors = 0
    client = Connections(url, token)
    end = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < end:
            began = time.perf_counter()
            try:
                if await client.get(paths[i % len(paths)]) >= 300:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
            latencies.append(time.perf_counter() - began)
            i += concurrency

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - began
    client.close()
    return {
        "per_second": len(latencies) / elapsed,
        "errors": errors,
        **_percentiles(latencies),
    }


def _percentiles(latencies: list[float]) -> dict[str, float]:
    latencies = sorted(latencies) or [float("nan")]
    return {
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def posts(url: str, tokens: list[str], instance_id: str, count: int) -> dict[str, Any]:
    end = datetime.now(UTC).date() - timedelta(days=3)
    body = {
        "instance_id": instance_id,
        "sql": SQL,
        "start": str(end - timedelta(days=1)),
        "end": str(end),
    }
    gate = asyncio.Semaphore(20)
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(i: int) -> None:
            async with gate:
                try:
                    answer = await client.post(
                        "/api/v1/executions",
                        json=body,
                        headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                    )
                    statuses.append(answer.status_code)
                except httpx.HTTPError:
                    statuses.append(0)

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - began
    return {
        "posts": count,
        "per_second": count / elapsed,
        "errors": sum(1 for s in statuses if s not in (200, 201)),
    }


def load_main(args: argparse.Namespace) -> None:
    job = json.loads(Path(args.load).read_text())
    ids: list[str] = job["ids"]
    rng = random.Random(7)
    by_id = [f"/api/v1/executions/{rng.choice(ids)}" for _ in range(int(args.rate * args.seconds))]
    listing = ["/api/v1/executions?limit=50"]
    report: dict[str, Any] = {}
    if args.capacity > 0:
        report["list capacity"] = asyncio.run(
            capacity(job["url"], job["token"], listing, args.capacity)
        )
        report["get capacity"] = asyncio.run(
            capacity(job["url"], job["token"], by_id, args.capacity)
        )
    report["list"] = asyncio.run(drive(job["url"], job["token"], listing, args.rate, args.seconds))
    report["get"] = asyncio.run(drive(job["url"], job["token"], by_id, args.rate, args.seconds))
    print(json.dumps(report))


# --- one backend -------------------------------------------------------------------------


def bench_backend(
    name: str, database_url: str | None, args: argparse.Namespace, work: Path
) -> None:
    home = work / name
    env = env_for(home, database_url)
    home.mkdir(parents=True)
    proc, url = start_server(
        env, work / f"{name}-serve.log"
    )  # creates the store, the user and the sandbox's instances
    try:
        began = time.perf_counter()
        ids, instance_id = asyncio.run(fill(home, database_url))
        print(f"{name}: {EXECUTIONS:,} executions inserted in {time.perf_counter() - began:.1f} s")
        tokens = [make_token(env) for _ in range(10)]
        job = work / f"{name}-job.json"
        job.write_text(json.dumps({"url": url, "token": tokens[0], "ids": ids}))
        load = subprocess.run(
            [
                sys.executable,
                __file__,
                "--load",
                str(job),
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.seconds),
                "--capacity",
                str(args.capacity),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if load.returncode != 0:
            print(f"{name}: load process failed: {load.stderr.strip()[-500:]}")
        else:
            for route, figures in json.loads(load.stdout.splitlines()[-1]).items():
                path = (
                    "GET /api/v1/executions?limit=50"
                    if route.startswith("list")
                    else "GET /api/v1/executions/{id}"
                )
                if route.endswith("capacity"):
                    print(
                        f"{name}: {path}: capacity (4 in flight, {args.capacity:g} s): "
                        f"{figures['per_second']:.0f} requests/s at p50 "
                        f"{figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
                        f"errors {figures['errors']}"
                    )
                    continue
                print(
                    f"{name}: {path}: {figures['requests']} requests at {args.rate:g}/s: "
                    f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
                    f"errors {figures['errors']}"
                )
        made = asyncio.run(posts(url, tokens, instance_id, args.posts))
        print(
            f"{name}: POST /api/v1/executions: {made['posts']} posts, "
            f"{made['per_second']:.1f}/s, errors {made['errors']}"
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def fresh_postgres(url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]

    name = f"amc_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=ABOUT, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument(
        "--capacity", type=float, default=10.0, help="seconds of closed-loop load per route"
    )
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the load process's own job file
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    with tempfile.TemporaryDirectory(prefix="amc-api-bench-") as tmp:
        work = Path(tmp)
        bench_backend("sqlite", None, args, work)
        postgres = os.environ.get("AMC_TEST_POSTGRES_URL")
        if postgres:
            bench_backend("postgresql", asyncio.run(fresh_postgres(postgres)), args, work)
        else:
            print("postgresql: skipped (AMC_TEST_POSTGRES_URL is not set)")


if __name__ == "__main__":
    main()
