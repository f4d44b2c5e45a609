"""Result rows for programs: a page of rows as JSON values, and an export streamed in chunks
while a thread writes it, so neither loads the whole result in memory. Rows are read from
result storage (a folder or S3: `amc_manager.storage`) wherever each result was kept."""

from __future__ import annotations

import asyncio
import math
import queue
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from amc_manager.service.executions import export_opened, open_result
from amc_manager.storage import Results
from amc_manager.store.rows import ExecutionRow

__all__ = ["Results", "RowsPage", "copy_rows", "rows_page", "stream_export"]

CHUNK = 64 * 1024
QUEUE_CHUNKS = 16  # at most ~1 MiB waits between the writing thread and the client


@dataclass(frozen=True)
class RowsPage:
    """Rows `offset` .. `offset + len(rows)` of a result; `next_offset` None at the end."""

    columns: list[tuple[str, str]]
    rows: list[list[Any]]
    next_offset: int | None


def rows_page(results: Results, row: ExecutionRow, offset: int, limit: int) -> RowsPage:
    """Read only the row groups that hold the page (blocking: run it in a thread)."""
    with open_result(results, row) as reader:
        return _page(reader, offset, limit)


def _page(reader: Any, offset: int, limit: int) -> RowsPage:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(reader)
    columns = [(f.name, str(f.type)) for f in source.schema_arrow]
    total = source.metadata.num_rows
    tables = []
    first = 0
    for group in range(source.num_row_groups):
        size = source.metadata.row_group(group).num_rows
        if first + size > offset and first < offset + limit:
            table = source.read_row_group(group)
            start = max(0, offset - first)
            tables.append(table.slice(start, offset + limit - first - start))
        first += size
    rows: list[list[Any]] = []
    if tables:
        joined = pa.concat_tables(tables)
        rows = [[_json(v) for v in r.values()] for r in joined.to_pylist()]
    end = offset + len(rows)
    return RowsPage(columns, rows, end if end < total else None)


def _json(value: Any) -> Any:
    """A JSON-safe value that loses nothing: exact decimals stay text unless a double holds
    them; times in ISO 8601; NaN and infinities as Spark spells them."""
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(as_float) == value else format(value, "f")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


class _QueueWriter:
    """A binary file for the exporting thread: chunks go to a bounded queue (backpressure)."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        if self.closed:
            raise BrokenPipeError("the client went away")
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._chunks.put(bytes(self._buffer))
            self._buffer.clear()


async def stream_export(results: Results, row: ExecutionRow, fmt: str) -> AsyncIterator[bytes]:
    """The result as csv, json, jsonl or the Parquet file itself, chunk by chunk. The stored
    file is opened first, so a result with no rows, one deleted, or storage out of reach is an
    error raised here, before the first byte (a proper error answer, not a cut stream)."""
    opened = open_result(results, row)
    reader = await asyncio.to_thread(opened.__enter__)
    return _chunks(opened, reader, row, fmt)


async def _chunks(
    opened: AbstractContextManager[Any], reader: Any, row: ExecutionRow, fmt: str
) -> AsyncIterator[bytes]:
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(QUEUE_CHUNKS)
    writer = _QueueWriter(chunks)

    def work() -> None:
        try:
            if fmt == "parquet":
                from amc_manager.engine.exports import copy_file

                copy_file(reader, writer)  # type: ignore[arg-type]
            else:
                export_opened(reader, row, fmt, writer)  # type: ignore[arg-type]
            writer.flush()
            chunks.put(None)
        except BaseException as exc:  # handed to the reader, which raises it
            if not writer.closed:
                chunks.put(exc)
        finally:
            opened.__exit__(None, None, None)

    thread = threading.Thread(target=work, name=f"export-{row.id[:8]}", daemon=True)
    thread.start()
    try:
        while True:
            item = await asyncio.to_thread(chunks.get)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        writer.closed = True
        while thread.is_alive():  # unblock a writer waiting on a full queue
            try:
                chunks.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.01)


def copy_rows(results: Results, row: ExecutionRow, sink: Any) -> int:
    """The stored Parquet file, byte for byte, to a binary stream (blocking)."""
    from amc_manager.engine.exports import copy_file

    with open_result(results, row) as reader:
        return copy_file(reader, sink)
