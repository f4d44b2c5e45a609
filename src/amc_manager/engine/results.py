"""After success: every result file downloaded, streamed into one Parquet file with lineage,
kept in result storage (a folder or S3, `amc_manager.storage`)."""

from __future__ import annotations

import asyncio
import functools
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from amc_manager.client import AmcClient, Execution, InstanceRef
from amc_manager.engine.exports import suggestions
from amc_manager.engine.ingest import arrow_type_for, ingest_csv_parts
from amc_manager.engine.uploads import discard_uploads
from amc_manager.storage import Results
from amc_manager.store import ExecutionRow, Store, StoredResult, StoreError


def _flagged_rows(parquet: Path, column: str) -> int:
    """Rows the discriminator column marks as holding filtered (under-threshold) data."""
    table = pq.read_table(parquet, columns=[column])
    values = table.column(0).to_pylist()
    return sum(1 for v in values if v is True or str(v).lower() == "true")


def declared_types(execution: Execution) -> dict[str, pa.DataType]:
    """The result's column types as AMC declares them (`outputColumns`), where they settle one;
    an execution without them leaves every column to exact inference."""
    declared: dict[str, pa.DataType] = {}
    for column in execution.output_columns or []:
        kind = arrow_type_for(column.data_type, column.precision, column.scale)
        if kind is not None:
            declared[column.name] = kind
    return declared


async def collect_results(
    client: AmcClient,
    instance: InstanceRef,
    row: ExecutionRow,
    scratch_dir: Path,
    results: Results,
    store: Store,
    owner: str,
    *,
    ended: Execution | None = None,
) -> StoredResult:
    """Download all parts (fresh URLs when expired), ingest them into one Parquet file in the
    local scratch folder, and keep it in result storage.

    Safe to repeat after a crash: a part already in the scratch folder is whole (each is
    renamed into place once complete) and is not downloaded again, an upload a dead
    predecessor left half-done is removed first, and the result appears at its final location
    whole or not at all. `ended`: the execution as the status look that saw it
    succeed read it; its `outputColumns` then spare a call to AMC.
    """
    amc_id = row.amc_execution_id
    if amc_id is None:
        raise StoreError(f"execution {row.id} is {row.state} without AMC's execution id")
    await discard_uploads(results, store, row.id)
    urls = await client.download_urls(instance, amc_id)
    scratch = scratch_dir / ".parts" / row.id
    parts: list[Path] = []
    for index in range(len(urls.download_urls)):
        target = scratch / f"part-{index:02d}.csv"
        if not target.exists():  # kept from a try whose upload the result store refused
            await client.downloads.to_file(instance, amc_id, index, target, urls=urls)
        parts.append(target)
    if not parts:  # dry runs and skipPublish runs have no files
        return StoredResult(row_count=0)
    name = f"{row.id}.parquet"
    local = scratch / name
    # The execution as it ended: its outputColumns type the result where AMC gives them.
    if ended is None or ended.execution_id != amc_id or ended.output_columns is None:
        ended = await client.get_execution(instance, amc_id)
    declared = declared_types(ended)
    ingested = await asyncio.to_thread(
        functools.partial(ingest_csv_parts, parts, local, declared=declared)
    )
    names = [name for name, _ in ingested.columns]
    flag = (row.options or {}).get("filtered_column")
    flagged = await asyncio.to_thread(_flagged_rows, local, flag) if flag else 0
    advice = suggestions(ingested.row_count, names, flag, flagged)
    temporaries: list[str] = []

    async def pending(temporary: str) -> None:
        temporaries.append(temporary)
        await store.add_pending_upload(temporary, row.id, owner)

    try:
        location = await results.save(local, name, pending=pending)
    except BaseException:
        # The retry ingests again from the parts, perhaps on another host: a result-sized
        # file must not wait for `amc db prune` here. (One unlink; it must run if cancelled.)
        local.unlink(missing_ok=True)
        raise
    for temporary in temporaries:
        await store.remove_pending_upload(temporary)
    await asyncio.to_thread(shutil.rmtree, scratch, ignore_errors=True)
    return StoredResult(
        row_count=ingested.row_count,
        path=location,
        columns=[{"name": n, "type": k} for n, k in ingested.columns],
        checksum=ingested.checksum,
        advice="\n".join(advice) or None,
    )
