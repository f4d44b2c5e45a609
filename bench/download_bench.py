"""A 1-million-row AMC result downloaded from `amc sandbox serve` and ingested to Parquet.

Event-level rows (`requireSyntheticData` + `disableAggregationControls`, as AMC's sandbox
instances allow) are fetched through the AMC client's streaming downloads and streamed into one
Parquet file by the engine's ingest; peak memory (VmHWM) of the downloading process is printed.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sandbox_server import SandboxServer, sandbox_server

from amc_manager.client import (
    AccountRef,
    AmcClient,
    ExecutionRequest,
    InMemoryTokenStore,
    InstanceRef,
    LwaCredentials,
    Secret,
)
from amc_manager.engine.ingest import ingest_csv_parts

TARGET_MB = 400
DAYS = 25  # 40,000 DSP impressions a day: a million rows
SQL = (
    "SELECT impression_dt, campaign, device_type, postal_code, impressions, total_cost "
    "FROM dsp_impressions"
)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def download(server: SandboxServer, workdir: Path) -> None:
    url = server.url
    store = InMemoryTokenStore()
    await store.save_refresh_token("bench", Secret("Atzr|sandbox-refresh-token"))
    end = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    end -= timedelta(days=3)
    fmt = "%Y-%m-%dT%H:%M:%S"
    async with httpx.AsyncClient(timeout=600) as http:
        client = AmcClient(
            http=http,
            user="bench",
            token_store=store,
            credentials=LwaCredentials(
                "amzn1.application-oa2-client.sandbox", Secret("sandbox-client-secret")
            ),
            api_base_url=url,
            lwa_token_url=f"{url}/auth/o2/token",
        )
        instance = InstanceRef(server.instances[0], AccountRef(server.account, server.marketplace))
        started = time.perf_counter()
        created = await client.create_execution(
            instance,
            ExecutionRequest(
                sql=SQL,
                start=(end - timedelta(days=DAYS)).strftime(fmt),
                end=end.strftime(fmt),
                require_synthetic_data=True,
                disable_aggregation_controls=True,
            ),
        )
        while not (
            execution := await client.get_execution(instance, created.execution_id)
        ).terminal:
            await asyncio.sleep(0.5)
        ran = time.perf_counter() - started
        urls = await client.download_urls(instance, execution.execution_id)
        started = time.perf_counter()
        parts = []
        for index in range(len(urls.download_urls)):
            target = workdir / f"part-{index}.csv"
            await client.downloads.to_file(
                instance, execution.execution_id, index, target, urls=urls
            )
            parts.append(target)
        fetched = time.perf_counter() - started
        started = time.perf_counter()
        result = await asyncio.to_thread(ingest_csv_parts, parts, workdir / "result.parquet")
        ingested = time.perf_counter() - started
    size = sum(p.stat().st_size for p in parts) / 2**20
    print(f"AMC run (sandbox computing {result.row_count:,} event-level rows): {ran:.1f} s")
    print(f"download: {len(parts)} files, {size:,.0f} MB in {fetched:.1f} s")
    print(
        f"ingest to Parquet: {result.row_count / ingested:,.0f} rows/s "
        f"({result.bytes / 2**20:.0f} MB Parquet)"
    )
    print(f"peak RSS of the downloading process: {peak_rss_mb():.0f} MB (target < {TARGET_MB} MB)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="download-bench-") as tmp:
        workdir = Path(tmp)
        with sandbox_server(workdir, {"duration": "0", "throttle_rate": 0}) as server:
            asyncio.run(download(server, workdir))


if __name__ == "__main__":
    main()
