"""Exports of a stored result: RFC 4180 CSV, exact JSON and JSON lines, Parquet copies; advice."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amc_manager.engine.exports import export, suggestions
from amc_manager.errors import UsageError

TEXT = ['say "hi"', "a,b", "line\r\nbreak", "back\\slash", "ünï 😀", "", None, "tab\tbell\x07"]
SAFE = 2**53


def stored(tmp_path: Path, rows: int | None = None) -> Path:
    """A result file as ingest writes them, one value of each kind per row."""
    table = pa.table(
        {
            "text": pa.array(TEXT, pa.string()),
            "long": pa.array([SAFE, SAFE + 1, -SAFE, -SAFE - 1, 2**63 - 1, 0, None, -7]),
            "amount": pa.array(
                [Decimal(v) for v in ("1.5000", "0.1000", "12345678901234567890.1234", "-0.2500")]
                + [Decimal("0.0000"), Decimal("3.0000"), None, Decimal("0.0001")],
                pa.decimal128(38, 4),
            ),
            "ratio": pa.array([2.0, 0.1, float("nan"), float("inf"), -math.inf, -0.0, None, 1e20]),
            "day": pa.array([date(2024, 2, 29)] * 7 + [None]),
            "at": pa.array(
                [datetime(2024, 1, 2, 3, 4, 5, 123000)] * 7 + [None], pa.timestamp("ms")
            ),
            "flag": pa.array([True, False, None, True, True, True, True, False]),
        }
    )
    if rows is not None:
        table = pa.concat_tables([table] * (rows // table.num_rows))
    path = tmp_path / "result.parquet"
    pq.write_table(table, path)
    return path


def exported(parquet: Path, fmt: Any) -> tuple[int, bytes]:
    sink = io.BytesIO()
    count = export(parquet, fmt, sink)
    return count, sink.getvalue()


def test_csv_is_rfc_4180_with_crlf_and_a_header(tmp_path: Path) -> None:
    count, data = exported(stored(tmp_path), "csv")
    assert count == 8
    text = data.decode("utf-8")
    assert text.startswith("text,long,amount,ratio,day,at,flag\r\n")
    assert text.endswith("\r\n") and text.count("\r\n") == 9 + 1  # header, 8 rows, one embedded
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in rows[1:]] == [t or "" for t in TEXT]
    assert rows[1][1:] == [
        str(SAFE),
        "1.5000",
        "2.0",
        "2024-02-29",
        "2024-01-02T03:04:05.123",
        "true",
    ]
    assert rows[3][2:4] == ["12345678901234567890.1234", "NaN"]
    assert rows[4][3] == "Infinity" and rows[6][3] == "-0.0"
    assert rows[7][1:] == ["", "", "", "2024-02-29", "2024-01-02T03:04:05.123", "true"]


def test_csv_keeps_empty_text_apart_from_null(tmp_path: Path) -> None:
    _, data = exported(stored(tmp_path), "csv")
    lines = data.decode("utf-8").split("\r\n")
    assert lines[7].startswith('"",')  # TEXT[5] is the empty string
    assert lines[8].startswith(",")  # TEXT[6] is NULL
    assert '"say ""hi"""' in lines[1] and '"a,b"' in lines[2]


def test_json_is_one_array_with_exact_numbers(tmp_path: Path) -> None:
    count, data = exported(stored(tmp_path), "json")
    assert count == 8
    rows = json.loads(data, parse_float=Decimal)
    assert [r["text"] for r in rows] == TEXT
    beyond = [str(SAFE + 1), str(-SAFE - 1), str(2**63 - 1)]  # a double cannot hold these
    assert [r["long"] for r in rows] == [SAFE, beyond[0], -SAFE, beyond[1], beyond[2], 0, None, -7]
    assert [r["amount"] for r in rows] == [
        Decimal("1.5000"),  # a double holds 1.5: a number, digits as stored
        "0.1000",  # a double cannot hold 0.1: a string
        "12345678901234567890.1234",
        Decimal("-0.2500"),
        Decimal("0.0000"),
        Decimal("3.0000"),
        None,
        "0.0001",
    ]
    assert rows[0]["day"] == "2024-02-29" and rows[0]["at"] == "2024-01-02T03:04:05.123"
    assert [r["flag"] for r in rows[:3]] == [True, False, None]
    ratios = json.loads(data)
    assert [r["ratio"] for r in ratios][:5] == [2.0, 0.1, "NaN", "Infinity", "-Infinity"]
    assert math.copysign(1, ratios[5]["ratio"]) == -1 and ratios[7]["ratio"] == 1e20
    assert "ünï 😀".encode() in data  # UTF-8, not \\u escapes


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), scale=st.integers(0, 38))
def test_json_decimals_are_numbers_only_when_a_double_holds_them(
    tmp_path: Path, data: st.DataObject, scale: int
) -> None:
    digits = st.integers(-(10**38) + 1, 10**38 - 1) | st.integers(-(2**64), 2**64)
    powers = st.builds(
        lambda k, e: k * 2**e * 5**scale, st.integers(-(2**54), 2**54), st.integers(0, 9)
    )
    unscaled = data.draw(st.lists(digits | powers.filter(lambda u: abs(u) < 10**38), max_size=30))
    values = [Decimal(f"{u}e-{scale}") for u in unscaled]  # exact, unlike scaleb
    path = tmp_path / "decimals.parquet"
    pq.write_table(pa.table({"d": pa.array(values, pa.decimal128(38, scale))}), path)
    _, data_out = exported(path, "jsonl")
    got = [json.loads(line, parse_float=Decimal)["d"] for line in data_out.decode().splitlines()]
    for value, sent in zip(values, got, strict=True):
        assert isinstance(sent, str) != (float(value) == value), (value, sent)
        assert Decimal(sent) == value


