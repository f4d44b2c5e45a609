"""Result files as AMC writes them (Spark-style CSV, split into parts) and presigned URLs."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import pyarrow.compute as _compute

# pyarrow-stubs type compute kernels far narrower than Arrow accepts (mixed scalars and arrays),
# so this module uses them untyped.
pc: Any = _compute

MAX_FILES = 5
_NEEDS_QUOTES = r'[,"\\\r\n]'


def _format_double(values: pa.Array[Any]) -> Any:
    text = pc.cast(values, pa.string())
    plain = pc.invert(pc.match_substring_regex(text, r"[.eEna]"))
    return pc.if_else(pc.fill_null(plain, False), pc.binary_join_element_wise(text, ".0", ""), text)


def _format_string(values: pa.Array[Any]) -> Any:
    """Quote values holding a separator, quote, backslash or newline, escaping with `\\`.

    An empty string is written as `""` so it stays apart from NULL (an empty field), as
    Spark's CSV writer does.
    """
    escaped = pc.replace_substring(values, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    needs = pc.or_(pc.match_substring_regex(values, _NEEDS_QUOTES), pc.equal(values, ""))
    return pc.if_else(needs, quoted, values)


def format_column(values: pa.Array[Any]) -> Any:
    """One column as CSV field text (NULL stays NULL and is written as an empty field)."""
    kind = values.type
    if pa.types.is_timestamp(kind):
        return pc.strftime(pc.cast(values, pa.timestamp("ms")), format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_date(kind):
        return pc.strftime(values, format="%Y-%m-%d")
    if pa.types.is_floating(kind):
        return _format_double(values)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _format_string(pc.cast(values, pa.string()))
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return pc.cast(values, pa.string())
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_struct(kind):
        # Arrow cannot cast nested values to text; they travel as JSON text in one field.
        texts = [None if v is None else json.dumps(v, default=str) for v in values.to_pylist()]
        return _format_string(pa.array(texts, pa.string()))
    return _format_string(pc.cast(values, pa.string()))


def csv_lines(table: pa.Table) -> list[str]:
    """Header plus one line per row."""
    names = _format_string(pa.array(table.column_names, pa.string())).to_pylist()
    header = ",".join(str(n) for n in names)
    if table.num_rows == 0:
        return [header]
    columns = [pc.fill_null(format_column(col.combine_chunks()), "") for col in table.columns]
    joined = pc.binary_join_element_wise(*columns, ",") if len(columns) > 1 else columns[0]
    return [header, *(str(line) for line in joined.to_pylist())]


def part_sizes(rows: int, rows_per_file: int) -> list[int]:
    """How many rows each file holds: at most five files, so large results grow the files."""
    files = max(1, min(MAX_FILES, math.ceil(rows / rows_per_file)))
    base, extra = divmod(rows, files)
    return [base + (1 if i < extra else 0) for i in range(files)]


def write_result_files(
    table: pa.Table, directory: Path, stem: str, rows_per_file: int
) -> list[str]:
    """Write the parts atomically (temp file + rename) so a reader never sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    offset = 0
    sizes = part_sizes(table.num_rows, rows_per_file)
    for index, size in enumerate(sizes, start=1):
        name = f"{stem}.csv" if len(sizes) == 1 else f"{stem}-part{index:05d}.csv"
        lines = csv_lines(table.slice(offset, size))
        _atomic_write(directory / name, ("\n".join(lines) + "\n").encode("utf-8"))
        names.append(name)
        offset += size
    return names


def write_metadata(directory: Path, stem: str, details: dict[str, Any]) -> str:
    name = f"{stem}-metadata.json"
    _atomic_write(directory / name, json.dumps(details, indent=2).encode("utf-8"))
    return name


def _atomic_write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def file_stem(created: datetime, workflow_id: str) -> str:
    """Ad-hoc result names look like `2025-07-01T10:00:00.000Z-<workflowId>`."""
    return (
        created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z-{workflow_id}"
    )


def _signature(secret: bytes, path: str, amz_date: str, expires: int) -> str:
    message = f"{path}\n{amz_date}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def presign(secret: bytes, base_url: str, path: str, now: datetime, expires: int) -> str:
    """A presigned-style URL: anyone holding it may GET the file until it expires."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": _signature(secret, path, amz_date, expires),
    }
    return f"{base_url.rstrip('/')}{path}?{urlencode(query)}"


def check_presigned(secret: bytes, path: str, params: dict[str, str], now: datetime) -> str | None:
    """None when the URL is valid now, else S3's error code and message."""
    try:
        amz_date = params["X-Amz-Date"]
        expires = int(params["X-Amz-Expires"])
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        given = params["X-Amz-Signature"]
    except (KeyError, ValueError):
        return "AccessDenied|Query-string authentication requires the Signature, Expires and Date"
    if not hmac.compare_digest(given, _signature(secret, path, amz_date, expires)):
        return "SignatureDoesNotMatch|The request signature we calculated does not match"
    if (now - signed_at).total_seconds() > expires:
        return "AccessDenied|Request has expired"
    return None


def s3_error_xml(code: str, message: str, request_id: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    )
