"""A stored result exported as CSV, JSON, JSON lines or Parquet, and advice for thin results."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.parquet as pq

from amc_manager.errors import UsageError

# pyarrow-stubs type compute kernels far narrower than Arrow accepts (mixed scalars and arrays),
# so this module uses them untyped.
pc: Any = _compute

Format = Literal["csv", "parquet", "json", "jsonl"]
_BATCH_ROWS = 1 << 16
_COPY_CHUNK = 1 << 20
_SAFE_INTEGER = 2**53
_CSV_SPECIAL = r'[,"\r\n]'
_CONTROL = r"[\x00-\x1f]"
_HIGH_COLUMNS = ("postal_code", "city_name", "dma_code")
_METRIC_WORDS = frozenset(
    "impressions clicks cost spend sales purchases conversions units sold count reach users "
    "orders revenue views amount sum avg rate ctr cpm roas du".split()
)


Source = Path | pa.NativeFile  # a local file, or a reader from result storage


def export(parquet: Source, fmt: Format, out: BinaryIO | Path) -> int:
    """Write the stored result to `out` (a file path, or an open binary stream for text formats).

    `parquet` is a local file or a random-access reader (result storage's `open_input`).
    Streams record batches, so memory stays flat whatever the result size. Returns rows written.
    """
    if fmt == "parquet":
        return _copy_parquet(parquet, out)
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise UsageError(f"unknown format {fmt!r}", hint="use csv, parquet, json or jsonl")
    source = pq.ParquetFile(parquet)
    with _sink(out) as sink:
        return writer(source, sink)


def copy_file(parquet: Source, sink: BinaryIO) -> int:
    """The stored Parquet file itself, byte for byte, in chunks; its row count."""
    reader = pa.OSFile(str(parquet), "rb") if isinstance(parquet, Path) else parquet
    rows = pq.ParquetFile(reader).metadata.num_rows
    reader.seek(0)
    while chunk := reader.read(_COPY_CHUNK):
        sink.write(chunk)
    return rows


def _copy_parquet(parquet: Source, out: BinaryIO | Path) -> int:
    if not isinstance(out, Path):
        raise UsageError(
            "Parquet needs --output", hint="Parquet is binary; name a file with --output PATH"
        )
    with _sink(out) as sink:
        return copy_file(parquet, sink)


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


@contextmanager
def _sink(out: BinaryIO | Path) -> Iterator[BinaryIO]:
    """A stream as given (left open), or a file that appears whole or not at all."""
    if not isinstance(out, Path):
        yield out
        out.flush()
        return
    tmp = _temp_beside(out)
    try:
        with tmp.open("wb") as handle:
            yield handle
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _batches(source: pq.ParquetFile) -> Iterator[pa.RecordBatch]:
    for batch in source.iter_batches(batch_size=_BATCH_ROWS):
        if batch.num_rows:
            yield batch


def _write_joined(sink: BinaryIO, lines: Any, skip: int = 0) -> None:
    """Write a string array's values back to back: they already sit contiguous in one buffer."""
    text = pc.cast(lines, pa.string())
    _, offsets, data = text.buffers()
    if data is None or not len(text):
        return
    bounds = np.frombuffer(offsets, dtype=np.int32)
    start, end = int(bounds[text.offset]), int(bounds[text.offset + len(text)])
    sink.write(memoryview(data)[start + skip : end])


def _join(pieces: list[Any]) -> Any:
    return pc.binary_join_element_wise(*pieces, "")


# --- CSV (RFC 4180) -------------------------------------------------------------------------


def _csv_quote(text: Any) -> Any:
    """Quote fields holding a separator, quote or line break (quotes doubled), and `""`.

    The empty string is quoted so it stays apart from NULL, which is an empty field.
    """
    quoted = _join(['"', pc.replace_substring(text, '"', '""'), '"'])
    needs = pc.or_(pc.match_substring_regex(text, _CSV_SPECIAL), pc.equal(text, ""))
    return pc.if_else(needs, quoted, text)


def _csv_field(column: Any) -> Any:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _csv_quote(pc.cast(column, pa.string()))
    plain = _plain_text(column)
    return plain if plain is not None else _csv_quote(pc.cast(column, pa.string()))


def _plain_text(column: Any) -> Any | None:
    """Text of a non-string column in AMC's own spelling, or None for types treated as text."""
    kind = column.type
    if pa.types.is_timestamp(kind):  # Arrow writes `2024-01-02 03:04:05.123`; ISO wants a T
        return pc.replace_substring(pc.cast(column, pa.string()), " ", "T", max_replacements=1)
    if pa.types.is_date(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_floating(kind):
        return _double_text(column)
    if pa.types.is_decimal(kind):
        return _decimal_text(column)
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return pc.cast(column, pa.string())
    return None


def _double_text(column: Any) -> Any:
    """Shortest round-trip text, `2.0` rather than `2` (as Spark and Python write doubles, and
    so `-0.0` keeps its sign in JSON); NaN and infinities spelled as Spark writes them."""
    text = pc.cast(column, pa.string())
    integral = pc.invert(pc.match_substring_regex(text, r"[.eEna]"))
    text = pc.if_else(integral, _join([text, ".0"]), text)
    text = pc.if_else(pc.is_nan(column), "NaN", text)
    return pc.if_else(
        pc.is_inf(column), pc.if_else(pc.less(column, 0), "-Infinity", "Infinity"), text
    )


def _decimal_text(column: Any) -> Any:
    """Plain notation always (Arrow writes tiny values with scale > 6 as `1.0E-7`)."""
    text = pc.cast(column, pa.string())
    if not pc.any(pc.match_substring(text, "E")).as_py():
        return text
    return pa.array(
        [None if d is None else format(d, "f") for d in column.to_pylist()], pa.string()
    )


def _write_csv(source: pq.ParquetFile, sink: BinaryIO) -> int:
    names = pa.array(source.schema_arrow.names, pa.string())
    sink.write((",".join(_csv_quote(names).to_pylist()) + "\r\n").encode("utf-8"))
    rows = 0
    for batch in _batches(source):
        cells = [pc.fill_null(_csv_field(column), "") for column in batch.columns]
        line = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
        _write_joined(sink, _join([line, "\r\n"]))
        rows += batch.num_rows
    return rows


# --- JSON -----------------------------------------------------------------------------------


def _json_string(text: Any) -> Any:
    if pc.any(pc.match_substring_regex(text, _CONTROL)).as_py():
        values = [
            None if v is None else json.dumps(v, ensure_ascii=False) for v in text.to_pylist()
        ]
        return pa.array(values, pa.string())
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    return _join(['"', escaped, '"'])


def _json_decimal(column: Any) -> Any:
    """A number when a double holds the value exactly, else the exact digits as a string."""
    text = _decimal_text(column)
    return pc.if_else(_double_exact(column), text, _join(['"', text, '"']))


def _double_exact(column: Any) -> Any:
    """Which decimals a double holds exactly, in integer arithmetic.

    u / 10^s = (u / 5^s) / 2^s is a double when 5^s divides u and the odd part of u / 5^s
    has at most 53 bits. Unscaled values beyond int64 (rare) are checked one by one.
    """
    if not pa.types.is_decimal128(column.type):
        return pa.array([d is None or float(d) == d for d in column.to_pylist()])
    words = np.frombuffer(column.buffers()[1], dtype=np.int64)
    words = words[2 * column.offset : 2 * (column.offset + len(column))]
    low, high = words[0::2], words[1::2]
    fits = high == (low >> 63)  # the 128-bit value is its low word, sign-extended
    unscaled = np.where(fits, low, 0)
    five = 5**column.type.scale
    if five >= 2**63:  # within int64, only zero is a multiple of so large a power of 5
        exact = unscaled == 0
    else:
        whole = unscaled // five
        odd = whole // np.where(whole == 0, 1, whole & -whole)  # strip the factors of 2
        exact = (unscaled % five == 0) & (np.abs(odd) < 2**53)
    for index in np.flatnonzero(~fits):
        value = column[int(index)].as_py()
        exact[index] = value is None or float(value) == value
    return pa.array(exact)


def _json_value(column: Any) -> Any:
    """Each value as JSON text; numbers a double cannot hold exactly become strings."""
    kind = column.type
    if pa.types.is_integer(kind):
        text = pc.cast(column, pa.string())
        unsafe = pc.or_(pc.greater(column, _SAFE_INTEGER), pc.less(column, -_SAFE_INTEGER))
        return pc.if_else(unsafe, _join(['"', text, '"']), text)
    if pa.types.is_decimal(kind):
        return _json_decimal(column)
    if pa.types.is_floating(kind):
        finite = pc.is_finite(column)
        text = _double_text(column)
        return pc.if_else(finite, text, _join(['"', text, '"']))
    if pa.types.is_boolean(kind):
        return pc.cast(column, pa.string())
    plain = _plain_text(column)
    if plain is not None:  # dates and timestamps: ISO strings
        return _join(['"', plain, '"'])
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _json_string(pc.cast(column, pa.string()))
    values = [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()]
    return pa.array(values, pa.string())


def _json_objects(batch: pa.RecordBatch, prefix: str) -> Any:
    pieces: list[Any] = []
    for index, name in enumerate(batch.schema.names):
        key = json.dumps(name, ensure_ascii=False)
        pieces.append(("{" if index == 0 else ",") + key + ":")
        pieces.append(pc.fill_null(_json_value(batch.column(index)), "null"))
    return _join([prefix, *pieces, "}"])


def _write_jsonl(source: pq.ParquetFile, sink: BinaryIO) -> int:
    rows = 0
    for batch in _batches(source):
        _write_joined(sink, _join([_json_objects(batch, ""), "\n"]))
        rows += batch.num_rows
    return rows


def _write_json(source: pq.ParquetFile, sink: BinaryIO) -> int:
    sink.write(b"[")
    rows = 0
    for batch in _batches(source):
        # Every object is preceded by ",\n"; the very first drops its comma.
        _write_joined(sink, _json_objects(batch, ",\n"), skip=0 if rows else 1)
        rows += batch.num_rows
    sink.write(b"\n]\n" if rows else b"]\n")
    return rows


_WRITERS: dict[str, Callable[[pq.ParquetFile, BinaryIO], int]] = {
    "csv": _write_csv,
    "json": _write_json,
    "jsonl": _write_jsonl,
}


# --- advice ---------------------------------------------------------------------------------


def _is_metric(name: str) -> bool:
    return any(word in _METRIC_WORDS for word in name.lower().split("_"))


def _dimensions(columns: list[str], filtered_column: str | None) -> list[str]:
    return [c for c in columns if c != filtered_column and not _is_metric(c)]


def _scope_advice(columns: list[str], filtered_column: str | None) -> list[str]:
    advice = ["Use a longer time window: each output row then covers more users."]
    dimensions = _dimensions(columns, filtered_column)
    if len(dimensions) > 1:
        advice.append(f"Group by fewer dimensions (now {', '.join(dimensions)}).")
    elif not columns:
        advice.append("Group by fewer dimensions.")
    precise = [c for c in dimensions if c.lower().endswith(("_dt", "_dt_utc"))]
    if precise:
        advice.append(f"Group by day rather than by {', '.join(precise)} (MEDIUM threshold).")
    high = [c for c in columns if c.lower() in _HIGH_COLUMNS]
    if high:
        advice.append(
            f"Drop {', '.join(high)}: HIGH-threshold columns need 100 users per row; "
            "use a coarser location instead."
        )
    return advice


def suggestions(
    row_count: int, columns: list[str], filtered_column: str | None, filtered_rows: int
) -> list[str]:
    """Ways to a broader scope when AMC's aggregation threshold emptied or thinned a result.

    AMC removes under-threshold rows silently, so an empty result, or rows flagged in the
    `filteredMetricsDiscriminatorColumn`, is the only sign. Nothing to suggest otherwise.
    """
    if row_count > 0 and filtered_rows == 0:
        return []
    if row_count == 0:
        head = (
            "The result is empty: AMC drops rows under the aggregation threshold without notice, "
            "so the scope is probably too narrow."
        )
    else:
        head = (
            f"{filtered_rows} of {row_count} rows fell under the aggregation threshold "
            f"({filtered_column} is true): their sensitive values are NULL."
        )
    advice = [head, *_scope_advice(columns, filtered_column)]
    if filtered_column is None:
        advice.append(
            "Set filteredMetricsDiscriminatorColumn (for example `filtered`) to keep "
            "under-threshold rows, with sensitive values NULL, instead of losing them."
        )
    return advice
