"""A collection's rows as one dataset: every succeeded cell's result file, batch by batch, with
`window_start`, `window_end` and `instance_id` first; one Parquet or CSV file, or a Parquet
dataset folder partitioned by window. Never more than one record batch is held in memory.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from amc_manager.engine.exports import export
from amc_manager.errors import UsageError

LEADING = ("window_start", "window_end", "instance_id")
PARTITION = "window_start"
# Opens a stored result by its location for reading (result storage's `open_input`, or `open`).
Opener = Callable[[str], Any]


@dataclass(frozen=True)
class Part:
    """One succeeded cell's result file (its location in result storage) and where it
    belongs."""

    window_start: str
    window_end: str
    instance_id: str
    location: str


def combined_schema(parts: Sequence[Part], opener: Opener) -> pa.Schema:
    """The leading columns, then every result column (types unified across the cells: a
    column all NULL in one window takes the type it has in the others)."""
    schemas = []
    for part in parts:
        with opener(part.location) as source:
            schemas.append(pq.read_schema(source))
    unified = pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])
    clash = [name for name in unified.names if name in LEADING]
    if clash:
        raise UsageError(
            f"the query returns a column named {clash[0]}, which the combined dataset adds",
            hint="rename that column in the SQL (e.g. AS cell_" + clash[0] + ")",
        )
    leading = [pa.field(name, pa.string(), nullable=False) for name in LEADING]
    return pa.schema(leading + list(unified))


def batches(parts: Sequence[Part], schema: pa.Schema, opener: Opener) -> Iterator[pa.RecordBatch]:
    """Every row of every part, conformed to `schema`, one record batch at a time."""
    for part in parts:
        with opener(part.location) as source:
            for batch in pq.ParquetFile(source).iter_batches(batch_size=1 << 16):
                yield _conformed(batch, part, schema)


def _conformed(batch: pa.RecordBatch, part: Part, schema: pa.Schema) -> pa.RecordBatch:
    n = batch.num_rows
    own = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
    values = (part.window_start, part.window_end, part.instance_id)
    columns: list[pa.Array[Any]] = [pa.array([v] * n, pa.string()) for v in values]
    for field in list(schema)[len(LEADING) :]:
        column = own.get(field.name)
        if column is None:
            columns.append(pa.nulls(n, field.type))
        else:
            columns.append(column.cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def write_file(parts: Sequence[Part], fmt: str, out: Path | BinaryIO, opener: Opener) -> int:
    """One Parquet file (`out` a path) or CSV (a path or a stream); the rows written. A file
    appears whole or not at all."""
    schema = combined_schema(parts, opener)
    folder = out.parent if isinstance(out, Path) else Path(tempfile.gettempdir())
    staged = folder / f".amc-collection-{uuid.uuid4().hex}.parquet"
    try:
        rows = 0
        with pq.ParquetWriter(staged, schema) as writer:
            for batch in batches(parts, schema, opener):
                writer.write_batch(batch)
                rows += batch.num_rows
        if fmt == "parquet":
            if not isinstance(out, Path):
                raise UsageError("Parquet needs --output", hint="add --output rows.parquet")
            os.replace(staged, out)
            return rows
        export(staged, "csv", out)
        return rows
    finally:
        staged.unlink(missing_ok=True)


def write_folder(parts: Sequence[Part], folder: Path, opener: Opener) -> int:
    """A Parquet dataset under `folder`, one hive partition per window
    (`window_start=...`); the rows written. Reading it back with hive partitioning restores
    the `window_start` column."""
    schema = combined_schema(parts, opener)
    rows = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in batches(parts, schema, opener):
            rows += batch.num_rows
            yield batch

    ds.write_dataset(
        counted(),
        folder,
        schema=schema,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive"),
        existing_data_behavior="delete_matching",
        basename_template="part-{i}.parquet",
    )
    return rows
