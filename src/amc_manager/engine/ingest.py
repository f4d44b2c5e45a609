"""AMC's result CSV parts streamed into one typed Parquet file, in bounded memory.

Column types come from AMC's `outputColumns` when the execution declares them, else from every
value (exact inference: a DECIMAL stays exact, `0123` stays text).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from amc_manager.errors import AmcManagerError

__all__ = ["IngestError", "IngestResult", "arrow_type_for", "ingest_csv_parts"]

# pyarrow-stubs type compute kernels far narrower than Arrow accepts (mixed scalars and arrays),
# so this module uses them untyped.
pc: Any = _compute
T = TypeVar("T")
Batch = pa.RecordBatch

# A plain decimal as AMC writes LONG and DECIMAL values: no leading zeros (so `0123` stays text),
# no exponent, and no negative zero (`-0.0` is a double; a decimal would lose its sign).
_PLAIN = r"^(-?[1-9][0-9]*|0)(\.[0-9]+)?$|^-0\.[0-9]*[1-9][0-9]*$"
# Any spelling of a double: Spark's `1.0E20`/`NaN`/`Infinity`, Arrow's `1e+20`/`nan`/`inf`
# (negative zero only with a fraction, `-0.0`: a bare `-0` is no number AMC writes).
_EXP = r"([eE][-+]?[0-9]+)?$"
_DOUBLE = (
    rf"^-?[1-9][0-9]*(\.[0-9]+)?{_EXP}|^0(\.[0-9]+)?{_EXP}|^-0\.[0-9]+{_EXP}"
    r"|^(NaN|nan)$|^-?(Infinity|inf)$"
)
_BOOLEAN = r"^(true|false)$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?$"
# No double is printed plainly with more digits than this (17 significant digits plus the
# leading zeros of values down to 1e-4); a longer plain value keeps a double column text.
_DOUBLE_PLAIN_DIGITS = 20
_PRECISION = 38
_ROW_GROUP_ROWS = 1 << 20
_PROBE_BLOCK = 1 << 16
_ROW_GROUP_BYTES = 32 << 20

_INT, _DEC, _FLOAT, _BOOL, _DATE_KIND, _TS = "int", "dec", "float", "bool", "date", "ts"
_NUMERIC = frozenset({_INT, _DEC, _FLOAT})
_TEMPORAL = ((_DATE_KIND, _DATE, pa.date32()), (_TS, _TIMESTAMP, pa.timestamp("ms")))
_ALL_KINDS = frozenset({_INT, _DEC, _FLOAT, _BOOL, _DATE_KIND, _TS})
# AMC's data types (outputColumns) as Arrow types; BINARY and CALENDAR_INTERVAL stay text.
_AMC_TYPES: dict[str, pa.DataType] = {
    "BOOLEAN": pa.bool_(),
    "BYTE": pa.int8(),
    "SHORT": pa.int16(),
    "INTEGER": pa.int32(),
    "LONG": pa.int64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("ms"),
    "STRING": pa.string(),
    "BINARY": pa.string(),
    "CALENDAR_INTERVAL": pa.string(),
}


def arrow_type_for(
    data_type: str | None, precision: int | None = None, scale: int | None = None
) -> pa.DataType | None:
    """The Arrow type of an AMC data type; None when it does not settle one (an unknown name,
    or a DECIMAL without its scale: inference decides those)."""
    name = (data_type or "").strip().upper()
    if name == "DECIMAL":
        if scale is None or not 0 <= scale <= _PRECISION:
            return None
        return pa.decimal128(min(max(precision or _PRECISION, scale, 1), _PRECISION), scale)
    return _AMC_TYPES.get(name)


class IngestError(AmcManagerError):
    """Result files could not be turned into a Parquet file (unreadable or inconsistent parts)."""


@dataclass(frozen=True)
class IngestResult:
    """What was written: row count, column names with Arrow types, sha256 and size of the file."""

    row_count: int
    columns: list[tuple[str, str]]
    checksum: str
    bytes: int


@dataclass
class _ColumnProfile:
    """Which types every value seen so far fits, plus the widths a decimal would need.

    Every check is exact, never a guess: integers and dates are checked by Arrow's own parser
    (whose result is kept for writing) plus a test for the spellings it also accepts; decimals
    and doubles by regular expression.
    """

    kinds: set[str] = field(default_factory=lambda: set(_ALL_KINDS))
    seen: bool = False
    int_digits: int = 0
    scale: int = 0
    digits: int = 0
    # AMC's declared type (outputColumns), kept while every value fits it. `skipped` says
    # inference did not see some values (they fitted the declared type): should the type be
    # dropped later, inference has to read the column again.
    declared: pa.DataType | None = None
    skipped: bool = False

    def observe(self, values: Any) -> Any | None:
        """Narrow the candidates; return the values already converted when a check did so."""
        if self.declared is not None:
            checked = _declared(values, self.declared)
            if checked is not None:
                self.skipped = self.skipped or values.null_count < len(values)
                return checked
            self.declared = None  # AMC's word does not fit the data: infer from here on
        if values.null_count == len(values):
            return None
        self.seen = True
        converted = self._observe_numeric(values) if self.kinds & _NUMERIC else None
        if _BOOL in self.kinds and not _all(_matches(values, _BOOLEAN)):
            self.kinds.discard(_BOOL)
        for kind, pattern, target in _TEMPORAL:
            if kind in self.kinds:
                checked = _converted(values, pattern, target)
                # Arrow's date parser takes exactly yyyy-MM-dd, its timestamp parser more.
                if checked is None or (kind == _TS and not _all(_matches(values, pattern))):
                    self.kinds.discard(kind)
                else:
                    converted = checked
        return converted

    def _observe_numeric(self, values: Any) -> Any | None:
        if _INT in self.kinds:
            ints = self._canonical_ints(values)
            if ints is not None:
                return ints
            self.kinds.discard(_INT)
        if _DEC in self.kinds:
            if _all(_matches(values, _PLAIN)):
                self._measure(values)
                return None
            self.kinds.discard(_DEC)  # from now on a double column, or text
        if _FLOAT in self.kinds:
            if _all(_matches(values, _DOUBLE)):
                self._measure(pc.replace_substring_regex(values, r"[eE].*$", ""))
            else:
                self.kinds.discard(_FLOAT)
        return None

    def _canonical_ints(self, values: Any) -> Any | None:
        """int64 values when every text is spelled as AMC writes a LONG (Arrow's parser also
        takes `0123`, `00`, `-0` and hex `0x1F`: all start with `0` or `-0`)."""
        ints = _converted(values, r"-?[0-9]+", pa.int64())
        if ints is None:
            return None
        odd = pc.or_(pc.match_like(values, "0_%"), pc.starts_with(values, "-0"))
        if not _all(pc.invert(odd)):
            return None
        # The widest text bounds every width a decimal (or the double check) would need.
        width = _max(pc.binary_length(values))
        self.int_digits = max(self.int_digits, width)
        self.digits = max(self.digits, width)
        return ints

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
        """The declared type, else the first exact type of: int64, decimal128(38, s), double,
        bool, date, timestamp."""
        if self.declared is not None:
            return self.declared
        if not self.seen:
            return pa.string()
        if _INT in self.kinds:
            return pa.int64()
        if _DEC in self.kinds:  # exact digits beat a rounded double: too wide stays text
            fits = self.int_digits + self.scale <= _PRECISION
            return pa.decimal128(_PRECISION, self.scale) if fits else pa.string()
        # A double column: some value had an exponent, NaN or Infinity (or was `-0.0`).
        if _FLOAT in self.kinds and self.digits <= _DOUBLE_PLAIN_DIGITS:
            return pa.float64()
        if _BOOL in self.kinds:
            return pa.bool_()
        if _DATE_KIND in self.kinds:
            return pa.date32()
        return pa.timestamp("ms") if _TS in self.kinds else pa.string()


def _declared(values: Any, target: pa.DataType) -> Any | None:
    """`values` cast to AMC's declared type, or None when some value does not fit it."""
    if target == pa.string():
        return values
    try:
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _matches(values: Any, pattern: str) -> Any:
    return pc.match_substring_regex(values, pattern)


