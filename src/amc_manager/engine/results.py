"""After success: every result file downloaded, streamed into one Parquet file with lineage."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from amc_manager.client import AmcClient, InstanceRef
from amc_manager.engine.exports import suggestions
from amc_manager.engine.ingest import ingest_csv_parts
from amc_manager.store.rows import ExecutionRow


def _flagged_rows(parquet: Path, column: str) -> int:
    """Rows the discriminator column marks as holding filtered (under-threshold) data."""
    table = pq.read_table(parquet, columns=[column])
    values = table.column(0).to_pylist()
    return sum(1 for v in values if v is True or str(v).lower() == "true")


async def collect_results(
    client: AmcClient, instance: InstanceRef, row: ExecutionRow, results_dir: Path
) -> dict[str, Any]:
    """Download all parts (fresh URLs when expired), ingest them, return the row's new fields.

    Safe to repeat after a crash: parts are re-downloaded into the same scratch folder and the
    Parquet file is replaced atomically.
    """
    urls = await client.download_urls(instance, row.amc_execution_id)
    scratch = results_dir / ".parts" / row.id
    parts: list[Path] = []
    for index in range(len(urls.download_urls)):
        target = scratch / f"part-{index:02d}.csv"
        await client.downloads.to_file(instance, row.amc_execution_id, index, target, urls=urls)
        parts.append(target)
    if not parts:  # dry runs and skipPublish runs have no files
        return {"row_count": 0, "result_path": None, "amc_status": "SUCCEEDED", "error": None}
    destination = results_dir / f"{row.id}.parquet"
    ingested = await asyncio.to_thread(ingest_csv_parts, parts, destination)
    shutil.rmtree(scratch, ignore_errors=True)
    names = [name for name, _ in ingested.columns]
    flag = (row.options or {}).get("filtered_column")
    flagged = await asyncio.to_thread(_flagged_rows, destination, flag) if flag else 0
    advice = suggestions(ingested.row_count, names, flag, flagged)
    return {
        "row_count": ingested.row_count,
        "result_path": str(destination),
        "result_columns": [{"name": n, "type": k} for n, k in ingested.columns],
        "result_checksum": ingested.checksum,
        "amc_status": "SUCCEEDED",
        "advice": "\n".join(advice) or None,
        "error": None,
    }
