"""Ingest: AMC-format CSV parts (written by the sandbox's writer) into one exact Parquet file."""

from __future__ import annotations

import hashlib
import math
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amc_manager.engine.ingest import IngestError, arrow_type_for, ingest_csv_parts
from amc_manager.errors import AmcManagerError
from amc_manager.sandbox.results import write_result_files

TRICKY_TEXT = ['a"b', "c\\d", "e,f", "g\nh", "i\r\nj", "ünï 😀", "", None, "NULL", '\\"', "\\"]
LONGS = [2**63 - 1, -(2**63), 0, -1, None, 2**53 + 1, 7, 8, 9, 10, 11]


def write_parts(table: pa.Table, directory: Path, rows_per_file: int) -> list[Path]:
    names = write_result_files(table, directory, "result", rows_per_file)
    return [directory / name for name in names]


def ingest(table: pa.Table, tmp_path: Path, rows_per_file: int = 4, **kw: Any) -> pa.Table:
    parts = write_parts(table, tmp_path / "parts", rows_per_file)
    result = ingest_csv_parts(parts, tmp_path / "out.parquet", **kw)
    read = pq.read_table(tmp_path / "out.parquet")
    assert result.row_count == read.num_rows == table.num_rows
    assert result.columns == [(f.name, str(f.type)) for f in read.schema]
    return read


