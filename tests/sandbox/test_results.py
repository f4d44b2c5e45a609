"""AMC's result files: Spark-style CSV escaping, NULLs, types and splitting."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from amc_manager.sandbox.results import csv_lines, part_sizes, write_result_files


def _parse(lines: list[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(lines)), escapechar="\\", doublequote=False))


def test_strings_are_escaped_spark_style() -> None:
    values = ["plain", "with,comma", 'say "hi"', "back\\slash", "line\nbreak", "", None]
    table = pa.table({"text": pa.array(values, pa.string())})
    lines = csv_lines(table)
    assert lines[0] == "text"
    assert lines[3] == '"say \\"hi\\""'
    assert lines[6] == '""'
    assert lines[7] == ""
    parsed = [row[0] if row else None for row in _parse(lines)[1:]]
    assert parsed[:5] == values[:5]


def test_types_render_as_amc_documents() -> None:
    table = pa.table(
        {
            "d": pa.array([date(2025, 7, 1)], pa.date32()),
            "ts": pa.array([datetime(2025, 7, 1, 13, 5, 9, 120000)], pa.timestamp("ms")),
            "n": pa.array([12345678901234], pa.int64()),
            "x": pa.array([2.0], pa.float64()),
            "dec": pa.array([Decimal("1.5000")], pa.decimal128(38, 4)),
            "b": pa.array([True], pa.bool_()),
        }
    )
    assert (
        csv_lines(table)[1] == "2025-07-01,2025-07-01T13:05:09.120,12345678901234,2.0,1.5000,true"
    )


def test_part_sizes_cap_at_five_files() -> None:
    assert part_sizes(0, 10) == [0]
    assert part_sizes(25, 10) == [9, 8, 8]
    assert part_sizes(1000, 10) == [200] * 5


def test_every_part_has_a_header(tmp_path: Path) -> None:
    table = pa.table({"a": list(range(25))})
    names = write_result_files(table, tmp_path, "stem", 10)
    assert len(names) == 3
    total = 0
    for name in names:
        lines = (tmp_path / name).read_text().splitlines()
        assert lines[0] == "a"
        total += len(lines) - 1
    assert total == 25


def test_nested_values_travel_as_json_text() -> None:
    """Arrow casts no list to text: array columns are written as one JSON field each."""
    table = pa.table({"ids": pa.array([[1, 2], None, []], pa.list_(pa.int64()))})
    assert _parse(csv_lines(table)) == [["ids"], ["[1, 2]"], [], ["[]"]]
