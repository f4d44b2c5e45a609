"""The combined dataset from result files: leading columns, types unified across cells (a
column all NULL in one window, a column missing in another), CSV to a stream, a name clash."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from amc_manager.engine.combine import Part, write_file, write_folder
from amc_manager.errors import UsageError


def part(tmp_path: Path, name: str, table: pa.Table, start: str) -> Part:
    path = tmp_path / f"{name}.parquet"
    pq.write_table(table, path, row_group_size=2)
    return Part(start, start[:8] + "99T00:00:00", "amcaaaaaaaa", str(path))


def opener(location: str) -> object:
    return open(location, "rb")  # noqa: SIM115 - the caller closes it


def test_types_unified_and_csv_streamed(tmp_path: Path) -> None:
    first = pa.table({"day": ["2025-07-01", "2025-07-02", "2025-07-03"], "n": [1, 2, 3]})
    empty_n = pa.table({"day": ["2025-07-08"], "n": pa.nulls(1, pa.null())})
    no_n = pa.table({"day": ["2025-07-15"], "extra": [1.5]})
    parts = [
        part(tmp_path, "a", first, "2025-07-01T00:00:00"),
        part(tmp_path, "b", empty_n, "2025-07-08T00:00:00"),
        part(tmp_path, "c", no_n, "2025-07-15T00:00:00"),
    ]
    out = tmp_path / "all.parquet"
    assert write_file(parts, "parquet", out, opener) == 5
    table = pq.read_table(out)
    assert table.column_names == ["window_start", "window_end", "instance_id", "day", "n", "extra"]
    assert table.schema.field("n").type == pa.int64()
    assert table.column("n").to_pylist() == [1, 2, 3, None, None]
    assert table.column("extra").to_pylist() == [None, None, None, None, 1.5]
    stream = io.BytesIO()
    assert write_file(parts, "csv", stream, opener) == 5
    lines = stream.getvalue().decode().splitlines()
    assert lines[0] == "window_start,window_end,instance_id,day,n,extra"
    assert lines[1] == "2025-07-01T00:00:00,2025-07-99T00:00:00,amcaaaaaaaa,2025-07-01,1,"
    assert not list(tmp_path.glob(".amc-collection-*")), "staged file left behind"
    folder = tmp_path / "dataset"
    assert write_folder(parts, folder, opener) == 5
    assert sorted(p.name for p in folder.iterdir()) == [
        f"window_start={d}T00%3A00%3A00" for d in ("2025-07-01", "2025-07-08", "2025-07-15")
    ]


def test_a_result_column_named_like_a_leading_one_is_refused(tmp_path: Path) -> None:
    clash = pa.table({"instance_id": ["x"]})
    with pytest.raises(UsageError, match="instance_id"):
        write_file([part(tmp_path, "a", clash, "2025-07-01T00:00:00")], "csv", io.BytesIO(), opener)