def csv_file(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def padded(values: list[Any], filler: Any) -> list[Any]:
    return values + [filler] * (len(TRICKY_TEXT) - len(values))


def tricky_table() -> pa.Table:
    amounts = ["0.1000", "1.5000", "12345678901234567890.1234", None, "-0.5000"]
    ratios = [2.0, 1e20, float("nan"), float("inf"), -0.0, None, 0.1]
    moments = [datetime(2024, 1, 2, 3, 4, 5, 123000), None]
    return pa.table(
        {
            "text": pa.array(TRICKY_TEXT, pa.string()),
            "zip": padded(["0123", "10115"], "99999"),
            "long": pa.array(LONGS, pa.int64()),
            "beyond_long": padded(["9223372036854775808", "-9223372036854775809"], "1"),
            "amount": pa.array(
                padded([None if a is None else Decimal(a) for a in amounts], Decimal(0)),
                pa.decimal128(38, 4),
            ),
            "ratio": pa.array(padded(ratios, 1.0), pa.float64()),
            "day": padded([date(2024, 2, 29), None], date(1999, 12, 31)),
            "at": pa.array(padded(moments, datetime(2000, 1, 1)), pa.timestamp("ms")),
            "flag": padded([True, False, None], True),
            "mixed": padded(["1", "2", "x"], "3"),
            "nothing": pa.array(padded([], None), pa.string()),
        }
    )


def test_tricky_values_round_trip_exactly_with_exact_types(tmp_path: Path) -> None:
    source = tricky_table()
    read = ingest(source, tmp_path, rows_per_file=3)
    types = {f.name: str(f.type) for f in read.schema}
    assert types == {
        "text": "string",
        "zip": "string",
        "long": "int64",
        "beyond_long": "decimal128(38, 0)",
        "amount": "decimal128(38, 4)",
        "ratio": "double",
        "day": "date32[day]",
        "at": "timestamp[ms]",
        "flag": "bool",
        "mixed": "string",
        "nothing": "string",
    }
    for name in ("text", "zip", "long", "amount", "day", "at", "flag", "mixed", "nothing"):
        assert read.column(name).to_pylist() == source.column(name).to_pylist(), name
    assert read.column("beyond_long").to_pylist()[:2] == [
        Decimal("9223372036854775808"),
        Decimal("-9223372036854775809"),
    ]
    ratio: list[Any] = read.column("ratio").to_pylist()
    assert ratio[:2] == [2.0, 1e20] and math.isnan(ratio[2]) and ratio[3] == math.inf
    assert ratio[4] == 0.0 and math.copysign(1, ratio[4]) == -1 and ratio[5] is None
    assert ratio[6] == 0.1


def test_null_empty_and_the_word_null_stay_apart(tmp_path: Path) -> None:
    part = csv_file(tmp_path / "r.csv", 'a,b\n,""\n"",NULL\nNULL,\n')
    ingest_csv_parts([part], tmp_path / "out.parquet")
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert rows == [{"a": None, "b": ""}, {"a": "", "b": "NULL"}, {"a": "NULL", "b": None}]


@pytest.mark.parametrize(
    ("values", "expected_type", "expected"),
    [
        (["1.5", "1.5000", "-2"], "decimal128(38, 4)", [Decimal("1.5"), Decimal("1.5"), -2]),
        (["2.0", "1.0E20", "NaN", "-Infinity"], "double", [2.0, 1e20, None, -math.inf]),
        (["0.0", "-0.0"], "double", [0.0, -0.0]),
        (["0123", "1"], "string", ["0123", "1"]),
        (["-0", "1"], "string", ["-0", "1"]),
        (["0x1F"], "string", ["0x1F"]),
        (["+1"], "string", ["+1"]),
        (["1e5", "abc"], "string", ["1e5", "abc"]),
        (["2024-02-30"], "string", ["2024-02-30"]),
        (["2024-01-02 03:04:05"], "string", ["2024-01-02 03:04:05"]),
        (["2024-01-02T03:04:05"], "timestamp[ms]", [datetime(2024, 1, 2, 3, 4, 5)]),
        (["TRUE", "false"], "string", ["TRUE", "false"]),
        (["1" + "0" * 38], "string", ["1" + "0" * 38]),
        (["0.1", "1" + "0" * 25 + "E5"], "string", ["0.1", "1" + "0" * 25 + "E5"]),
    ],
)
def test_types_are_exact_or_text(
    tmp_path: Path, values: list[str], expected_type: str, expected: list[Any]
) -> None:
    part = csv_file(tmp_path / "r.csv", "v\n" + "\n".join(values) + "\n")
    result = ingest_csv_parts([part], tmp_path / "out.parquet")
    assert result.columns == [("v", expected_type)]
    got: list[Any] = pq.read_table(tmp_path / "out.parquet").column("v").to_pylist()
    for value, want in zip(got, expected, strict=True):
        if want is None:  # NaN
            assert math.isnan(value)
            continue
        assert value == want
        if isinstance(want, float):
            assert math.copysign(1, value) == math.copysign(1, want)  # -0.0 keeps its sign
        elif not isinstance(value, Decimal):
            assert type(value) is type(want)


def test_types_come_from_every_row_not_the_first_block(tmp_path: Path) -> None:
    """Late surprises (text after 5,000 numbers, a wider scale, values after NULLs) still win."""
    numbers = [str(i) for i in range(5000)]
    columns: dict[str, list[str | None]] = {
        "late_text": [*numbers, "n/a"],
        "late_scale": [*numbers, "0.125"],
        "late_values": [None] * 5000 + ["42"],
        "steady": [*numbers, "5000"],
    }
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    read = ingest(table, tmp_path, rows_per_file=2000, block_size=4096)
    assert {f.name: str(f.type) for f in read.schema} == {
        "late_text": "string",
        "late_scale": "decimal128(38, 3)",
        "late_values": "int64",
        "steady": "int64",
    }
    assert read.column("late_text").to_pylist() == columns["late_text"]
    assert read.column("late_scale").to_pylist()[-1] == Decimal("0.125")
    assert read.column("late_values").to_pylist()[-2:] == [None, 42]


def test_a_lost_bet_is_parsed_again_with_the_right_types(tmp_path: Path) -> None:
    """Types are bet on after one row group (1Mi rows) and written as read; a later surprise
    sends every part through a second parse."""
    first = csv_file(tmp_path / "r1.csv", "n,v\n" + "7,1.5\n" * 1_100_000)
    second = csv_file(tmp_path / "r2.csv", "n,v\nn/a,2.25\n")
    result = ingest_csv_parts([first, second], tmp_path / "out.parquet")
    assert result.row_count == 1_100_001
    assert result.columns == [("n", "string"), ("v", "decimal128(38, 2)")]
    read = pq.read_table(tmp_path / "out.parquet")
    assert read.column("n").to_pylist()[-2:] == ["7", "n/a"]
    assert read.column("v").to_pylist()[-2:] == [Decimal("1.50"), Decimal("2.25")]
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups == 2


def test_parts_are_concatenated_in_order(tmp_path: Path) -> None:
    table = pa.table({"n": pa.array(range(23), pa.int64()), "s": [f"row {i}" for i in range(23)]})
    read = ingest(table, tmp_path, rows_per_file=5)
    assert len(list((tmp_path / "parts").glob("*.csv"))) == 5
    assert read.to_pylist() == table.to_pylist()


def test_result_reports_checksum_size_and_columns(tmp_path: Path) -> None:
    parts = write_parts(tricky_table(), tmp_path / "parts", 100)
    result = ingest_csv_parts(parts, tmp_path / "out.parquet")
    content = (tmp_path / "out.parquet").read_bytes()
    assert result.checksum == hashlib.sha256(content).hexdigest()
    assert result.bytes == len(content)
    assert result.columns[0] == ("text", "string")


def test_header_only_parts_give_an_empty_file_of_text_columns(tmp_path: Path) -> None:
    parts = [csv_file(tmp_path / f"r{i}.csv", 'campaign,"a,b",impressions\n') for i in (1, 2)]
    result = ingest_csv_parts(parts, tmp_path / "out.parquet")
    read = pq.read_table(tmp_path / "out.parquet")
    assert result.row_count == read.num_rows == 0
    assert read.schema.names == ["campaign", "a,b", "impressions"]
    assert result.columns == [(n, "string") for n in read.schema.names]


def test_parts_with_different_headers_are_refused(tmp_path: Path) -> None:
    one = csv_file(tmp_path / "r1.csv", "a,b\n1,2\n")
    two = csv_file(tmp_path / "r2.csv", "a,c\n3,4\n")
    with pytest.raises(IngestError, match="r2.csv has header") as caught:
        ingest_csv_parts([one, two], tmp_path / "out.parquet")
    assert isinstance(caught.value, AmcManagerError)
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize(
    "broken",
    [
        b"a,b\n1,2\n3,4,5\n",  # a ragged row
        b"a,b\n1,\xff\xfe\n",  # not UTF-8
        b"",  # not even a header
    ],
)
def test_a_failure_leaves_the_destination_untouched(tmp_path: Path, broken: bytes) -> None:
    good = csv_file(tmp_path / "r1.csv", "a,b\n" + "1,2\n" * 10_000)
    bad = tmp_path / "r2.csv"
    bad.write_bytes(broken)
    destination = tmp_path / "out" / "result.parquet"
    destination.parent.mkdir()
    destination.write_bytes(b"the previous result")
    threads = threading.active_count()
    with pytest.raises(IngestError, match="r2.csv"):
        ingest_csv_parts([good, bad], destination, block_size=4096)
    assert destination.read_bytes() == b"the previous result"
    assert [p.name for p in destination.parent.iterdir()] == ["result.parquet"]
    assert threading.active_count() == threads  # reader threads stopped and joined


def test_no_parts_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no result files"):
        ingest_csv_parts([], tmp_path / "out.parquet")


# Any text AMC could hold (everything but NUL and lone surrogates), numbers-as-text, and
# spellings that sit on the edge between types.
EDGES = ["-0", "-0.0", "0", "00", "0123", "1.0E20", "1e-7", "NaN", "-Infinity", "inf", "true"]
EDGES += ["2024-02-29", "2024-02-30", "2024-01-02T03:04:05.678", "2024-01-02T03:04:05", "1.50"]
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12),
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(EDGES),
)
INT64 = st.integers(-(2**63), 2**63 - 1)