def test_jsonl_is_one_object_per_line(tmp_path: Path) -> None:
    count, data = exported(stored(tmp_path), "jsonl")
    lines = data.decode("utf-8").split("\n")
    assert count == 8 and len(lines) == 9 and lines[-1] == ""
    rows = [json.loads(line) for line in lines[:-1]]
    assert [r["text"] for r in rows] == TEXT
    assert rows[1]["long"] == str(SAFE + 1)


def test_many_batches_stream_into_one_valid_document(tmp_path: Path) -> None:
    parquet = stored(tmp_path, rows=160_000)
    count, data = exported(parquet, "json")
    rows = json.loads(data)
    assert count == len(rows) == 160_000
    assert rows[-1]["long"] == -7 and rows[65_536]["text"] == TEXT[0]
    count, data = exported(parquet, "csv")
    assert (
        count == 160_000
        and len(list(csv.reader(io.StringIO(data.decode(), newline="")))) == 160_001
    )


def test_empty_results_are_still_valid_documents(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(
        pa.table({"campaign": pa.array([], pa.string()), "n": pa.array([], pa.int64())}), path
    )
    assert exported(path, "csv") == (0, b"campaign,n\r\n")
    assert exported(path, "json") == (0, b"[]\n")
    assert exported(path, "jsonl") == (0, b"")


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet"])
def test_export_to_a_path_writes_the_whole_file(tmp_path: Path, fmt: Any) -> None:
    parquet = stored(tmp_path)
    out = tmp_path / "exports" / f"result.{fmt}"
    out.parent.mkdir()
    assert export(parquet, fmt, out) == 8
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp file left behind
    if fmt == "parquet":
        assert out.read_bytes() == parquet.read_bytes()
    else:
        assert out.read_bytes() == exported(parquet, fmt)[1]


def test_parquet_needs_an_output_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Parquet needs --output"):
        export(stored(tmp_path), "parquet", io.BytesIO())


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        export(stored(tmp_path), "xml", io.BytesIO())  # type: ignore[arg-type]


def test_no_suggestions_for_a_full_result() -> None:
    assert suggestions(10, ["campaign", "impressions"], None, 0) == []
    assert suggestions(10, ["campaign", "impressions", "filtered"], "filtered", 0) == []


def test_an_empty_result_suggests_a_broader_scope() -> None:
    columns = ["campaign", "device_type", "postal_code", "event_dt_utc", "impressions", "spend"]
    advice = suggestions(0, columns, None, 0)
    text = "\n".join(advice)
    assert "empty" in advice[0]
    assert "longer time window" in text
    assert "fewer dimensions (now campaign, device_type, postal_code, event_dt_utc)" in text
    assert "Drop postal_code" in text
    assert "by day rather than by event_dt_utc" in text
    assert "filteredMetricsDiscriminatorColumn" in text


def test_a_filtered_result_counts_the_filtered_rows() -> None:
    advice = suggestions(40, ["campaign", "city_name", "impressions", "filtered"], "filtered", 12)
    text = "\n".join(advice)
    assert advice[0].startswith("12 of 40 rows")
    assert "Drop city_name" in text
    assert "filteredMetricsDiscriminatorColumn" not in text  # already in use


def test_an_empty_result_without_columns_still_gets_generic_advice() -> None:
    advice = suggestions(0, [], None, 0)
    assert any("fewer dimensions" in line for line in advice)
    assert any("longer time window" in line for line in advice)
