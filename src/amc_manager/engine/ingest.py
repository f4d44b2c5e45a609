"""AMC's result CSV parts streamed into one typed Parquet file, in bounded memory."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from amc_manager.errors import AmcManagerError

# pyarrow-stubs type compute kernels far narrower than Arrow accepts (mixed scalars and arrays),
# so this module uses them untyped.
pc: Any = _compute

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
    """Which types every value seen so far fits, plus the widths a decimal would need."""

    kinds: set[str] = field(default_factory=lambda: set(_ALL_KINDS))
    seen: bool = False
    double_marker: bool = False
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
        self._observe_temporal(values, _DATE_KIND, _DATE, pa.date32())
        self._observe_temporal(values, _TS, _TIMESTAMP, pa.timestamp("ms"))

    def _observe_temporal(self, values: Any, kind: str, pattern: str, target: Any) -> None:
        if kind not in self.kinds:
            return
        if not _all(pc.match_substring_regex(values, pattern)):
            self.kinds.discard(kind)
            return
        try:  # the pattern cannot tell 2024-02-30 from a real date; the cast can
            pc.cast(values, target)
        except pa.ArrowInvalid:
            self.kinds.discard(kind)

    def _observe_numeric(self, values: Any) -> None:
        if _all(pc.match_substring_regex(values, _PLAIN)):
            self._observe_plain(values)
            return
        self.kinds -= {_INT, _DEC}
        if _FLOAT not in self.kinds:
            return
        if not _all(pc.match_substring_regex(values, _DOUBLE)):
            self.kinds.discard(_FLOAT)
            return
        self.double_marker = True
        self._measure(pc.replace_substring_regex(values, r"[eE].*$", ""))

    def _observe_plain(self, values: Any) -> None:
        if _INT in self.kinds:
            if _all(pc.invert(pc.match_substring(values, "."))) and _fits_int64(values):
                # Integers only: the widest value bounds every width a decimal would need.
                width = int(pc.max(pc.binary_length(values)).as_py())
                self.int_digits = max(self.int_digits, width)
                self.digits = max(self.digits, width)
                return
            self.kinds.discard(_INT)
        self._measure(values)

    def _measure(self, values: Any) -> None:
        """Integer digits, scale and all digits of plain-looking text (sign, `0.` not counted)."""
        length = pc.binary_length(values)
        dot = pc.find_substring(values, ".")
        has_dot = pc.greater_equal(dot, 0)
        skipped = pc.add(
            pc.cast(pc.starts_with(values, "-"), pa.int32()),
            pc.cast(pc.match_substring_regex(values, r"^-?0"), pa.int32()),
        )
        integer = pc.subtract(pc.if_else(has_dot, dot, length), skipped)
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
        if _DEC in self.kinds and self.int_digits + self.scale <= _MAX_PRECISION:
            if self.scale == 0:  # integers beyond int64
                return pa.decimal128(_MAX_PRECISION, 0)
            return pa.decimal128(max(self.int_digits + self.scale, 1), self.scale)
        if _FLOAT in self.kinds and self.double_marker and self.digits <= _DOUBLE_PLAIN_DIGITS:
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


def _fits_int64(values: Any) -> bool:
    try:
        pc.cast(values, pa.int64())
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


def _batches(part: Path, names: list[str], block_size: int) -> Iterator[pa.RecordBatch]:
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


def infer_schema(parts: Sequence[Path], names: list[str], block_size: int) -> pa.Schema:
    """Pass 1: read every value as text and keep, per column, the types all values fit."""
    profiles = [_ColumnProfile() for _ in names]
    for part in parts:
        for batch in _batches(part, names, block_size):
            for profile, column in zip(profiles, batch.columns, strict=True):
                profile.observe(column)
    return pa.schema([(name, p.arrow_type()) for name, p in zip(names, profiles, strict=True)])


def _typed(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = [
        column if target == pa.string() else pc.cast(column, target)
        for column, target in zip(batch.columns, schema.types, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _write(parts: Sequence[Path], schema: pa.Schema, target: Path, block_size: int) -> int:
    """Pass 2: convert and write, buffering up to one row group (rows or bytes, whichever first)."""
    rows = 0
    pending: list[pa.RecordBatch] = []
    with pq.ParquetWriter(target, schema) as writer:
        for part in parts:
            for batch in _batches(part, schema.names, block_size):
                pending.append(_typed(batch, schema))
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
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    columns = [(f.name, str(f.type)) for f in schema]
    return IngestResult(row_count=rows, columns=columns, checksum=checksum, bytes=size)
