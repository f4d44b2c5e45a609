"""AMC's result CSV parts streamed into one typed Parquet file, in bounded memory."""

from __future__ import annotations

import hashlib
import os
import re
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from amc_manager.errors import AmcManagerError

# pyarrow-stubs type compute kernels far narrower than Arrow accepts (mixed scalars and arrays),
# so this module uses them untyped.
pc: Any = _compute
T = TypeVar("T")
Batch = pa.RecordBatch

# A plain decimal as AMC writes LONG and DECIMAL values: no leading zeros (so `0123` stays text),
# no exponent, and no negative zero (`-0.0` is a double; a decimal would lose its sign).
_PLAIN = r"^(-?[1-9][0-9]*|0)(\.[0-9]+)?$|^-0\.[0-9]*[1-9][0-9]*$"
# Any spelling of a double: Spark's `1.0E20`/`NaN`/`Infinity`, Arrow's `1e+20`/`nan`/`inf`.
_DOUBLE = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$|^(NaN|nan)$|^-?(Infinity|inf)$"
_BOOLEAN = r"^(true|false)$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?$"
# No double is printed plainly with more digits than this (17 significant digits plus the
# leading zeros of values down to 1e-4); a longer plain value keeps a double column text.
_DOUBLE_PLAIN_DIGITS = 20
_MAX_PRECISION = 38
_ROW_GROUP_ROWS = 1 << 20
_ROW_GROUP_BYTES = 64 << 20

_INT, _DEC, _FLOAT, _BOOL, _DATE_KIND, _TS = "int", "dec", "float", "bool", "date", "ts"
_NUMERIC = frozenset({_INT, _DEC, _FLOAT})
_ALL_KINDS = frozenset({_INT, _DEC, _FLOAT, _BOOL, _DATE_KIND, _TS})


class IngestError(AmcManagerError):
    """Result files could not be turned into a Parquet file (unreadable or inconsistent parts)."""


@dataclass(frozen=True)
class IngestResult:
    """What was written: row count, column names with Arrow types, sha256 and size of the file."""

    row_count: int
    columns: list[tuple[str, str]]
    checksum: str
    bytes: int


def _all(mask: Any) -> bool:
    """True when every non-null entry is true (an all-null mask counts as true)."""
    return bool(pc.all(mask, skip_nulls=True, min_count=0).as_py())


