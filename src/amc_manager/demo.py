"""`amc demo`: the main job end to end on the embedded sandbox, through the engine."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.live import Live
from rich.table import Table

from amc_manager.config import DEFAULT_USER, Settings
from amc_manager.engine.accounts import bootstrap_embedded
from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow
from amc_manager.engine.runtime import Runtime
from amc_manager.errors import UsageError
from amc_manager.store.rows import ExecutionRow

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


def _status_table(names: list[str], rows: dict[str, ExecutionRow]) -> Table:
    view = Table(title="amc demo", title_justify="left")
    for column in ("query", "state", "AMC status", "rows"):
        view.add_column(column)
    for name, row in zip(names, rows.values(), strict=False):
        view.add_row(name, row.state, row.amc_status or "", str(row.row_count or ""))
    return view


def _print_result(console: Console, name: str, row: ExecutionRow) -> None:
    if row.state != "succeeded" or row.result_path is None:
        console.print(f"[bold]{name}[/bold]: {row.state} {row.error or ''}")
        return
    parquet = pq.ParquetFile(row.result_path)
    view = Table(title=f"{name}: {row.row_count} rows", title_justify="left")
    for column in parquet.schema_arrow.names:
        view.add_column(column)
    batch = next(parquet.iter_batches(batch_size=PREVIEW_ROWS), None)
    for record in [] if batch is None else batch.to_pylist():
        view.add_row(*("" if v is None else str(v) for v in record.values()))
    console.print(view)
    if (row.row_count or 0) > PREVIEW_ROWS:
        console.print(f"... {row.row_count - PREVIEW_ROWS} more rows")
    console.print(f"result file: {row.result_path}\n", soft_wrap=True, highlight=False)


async def _run(settings: Settings, console: Console) -> int:
    async with Runtime(settings) as runtime:
        await bootstrap_embedded(runtime, DEFAULT_USER)
        user_id = await runtime.store.ensure_user(DEFAULT_USER)
        instances = await runtime.store.list_instances(user_id)
        if not instances:
            raise UsageError("the embedded sandbox registered no instance")
        start, end = demo_window(datetime.now(UTC).replace(tzinfo=None))
        console.print(f"instance {instances[0].instance_id}, window {start} .. {end} (UTC)")
        ids = []
        for name in DEMO_QUERIES:
            sql = (EXAMPLES_DIR / name).read_text(encoding="utf-8")
            spec = RunSpec(instance=instances[0], sql=sql, start=start, end=end)
            ids.append(await enqueue(runtime.store, user_id, spec))
        engine = runtime.engine()
        latest: dict[str, ExecutionRow] = {}
        jobs = [
            follow(engine, i, until=finished, on_change=lambda r: latest.__setitem__(r.id, r))
            for i in ids
        ]
        names = [n.removesuffix(".sql") for n in DEMO_QUERIES]
        if sys.stderr.isatty():
            with Live(console=Console(stderr=True), refresh_per_second=4) as live:
                task = asyncio.gather(*jobs)
                while not task.done():
                    if len(latest) == len(ids):
                        live.update(_status_table(names, {i: latest[i] for i in ids}))
                    await asyncio.sleep(0.25)
                rows = await task
        else:
            rows = await asyncio.gather(*jobs)
    for name, row in zip(DEMO_QUERIES, rows, strict=True):
        _print_result(console, name, row)
    return 0 if all(r.state == "succeeded" for r in rows) else 1


def run_demo(settings: Settings) -> int:
    return asyncio.run(_run(settings, Console()))