def _all(mask: Any) -> bool:
    """True when every non-null entry is true (an all-null mask counts as true)."""
    return bool(pc.all(mask, skip_nulls=True, min_count=0).as_py())


def _max(values: Any) -> int:
    top = pc.max(values).as_py()
    return 0 if top is None else int(top)


def _converted(values: Any, pattern: str, target: pa.DataType) -> Any | None:
    """Arrow's cast, or None when it fails (tried on the first value first: raising is slow)."""
    first = values[0] if values[0].is_valid else values.drop_null()[0]  # never all NULL here
    if re.fullmatch(pattern, first.as_py()) is None:
        return None
    try:
        return pc.cast(values, target)
    except pa.ArrowInvalid:
        return None


@contextmanager
def _reading(part: Path) -> Iterator[None]:
    """Arrow's parse errors become IngestError naming the file."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"cannot read result file {part.name}: {exc}") from exc


def _open(part: Path, names: Sequence[str] | None, block_size: int) -> Any:
    """AMC's Spark-style CSV: `\\` escapes quotes and itself, quoted values may span lines;
    NULL is an empty unquoted field only (`""` is the empty string, `NULL` is text)."""
    return pcsv.open_csv(
        part,
        read_options=pcsv.ReadOptions(block_size=block_size),
        parse_options=pcsv.ParseOptions(
            escape_char="\\", double_quote=False, newlines_in_values=True
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in names or ()},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def _header(part: Path, block_size: int) -> list[str]:
    """The part's column names. A small first block will do (Arrow reads ahead many blocks),
    unless the first row is longer than it."""
    with _reading(part):
        try:
            reader = _open(part, None, min(block_size, _PROBE_BLOCK))
        except pa.ArrowInvalid:
            reader = _open(part, None, block_size)
        reader.close()
    return list(reader.schema.names)


def _check_headers(parts: Sequence[Path], block_size: int) -> list[str]:
    if not parts:
        raise IngestError("no result files to ingest")
    names = _header(parts[0], block_size)
    for part in parts[1:]:
        if (other := _header(part, block_size)) != names:
            raise IngestError(
                f"result file {part.name} has header {other}, but {parts[0].name} has {names}",
                hint="the parts of one result share one header; download them again",
            )
    return names


def _text_batches(parts: Sequence[Path], names: list[str], block_size: int) -> Iterator[Batch]:
    """Every row of every part, every column as text, a block at a time (Arrow reads ahead)."""
    for part in parts:
        with _reading(part):
            reader = _open(part, names, block_size)
            try:
                yield from (batch for batch in reader if batch.num_rows)
            finally:
                reader.close()


_DONE = object()


@contextmanager
def _prefetched(source: Iterator[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """`source` advanced in a thread, up to `depth` items ahead of the caller.

    Arrow's CSV reader, compute kernels and Parquet writer release the GIL, so reading and
    checking the next blocks overlaps writing this one. Errors surface in the caller.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="ingest") as pool:
        ahead = deque(pool.submit(next, source, _DONE) for _ in range(depth))

        def items() -> Iterator[T]:
            while (item := ahead.popleft().result()) is not _DONE:
                ahead.append(pool.submit(next, source, _DONE))
                yield cast(T, item)

        try:
            yield items()
        finally:
            wait([f for f in ahead if not f.cancel()])  # a running generator cannot be closed
            getattr(source, "close", lambda: None)()