def means(text: str | None, value: Any) -> bool:
    """The typed value stands for exactly what the text said."""
    if text is None or value is None:
        return text is None and value is None
    if isinstance(value, bool):
        return text == str(value).lower()
    if isinstance(value, int):
        return text == str(value)
    if isinstance(value, Decimal):
        return Decimal(text) == value
    if isinstance(value, float):
        return float(text) == value or (math.isnan(value) and math.isnan(float(text)))
    if isinstance(value, datetime):
        return datetime.fromisoformat(text) == value
    if isinstance(value, date):
        return text == value.isoformat()
    return bool(text == value)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.none() | TEXT, st.none() | INT64), min_size=0, max_size=25),
    rows_per_file=st.integers(1, 10),
)
def test_any_rows_come_back_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str | None, int | None]],
    rows_per_file: int,
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    texts, ints = [r[0] for r in rows], [r[1] for r in rows]
    table = pa.table({"text": pa.array(texts, pa.string()), "n": pa.array(ints, pa.int64())})
    read = ingest(table, tmp, rows_per_file=rows_per_file, block_size=4096)
    assert read.column("n").to_pylist() == ints
    got = read.column("text").to_pylist()
    assert all(means(t, v) for t, v in zip(texts, got, strict=True)), (texts, got)


def test_declared_output_columns_type_the_result(tmp_path: Path) -> None:
    """AMC's outputColumns settle types inference could not: zip codes that look like numbers
    stay text, an all-NULL column gets its type, an INTEGER is 32 bits, DECIMAL keeps its
    declared scale; columns AMC does not describe are still inferred exactly."""
    zips = ["10115", "20095", None, "80331"] * 3
    table = pa.table(
        {
            "zip": pa.array(zips, pa.string()),
            "nothing": pa.array([None] * 12, pa.int64()),
            "small": pa.array(range(12), pa.int32()),
            "amount": pa.array([Decimal("1.5")] * 12, pa.decimal128(38, 4)),
            "free": pa.array(["0123"] * 12, pa.string()),
        }
    )
    declared = {
        "ZIP": arrow_type_for("STRING"),
        "nothing": arrow_type_for("LONG"),
        "small": arrow_type_for("INTEGER"),
        "amount": arrow_type_for("DECIMAL", 38, 4),
    }
    read = ingest(table, tmp_path, declared={k: v for k, v in declared.items() if v})
    assert read.schema.types == [
        pa.string(),
        pa.int64(),
        pa.int32(),
        pa.decimal128(38, 4),
        pa.string(),
    ]
    assert read.column("zip").to_pylist() == zips
    assert read.column("amount").to_pylist() == [Decimal("1.5000")] * 12
    plain = ingest(table, tmp_path / "plain")
    assert plain.schema.field("zip").type == pa.int64()  # what inference alone makes of them


def test_declared_type_that_does_not_fit_falls_back_to_exact_inference(tmp_path: Path) -> None:
    """A LONG declaration with a value that is not one (late in the file, after rows only the
    declaration checked) gives way to inference over every value."""
    values = [str(i) for i in range(30)] + ["12a"]
    table = pa.table({"code": pa.array(values, pa.string())})
    read = ingest(table, tmp_path, rows_per_file=31, block_size=64, declared={"code": pa.int64()})
    assert read.schema.field("code").type == pa.string()
    assert read.column("code").to_pylist() == values


def test_amc_types_as_arrow_types() -> None:
    assert arrow_type_for("long") == pa.int64() and arrow_type_for("TIMESTAMP") == pa.timestamp(
        "ms"
    )
    assert arrow_type_for("DECIMAL", None, 2) == pa.decimal128(38, 2)
    assert arrow_type_for("DECIMAL") is None and arrow_type_for("ARRAY") is None
    assert arrow_type_for("CALENDAR_INTERVAL") == pa.string()
