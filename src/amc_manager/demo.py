"""`amc demo`: the main job end to end on the embedded sandbox, through the application layer."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from amc_manager.config import DEFAULT_USER, Settings
from amc_manager.errors import UsageError
from amc_manager.service import runs
from amc_manager.service.access import bootstrap_embedded, list_instances
from amc_manager.service.checks import WindowInput
from amc_manager.service.executions import ExecutionView, preview
from amc_manager.service.runtime import Runtime
from amc_manager.storage import Results

EXAMPLES_DIR = Path(__file__).parent / "examples"
DEMO_QUERIES = (
    "campaign_performance.sql",
    "reach_and_frequency.sql",
    "dsp_sponsored_ads_overlap.sql",
)
PREVIEW_ROWS = 10


def demo_window(now: datetime) -> tuple[str, str]:
    """Four whole weeks ending at the last midnight before AMC's 48-hour data lag."""
    end = (now - timedelta(hours=48)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(weeks=4)
    return start.strftime("%Y-%m-%dT%H:%M:%S"), end.strftime("%Y-%m-%dT%H:%M:%S")


def _status_table(names: list[str], views: list[ExecutionView]) -> Table:
    view = Table(title="amc demo", title_justify="left")
    for column in ("query", "state", "AMC status", "rows"):
        view.add_column(column)
    for name, item in zip(names, views, strict=False):
        row = item.row
        view.add_row(name, row.state, row.amc_status or "", str(row.row_count or ""))
    return view


def _print_result(console: Console, results: Results, name: str, item: ExecutionView) -> None:
    row = item.row
    if row.state != "succeeded" or row.result_path is None:
        console.print(f"[bold]{name}[/bold]: {row.state} {row.error or ''}")
        return
    columns, rows = preview(results, row, PREVIEW_ROWS)
    view = Table(title=f"{name}: {row.row_count} rows", title_justify="left")
    for column in columns:
        view.add_column(column)
    for record in rows:
        view.add_row(*("" if v is None else str(v) for v in record))
    console.print(view)
    if (row.row_count or 0) > PREVIEW_ROWS:
        console.print(f"... {(row.row_count or 0) - PREVIEW_ROWS} more rows")
    console.print(f"result file: {row.result_path}\n", soft_wrap=True, highlight=False)


async def _run(settings: Settings, console: Console) -> int:
    async with Runtime(settings) as runtime:
        await bootstrap_embedded(runtime)
        instances = await list_instances(runtime, DEFAULT_USER)
        if not instances:
            raise UsageError("the embedded sandbox registered no instance")
        start, end = demo_window(datetime.now(UTC).replace(tzinfo=None))
        console.print(f"instance {instances[0].instance_id}, window {start} .. {end} (UTC)")
        ids = []
        for name in DEMO_QUERIES:
            request = runs.RunRequest(
                instance=instances[0].instance_id,
                window=WindowInput(start=start, end=end),
                sql=(EXAMPLES_DIR / name).read_text(encoding="utf-8"),
                source=name,
            )
            ids.append((await runs.submit(runtime, DEFAULT_USER, request)).execution_id)
        latest: dict[str, ExecutionView] = {}
        jobs = [
            runs.follow_run(runtime, i, on_change=lambda v: latest.__setitem__(v.id, v))
            for i in ids
        ]
        names = [n.removesuffix(".sql") for n in DEMO_QUERIES]
        if sys.stderr.isatty():
            with Live(console=Console(stderr=True), refresh_per_second=4) as live:
                task = asyncio.gather(*jobs)
                while not task.done():
                    if len(latest) == len(ids):
                        live.update(_status_table(names, [latest[i] for i in ids]))
                    await asyncio.sleep(0.25)
                views = await task
        else:
            views = await asyncio.gather(*jobs)
    for name, item in zip(DEMO_QUERIES, views, strict=True):
        _print_result(console, runtime.results, name, item)
    return 0 if all(v.row.state == "succeeded" for v in views) else 1


def run_demo(settings: Settings) -> int:
    return asyncio.run(_run(settings, Console()))