def _typed(batch: Batch, schema: pa.Schema, converted: Sequence[Any | None]) -> Batch:
    columns = [
        ready if ready is not None and ready.type == kind else pc.cast(text, kind)
        for text, ready, kind in zip(batch.columns, converted, schema.types, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _full(batches: Sequence[Batch]) -> bool:
    """One row group's worth: 1Mi rows or 32 MiB, whichever comes first."""
    rows, size = sum(b.num_rows for b in batches), sum(b.nbytes for b in batches)
    return rows >= _ROW_GROUP_ROWS or size >= _ROW_GROUP_BYTES


class _RowGroups:
    """A ParquetWriter fed batch by batch, writing a row group whenever one is `_full`."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._writer = pq.ParquetWriter(path, schema)
        self._pending: list[Batch] = []

    def add(self, batch: Batch) -> None:
        self._pending.append(batch)
        if _full(self._pending):
            self._flush()

    def _flush(self) -> None:
        if self._pending:  # one row group, even past the writer's own 1Mi-row default
            table = pa.Table.from_batches(self._pending, schema=self.schema)
            self._writer.write_table(table, row_group_size=table.num_rows)
        self._pending = []

    def close(self, *, flush: bool = True) -> None:
        if flush:
            self._flush()
        self._pending.clear()
        self._writer.close()


def _profiled(
    batches: Iterator[Batch], profiles: list[_ColumnProfile]
) -> Iterator[tuple[Batch, list[Any | None], list[pa.DataType]]]:
    """Each batch with its converted columns and the types all data so far allows."""
    for batch in batches:
        converted = [p.observe(column) for p, column in zip(profiles, batch.columns, strict=True)]
        yield batch, converted, [p.arrow_type() for p in profiles]


def _bet(target: Path, schema: pa.Schema, waiting: list[tuple[Batch, list[Any]]]) -> _RowGroups:
    writer = _RowGroups(target, schema)
    for batch, converted in waiting:
        writer.add(_typed(batch, schema, converted))
    return writer


def _first_pass(
    parts: Sequence[Path],
    names: list[str],
    block_size: int,
    target: Path,
    profiles: list[_ColumnProfile],
) -> tuple[pa.Schema, bool]:
    """Check every value, and meanwhile write `target`, betting that the types of the first row
    group's worth of rows hold for the rest.

    Returns the types every value fits, and whether `target` was written with them. AMC writes
    each column one way, so the bet nearly always holds and the CSV is parsed once (always, for
    results under one row group). It is lost when, say, a text column starts with a million
    numbers; then pass 2 parses again.
    """
    waiting: list[tuple[Batch, list[Any]]] = []  # read before the bet is placed
    writer: _RowGroups | None = None
    held = True
    try:
        with (  # three threads: parse, check, write
            _prefetched(_text_batches(parts, names, block_size)) as texts,
            _prefetched(_profiled(texts, profiles)) as stream,
        ):
            for batch, converted, types in stream:
                if writer is None:
                    waiting.append((batch, converted))
                    if _full([b for b, _ in waiting]):
                        writer, waiting = _bet(target, _schema(names, types), waiting), []
                elif held:
                    held = types == writer.schema.types
                    if held:
                        writer.add(_typed(batch, writer.schema, converted))
        final = _schema(names, [p.arrow_type() for p in profiles])
        writer = writer or _bet(target, final, waiting)  # all of it fitted in one row group
        writer.close(flush=held)
    except BaseException:
        if writer is not None:
            writer.close(flush=False)
        raise
    return final, held


def _reprofiled(
    parts: Sequence[Path], schema: pa.Schema, block_size: int, columns: list[int]
) -> pa.Schema:
    """`schema` with the types of `columns` inferred from all their values (columns whose
    declared type stopped fitting after it had been the only check of earlier values)."""
    fresh = {index: _ColumnProfile() for index in columns}
    for batch in _text_batches(parts, schema.names, block_size):
        for index, profile in fresh.items():
            profile.observe(batch.column(index))
    types = [fresh[i].arrow_type() if i in fresh else t for i, t in enumerate(schema.types)]
    return _schema(schema.names, types)


def _declared_types(
    names: list[str], declared: Mapping[str, pa.DataType] | None
) -> list[pa.DataType | None]:
    """Each column's declared type: by exact name, else ignoring case."""
    if not declared:
        return [None] * len(names)
    folded = {name.lower(): kind for name, kind in declared.items()}
    return [declared.get(name, folded.get(name.lower())) for name in names]


def _schema(names: list[str], types: list[pa.DataType]) -> pa.Schema:
    return pa.schema(list(zip(names, types, strict=True)))


def _second_pass(parts: Sequence[Path], schema: pa.Schema, block_size: int, target: Path) -> None:
    """Parse again and write with the types pass 1 settled on (casts run in the reader thread)."""
    nothing: list[Any | None] = [None] * len(schema)
    typed = (_typed(b, schema, nothing) for b in _text_batches(parts, schema.names, block_size))
    writer = _RowGroups(target, schema)
    try:
        with _prefetched(typed) as stream:
            for batch in stream:
                writer.add(batch)
    except BaseException:
        writer.close(flush=False)
        raise
    writer.close()


def _seal(path: Path) -> str:
    """sha256 of the finished file, flushed to disk before it is renamed into place."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        os.fsync(handle.fileno())
    return digest.hexdigest()


def ingest_csv_parts(
    parts: Sequence[Path],
    destination: Path,
    *,
    block_size: int = 1 << 20,
    declared: Mapping[str, pa.DataType] | None = None,
) -> IngestResult:
    """Stream AMC's result parts (one shared header) into one Parquet file at `destination`.

    A column named in `declared` (AMC's `outputColumns`, see `arrow_type_for`) gets that type
    while all its values fit it. Other types are decided from every value, never guessed from a
    sample: `0123` stays text, `1.5000` stays an exact decimal (see `_ColumnProfile`). The file
    appears whole or not at all (a temp name beside it, then `os.replace`). Synchronous and
    CPU-bound: callers run it in a thread.
    """
    names = _check_headers(parts, block_size)
    tmp = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.tmp")
    profiles = [_ColumnProfile(declared=kind) for kind in _declared_types(names, declared)]
    try:
        schema, bet_held = _first_pass(parts, names, block_size, tmp, profiles)
        redo = [i for i, p in enumerate(profiles) if p.skipped and p.declared is None]
        if redo:
            schema, bet_held = _reprofiled(parts, schema, block_size, redo), False
        if not bet_held:
            _second_pass(parts, schema, block_size, tmp)
        checksum = _seal(tmp)
        size = tmp.stat().st_size
        with pq.ParquetFile(tmp) as written:
            rows = written.metadata.num_rows
        os.replace(tmp, destination)
    except pa.ArrowException as exc:  # reading errors are IngestError already; this is writing
        tmp.unlink(missing_ok=True)
        raise IngestError(f"cannot write {destination.name}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    columns = [(f.name, str(f.type)) for f in schema]
    return IngestResult(row_count=rows, columns=columns, checksum=checksum, bytes=size)
