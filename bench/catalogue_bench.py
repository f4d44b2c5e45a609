"""Catalogue benchmark: every catalogued table queried once over 4 weeks, the sandbox's memory.

Run with `make bench` (or `.venv/bin/python bench/catalogue_bench.py [--wide]`). Starts
`amc sandbox serve` with every paid feature enabled and runs, table after table, a metric
summed by a LOW column over a 28-day window (the acceptance query of issue 9); prints each
table's time and the server's resident memory after it (VmRSS), then its peak (VmHWM). With
`--wide`, each query also reads every other column a result may carry (MAX of each), which
makes the sandbox build every column of every row. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sandbox_bench import login, window
from sandbox_server import sandbox_server

from amc_manager.catalogue import CATALOGUE, Column, ColumnRole, DataType, Table, ThresholdClass

DAYS = 28
CONFIG = {"throttle_rate": 0, "duration": "0", "paid_features": True}
NUMBERS = (DataType.LONG, DataType.INTEGER, DataType.DOUBLE, DataType.DECIMAL)


def _metric(column: Column) -> bool:
    numeric = column.data_type in NUMBERS and not column.array
    return numeric and (column.role is ColumnRole.METRIC or column.threshold is ThresholdClass.NONE)


def query(table: Table, wide: bool) -> str:
    """A metric by a LOW column; with `wide`, MAX of every other outputtable column too."""
    low = [c for c in table.columns if c.threshold is ThresholdClass.LOW and not c.array]
    low.sort(key=lambda c: c.data_type is not DataType.STRING)
    key = low[0]
    metric = next((c for c in table.columns if _metric(c)), None)
    parts = [key.name, f"{f'SUM({metric.name})' if metric else 'COUNT(1)'} AS total"]
    if wide:
        parts += [
            f"MAX({c.name}) AS max_{c.name}"
            for c in table.columns
            if c is not key and c.threshold.outputtable and not c.array
        ]
    return f"SELECT {', '.join(parts)} FROM {table.name} GROUP BY 1"


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process in MiB (Linux)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) // 1024
    return found


async def run(client: httpx.AsyncClient, headers: dict[str, str], base: str, sql: str) -> str:
    body = {"workflow": {"sqlQuery": sql}, **window(DAYS)}
    created = await client.post(f"{base}/workflowExecutions", headers=headers, json=body)
    if created.status_code != 200:
        return f"refused: {created.json().get('details')}"
    url = f"{base}/workflowExecutions/{created.json()['workflowExecutionId']}"
    while True:
        found = (await client.get(url, headers=headers)).json()
        if found["status"] not in ("PENDING", "RUNNING"):
            return str(found["status"])
        await asyncio.sleep(0.05)


async def main(wide: bool) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_server(Path(tmp), CONFIG, state=False) as server,
    ):
        pid = server.process.pid
        print(f"sandbox started: {memory(pid)['VmRSS']} MiB resident")
        print(f"every table over {DAYS} days ({'every column' if wide else 'two columns'}):")
        async with httpx.AsyncClient(base_url=server.url, timeout=600) as client:
            headers, instance = await login(client)
            base = f"/amc/reporting/{instance}"
            started = time.perf_counter()
            for table in CATALOGUE:
                begun = time.perf_counter()
                status = await run(client, headers, base, query(table, wide))
                rss = memory(pid)["VmRSS"]
                took = time.perf_counter() - begun
                print(f"  {table.name:46s} {status:9s} {took:6.2f} s  {rss:5d} MiB resident")
            total = time.perf_counter() - started
        peak = memory(pid)
        print(f"{len(CATALOGUE)} tables in {total:.1f} s; sandbox resident {peak['VmRSS']} MiB, "
              f"peak {peak['VmHWM']} MiB")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main("--wide" in sys.argv[1:]))