@dataclass
class _ColumnProfile:
    """Which types every value seen so far fits, plus the widths a decimal would need.

    Cheap checks come first and are exact: a batch whose text equals the text Arrow writes back
    after casting (`cast -> cast back -> equal`) is canonical. Only batches that fail them (mixed
    scales, overflowing integers, doubles) pay for the regular expressions.
    """

    kinds: set[str] = field(default_factory=lambda: set(_ALL_KINDS))
    seen: bool = False
    int_digits: int = 0
    scale: int = 0
    digits: int = 0

    def observe(self, values: pa.Array[Any]) -> None:
        if values.null_count == len(values):
            return
        self.seen = True
        if self.kinds & _NUMERIC:
            self._observe_numeric(values)
        if _BOOL in self.kinds and not _all(pc.match_substring_regex(values, _BOOLEAN)):
            self.kinds.discard(_BOOL)
        if _DATE_KIND in self.kinds and not (
            _looks_like(values, _DATE) and _casts(values, pa.date32())
        ):
            self.kinds.discard(_DATE_KIND)  # Arrow's date parser takes exactly yyyy-MM-dd
        if _TS in self.kinds and not (
            _all(pc.match_substring_regex(values, _TIMESTAMP)) and _casts(values, _ts())
        ):
            self.kinds.discard(_TS)

    def _observe_numeric(self, values: Any) -> None:
        if _INT in self.kinds:
            if self._canonical_ints(values):
                return
            self.kinds.discard(_INT)
        if _DEC in self.kinds:
            if _all(pc.match_substring_regex(values, _PLAIN)):
                self._measure(values)
                return
            self.kinds.discard(_DEC)  # from now on a double column, or text
        if _FLOAT in self.kinds:
            if _all(pc.match_substring_regex(values, _DOUBLE)):
                self._measure(pc.replace_substring_regex(values, r"[eE].*$", ""))
            else:
                self.kinds.discard(_FLOAT)

    def _canonical_ints(self, values: Any) -> bool:
        """Arrow parses the text as int64 and it is written as AMC writes a LONG.

        Arrow also accepts `0123`, `00`, `-0` and hex `0x1F`: all start with `0` or `-0`.
        """
        if not _looks_like(values, _PLAIN) or not _casts(values, pa.int64()):
            return False
        odd = pc.or_(
            pc.match_like(values, "0_%"), pc.starts_with(values, "-0")
        )  # `0` alone is fine
        if not _all(pc.invert(odd)):
            return False
        # The widest value bounds every width a decimal (or the double check) would need.
        width = _max(pc.binary_length(values))
        self.int_digits = max(self.int_digits, width)
        self.digits = max(self.digits, width)
        return True

    def _measure(self, values: Any) -> None:
        """Integer digits (sign not counted), scale and their sum, of plain-looking text."""
        length = pc.binary_length(values)
        dot = pc.find_substring(values, ".")
        has_dot = pc.greater_equal(dot, 0)
        sign = pc.cast(pc.starts_with(values, "-"), pa.int32())
        integer = pc.subtract(pc.if_else(has_dot, dot, length), sign)
        scale = pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)
        self.int_digits = max(self.int_digits, _max(integer))
        self.scale = max(self.scale, _max(scale))
        self.digits = max(self.digits, _max(pc.add(integer, scale)))

    def arrow_type(self) -> pa.DataType:
        """The narrowest exact type, in order: int64, decimal, double, bool, date, timestamp."""
        if not self.seen:
            return pa.string()
        if _INT in self.kinds:
            return pa.int64()
        if _DEC in self.kinds:
            if self.int_digits + self.scale > _MAX_PRECISION:
                return pa.string()  # exact digits beat a rounded double
            if self.scale == 0:  # integers beyond int64
                return pa.decimal128(_MAX_PRECISION, 0)
            return pa.decimal128(max(self.int_digits + self.scale, 1), self.scale)
        # A double column: some value had an exponent, NaN or Infinity (or was `-0.0`).
        if _FLOAT in self.kinds and self.digits <= _DOUBLE_PLAIN_DIGITS:
            return pa.float64()
        for kind, arrow in ((_BOOL, pa.bool_()), (_DATE_KIND, pa.date32()), (_TS, _ts())):
            if kind in self.kinds:
                return arrow
        return pa.string()


def _ts() -> pa.DataType:
    return pa.timestamp("ms")


def _max(values: Any) -> int:
    top = pc.max(values).as_py()
    return 0 if top is None else int(top)


def _looks_like(values: Any, pattern: str) -> bool:
    """The first non-null value matches: spares a failing cast (slow to raise) on text columns."""
    for value in values:
        if value.is_valid:
            return re.fullmatch(pattern, value.as_py()) is not None
    return True


def _casts(values: Any, target: Any) -> bool:
    try:
        pc.cast(values, target)
    except pa.ArrowInvalid:
        return False
    return True


def _parse_options() -> pcsv.ParseOptions:
    return pcsv.ParseOptions(escape_char="\\", double_quote=False, newlines_in_values=True)


def _convert_options(names: Sequence[str] | None) -> pcsv.ConvertOptions:
    """NULL is an empty unquoted field only; `""` stays an empty string, `NULL` stays text."""
    return pcsv.ConvertOptions(
        column_types={name: pa.string() for name in names or ()},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )


@contextmanager
def _reading(part: Path) -> Iterator[None]:
    """Arrow's parse errors become IngestError naming the file."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"cannot read result file {part.name}: {exc}") from exc


def _header(part: Path, block_size: int) -> list[str]:
    with _reading(part):
        reader = pcsv.open_csv(
            part,
            read_options=pcsv.ReadOptions(block_size=block_size),
            parse_options=_parse_options(),
            convert_options=_convert_options(None),
        )
        names = list(reader.schema.names)
        reader.close()
    return names


def _batches(part: Path, names: list[str], block_size: int) -> Iterator[Batch]:
    """Every row of one part, every column as text; one block in memory at a time."""
    with _reading(part):
        reader = pcsv.open_csv(
            part,
            read_options=pcsv.ReadOptions(block_size=block_size),
            parse_options=_parse_options(),
            convert_options=_convert_options(names),
        )
        try:
            yield from reader
        finally:
            reader.close()


def _check_headers(parts: Sequence[Path], block_size: int) -> list[str]:
    if not parts:
        raise IngestError("no result files to ingest")
    names = _header(parts[0], block_size)
    for part in parts[1:]:
        other = _header(part, block_size)
        if other != names:
            raise IngestError(
                f"result file {part.name} has header {other}, but {parts[0].name} has {names}",
                hint="the parts of one result must share one header; download them again",
            )
    return names


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


@contextmanager
def _prefetched(source: Iterator[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """Pull `source` in a thread, up to `depth` items ahead of the caller.

    Arrow's CSV reader, casts and Parquet writer release the GIL, so parsing the next block
    overlaps checking or writing this one. Leaving the block stops and joins the thread.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, who re-raises it
            put(_Failure(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[T]:
        while (item := items.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.error
            yield cast(T, item)

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


def _text_batches(parts: Sequence[Path], names: list[str], block_size: int) -> Iterator[Batch]:
    for part in parts:
        yield from _batches(part, names, block_size)


def infer_schema(parts: Sequence[Path], names: list[str], block_size: int) -> pa.Schema:
    """Pass 1: read every value as text and keep, per column, the types all values fit."""
    profiles = [_ColumnProfile() for _ in names]
    with _prefetched(_text_batches(parts, names, block_size)) as batches:
        for batch in batches:
            for profile, column in zip(profiles, batch.columns, strict=True):
                profile.observe(column)
    return pa.schema([(name, p.arrow_type()) for name, p in zip(names, profiles, strict=True)])


def _typed(batch: Batch, schema: pa.Schema) -> Batch:
    columns = [
        column if target == pa.string() else pc.cast(column, target)
        for column, target in zip(batch.columns, schema.types, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _write(parts: Sequence[Path], schema: pa.Schema, target: Path, block_size: int) -> int:
    """Pass 2: convert (in the reader thread) and write, one row group per ~1M rows or 64 MiB."""
    rows = 0
    pending: list[Batch] = []
    typed = (_typed(b, schema) for b in _text_batches(parts, schema.names, block_size))
    with pq.ParquetWriter(target, schema) as writer, _prefetched(typed) as batches:
        for batch in batches:
            pending.append(batch)
            rows += batch.num_rows
            if _buffered(pending):
                writer.write_table(pa.Table.from_batches(pending, schema=schema))
                pending = []
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
    return rows


def _buffered(pending: list[pa.RecordBatch]) -> bool:
    rows = sum(b.num_rows for b in pending)
    return rows >= _ROW_GROUP_ROWS or sum(b.nbytes for b in pending) >= _ROW_GROUP_BYTES


def _seal(path: Path) -> str:
    """sha256 of the finished file, flushed to disk before it is renamed into place."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        os.fsync(handle.fileno())
    return digest.hexdigest()


def ingest_csv_parts(
    parts: Sequence[Path], destination: Path, *, block_size: int = 1 << 20
) -> IngestResult:
    """Stream AMC's result parts (one shared header) into one Parquet file at `destination`.

    Two passes over the files so that types are decided from every value, never guessed from the
    first block: `0123` stays text, `1.5000` stays an exact decimal. The file appears whole or not
    at all (temp name beside it, then `os.replace`). Synchronous: callers run it in a thread.
    """
    names = _check_headers(parts, block_size)
    tmp = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.tmp")
    try:
        schema = infer_schema(parts, names, block_size)
        rows = _write(parts, schema, tmp, block_size)
        checksum = _seal(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, destination)
    except pa.ArrowException as exc:  # reading errors are already IngestError; this is writing
        tmp.unlink(missing_ok=True)
        raise IngestError(f"cannot write {destination.name}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    columns = [(f.name, str(f.type)) for f in schema]
    return IngestResult(row_count=rows, columns=columns, checksum=checksum, bytes=size)
