"""`amc demo`: example queries end to end against the embedded sandbox, over AMC's real HTTP API."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from amc_manager.config import Settings
from amc_manager.errors import AmcManagerError
from amc_manager.sandbox.config import load_config
from amc_manager.sandbox.embedded import EmbeddedSandbox

EXAMPLES_DIR = Path(__file__).parent / "examples"
DEMO_QUERIES = (
    "campaign_performance.sql",
    "reach_and_frequency.sql",
    "dsp_sponsored_ads_overlap.sql",
)
POLL_SECONDS = 0.5
PREVIEW_ROWS = 12


@dataclass
class DemoRun:
    name: str
    sql: str
    execution_id: str = ""
    status: str = "PENDING"
    rows: list[list[str]] | None = None
    path: Path | None = None


def demo_window(now: datetime) -> tuple[str, str]:
    """Four whole weeks ending at the last midnight before AMC's 48-hour data lag."""
    end = (now - timedelta(hours=48)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(weeks=4)
    return start.strftime("%Y-%m-%dT%H:%M:%S"), end.strftime("%Y-%m-%dT%H:%M:%S")


class _Api:
    """Just enough of AMC's API for the demo, as any HTTP client would call it."""

    def __init__(self, client: httpx.AsyncClient, client_id: str) -> None:
        self.client = client
        self.client_id = client_id
        self.headers: dict[str, str] = {}

    async def login(self, client_secret: str, refresh_token: str) -> None:
        response = await self.client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.client_id,
                "client_secret": client_secret,
            },
        )
        response.raise_for_status()
        self.headers = {
            "Authorization": f"Bearer {response.json()['access_token']}",
            "Amazon-Advertising-API-ClientId": self.client_id,
        }
        accounts = (await self.get("/amc/accounts"))["amcAccounts"]
        self.headers["Amazon-Advertising-API-AdvertiserId"] = accounts[0]["accountId"]
        self.headers["Amazon-Advertising-API-MarketplaceId"] = accounts[0]["marketplaceId"]

    async def get(self, url: str, **params: str) -> Any:
        response = await self.client.get(url, headers=self.headers, params=params)
        response.raise_for_status()
        return response.json()

    async def post(self, url: str, body: dict[str, Any]) -> Any:
        response = await self.client.post(url, headers=self.headers, json=body)
        if response.status_code >= 400:
            raise AmcManagerError(f"AMC refused the demo query: {response.text}")
        return response.json()


async def _run_one(api: _Api, base: str, run: DemoRun, window: tuple[str, str], out: Path) -> None:
    created = await api.post(
        f"{base}/workflowExecutions",
        {
            "workflow": {"sqlQuery": run.sql},
            "timeWindowType": "EXPLICIT",
            "timeWindowStart": window[0],
            "timeWindowEnd": window[1],
            "timeWindowTimeZone": "UTC",
        },
    )
    run.execution_id = created["workflowExecutionId"]
    while run.status not in ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"):
        await asyncio.sleep(POLL_SECONDS)
        run.status = (await api.get(f"{base}/workflowExecutions/{run.execution_id}"))["status"]
    if run.status != "SUCCEEDED":
        return
    urls = (await api.get(f"{base}/workflowExecutions/{run.execution_id}/downloadUrls"))[
        "downloadUrls"
    ]
    rows: list[list[str]] = []
    for index, url in enumerate(urls):
        text = (await api.client.get(url)).text  # presigned: no Ads headers
        parsed = list(csv.reader(io.StringIO(text), escapechar="\\", doublequote=False))
        rows.extend(parsed if index == 0 else parsed[1:])
    run.rows = rows
    run.path = out / f"{Path(run.name).stem}.csv"
    with run.path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _print_result(console: Console, run: DemoRun) -> None:
    if not run.rows:
        console.print(f"[bold]{run.name}[/bold]: {run.status}")
        return
    header, body = run.rows[0], run.rows[1:]
    table = Table(title=f"{run.name}: {len(body)} rows ({run.status})", title_justify="left")
    for column in header:
        table.add_column(column)
    for row in body[:PREVIEW_ROWS]:
        table.add_row(*row)
    console.print(table)
    if len(body) > PREVIEW_ROWS:
        console.print(f"... {len(body) - PREVIEW_ROWS} more rows")
    console.print(f"full result: {run.path}\n")


async def run_demo(settings: Settings, console: Console) -> int:
    config = load_config(settings.sandbox_config)
    out = settings.results_dir / "demo"
    out.mkdir(parents=True, exist_ok=True)
    runs = [DemoRun(n, (EXAMPLES_DIR / n).read_text(encoding="utf-8")) for n in DEMO_QUERIES]
    async with EmbeddedSandbox(config, settings.sandbox_state_dir) as embedded:
        api = _Api(embedded.client, config.client_id)
        await api.login(config.client_secret, config.refresh_token)
        instance = (await api.get("/amc/instances"))["instances"][0]["instanceId"]
        window = demo_window(datetime.now(UTC).replace(tzinfo=None))
        console.print(f"instance {instance}, window {window[0]} .. {window[1]} (UTC)")
        base = f"/amc/reporting/{instance}"
        jobs = [asyncio.create_task(_run_one(api, base, r, window, out)) for r in runs]
        await _watch(jobs, runs)
        for job in jobs:
            job.result()
    for run in runs:
        _print_result(console, run)
    return 0 if all(r.status == "SUCCEEDED" for r in runs) else 1


async def _watch(jobs: list[asyncio.Task[None]], runs: list[DemoRun]) -> None:
    """Live progress on stderr while the executions run (only when stderr is a terminal)."""
    err = Console(stderr=True)
    if not sys.stderr.isatty():
        await asyncio.gather(*jobs, return_exceptions=True)
        return
    with err.status("") as status:
        while not all(j.done() for j in jobs):
            status.update("  ".join(f"{r.name.removesuffix('.sql')}: {r.status}" for r in runs))
            await asyncio.sleep(0.2)
