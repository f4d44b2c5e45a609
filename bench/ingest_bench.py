"""Ingest benchmark: 5 million AMC-format CSV rows into Parquet, ours against plain pyarrow.

Run with `.venv/bin/python bench/ingest_bench.py [ROWS]`. Prints figures; asserts nothing.
Each side runs in a fresh subprocess so its peak RSS (`ru_maxrss`) is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from amc_manager.engine.ingest import ingest_csv_parts
from amc_manager.sandbox.results import write_result_files

pc: Any = _compute

ROWS = 5_000_000
FILES = 5
TARGET_RATIO = 0.7
TARGET_MB = 400


def make_table(rows: int, seed: int = 7) -> pa.Table:
    """Two text dimensions, a date, a LONG and a DECIMAL(38,4), shaped like an AMC report."""
    rng = np.random.default_rng(seed)
    campaigns = pa.array([f'Campaign {i:04d}, "brand" {i % 7}' for i in range(2000)])
    devices = pa.array(["Desktop", "Mobile", "TV", "Tablet", "Other"])
    days = rng.integers(19_700, 19_800, rows, dtype=np.int32)
    cents = pc.cast(pa.array(rng.integers(0, 10**12, rows)), pa.decimal128(19, 0))
    sales = pc.multiply(cents, pa.scalar(Decimal("0.0001"), pa.decimal128(4, 4)))
    return pa.table(
        {
            "campaign": campaigns.take(pa.array(rng.integers(0, len(campaigns), rows))),
            "device_type": devices.take(pa.array(rng.integers(0, len(devices), rows))),
            "event_date": pa.array(days, pa.int32()).cast(pa.date32()),
            "impressions": pa.array(rng.integers(-(2**62), 2**62, rows)),
            "total_product_sales": pc.cast(sales, pa.decimal128(38, 4)),
        }
    )


def generate(directory: Path, rows: int) -> list[Path]:
    """Write the result in AMC's format with the sandbox's own writer, one part per slice."""
    table = make_table(rows)
    size = -(-rows // FILES)
    names = write_result_files(table, directory, "result", size)
    return [directory / name for name in names]


def run_ours(parts: list[Path], out: Path) -> int:
    return ingest_csv_parts(parts, out).row_count


def run_baseline(parts: list[Path], out: Path) -> int:
    """pyarrow alone: its streaming reader (types inferred from the first block) into a writer."""
    parse = pcsv.ParseOptions(escape_char="\\", double_quote=False, newlines_in_values=True)
    rows = 0
    writer: pq.ParquetWriter | None = None
    for part in parts:
        reader = pcsv.open_csv(part, parse_options=parse)
        if writer is None:
            writer = pq.ParquetWriter(out, reader.schema)
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    if writer is not None:
        writer.close()
    return rows


def measure(side: str, directory: Path) -> None:
    """Child process: run one side, print seconds, rows and peak RSS as JSON."""
    parts = sorted(directory.glob("result*.csv"))
    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    run = run_ours if side == "ours" else run_baseline
    rows = run(parts, directory / f"{side}.parquet")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_kb": peak, "idle_kb": idle}))


def child(side: str, directory: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", side, str(directory)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(name: str, figures: dict[str, Any]) -> float:
    rate = figures["rows"] / figures["seconds"]
    print(
        f"{name:<9} {figures['rows']:>10,} rows  {figures['seconds']:6.2f} s  {rate:>12,.0f} rows/s"
        f"  peak RSS {figures['peak_kb'] / 1024:6.0f} MB (after imports {figures['idle_kb'] / 1024:.0f} MB)"
    )
    return rate


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        parts = generate(directory, rows)
        megabytes = sum(p.stat().st_size for p in parts) / 2**20
        print(
            f"generated {rows:,} rows in {len(parts)} files, {megabytes:,.0f} MB CSV,"
            f" in {time.perf_counter() - start:.1f} s"
        )
        ours = child("ours", directory)
        baseline = child("baseline", directory)
        ours_rate = report("ours", ours)
        base_rate = report("baseline", baseline)
        print(f"ratio ours/baseline: {ours_rate / base_rate:.2f}x (target >= {TARGET_RATIO}x)")
        print(f"our peak RSS: {ours['peak_kb'] / 1024:.0f} MB (target < {TARGET_MB} MB)")
        schema = pq.read_schema(directory / "ours.parquet")
        print("our types: " + ", ".join(f"{f.name}={f.type}" for f in schema))
        base_schema = pq.read_schema(directory / "baseline.parquet")
        print("baseline types: " + ", ".join(f"{f.name}={f.type}" for f in base_schema))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        measure(sys.argv[2], Path(sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)
