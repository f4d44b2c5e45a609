"""Ingest benchmark: 5 million AMC-format CSV rows into Parquet, ours against plain pyarrow."""

# Run with `.venv/bin/python bench/ingest_bench.py [ROWS]`. Prints figures; asserts nothing.
# Each run is a fresh subprocess, so its peak RSS is its own; the sides alternate, twice each,
# and the fastest run of each side counts (the machine may be busy with other work).

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
ROUNDS = 2
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
            "campaign": campaigns.take(rng.integers(0, len(campaigns), rows)),
            "device_type": devices.take(rng.integers(0, len(devices), rows)),
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


def run_ours_worst(parts: list[Path], out: Path) -> int:
    """Our slow path: a last part whose one row has text in the LONG column, so the types
    bet on from the first block fail at the very end and every part is parsed twice."""
    header = parts[0].open(encoding="utf-8").readline()
    late = out.with_name("late-part.csv")
    late.write_text(header + "Late,TV,2024-01-01,n/a,1.0000\n", encoding="utf-8")
    return ingest_csv_parts([*parts, late], out).row_count


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


def peak_rss_kb() -> int:
    """This process's own peak RSS (VmHWM). `ru_maxrss` would do on macOS, but on Linux it
    carries the parent's peak across fork and exec, which would charge ours with the data
    generation's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(side: str, directory: Path) -> None:
    """Child process: run one side, print wall and CPU seconds, rows and peak RSS as JSON."""
    parts = sorted(directory.glob("result*.csv"))
    idle = peak_rss_kb()
    run = {"ours": run_ours, "ours-worst": run_ours_worst}.get(side, run_baseline)
    start, cpu = time.perf_counter(), time.process_time()
    rows = run(parts, directory / f"{side}.parquet")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    figures = {"rows": rows, "seconds": seconds, "cpu": cpu_seconds, "peak_kb": peak_rss_kb()}
    print(json.dumps({**figures, "idle_kb": idle}))


def child(side: str, directory: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", side, str(directory)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run (the machine may be shared), with the highest peak RSS seen."""
    fastest = min(runs, key=lambda r: float(r["seconds"]))
    return {**fastest, "peak_kb": max(r["peak_kb"] for r in runs)}


def report(name: str, runs: list[dict[str, Any]]) -> tuple[float, float]:
    top = best(runs)
    rate, cpu_rate = top["rows"] / top["seconds"], top["rows"] / top["cpu"]
    walls = " ".join(f"{r['seconds']:.2f}" for r in runs)
    print(
        f"{name:<10} {top['rows']:>10,} rows  best {top['seconds']:5.2f} s of [{walls}]"
        f"  {rate:>10,.0f} rows/s  ({cpu_rate:>10,.0f} rows per CPU-s)"
        f"  peak RSS {top['peak_kb'] / 1024:4.0f} MB (imports {top['idle_kb'] / 1024:.0f} MB)"
    )
    return rate, cpu_rate


def main(rows: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        parts = generate(directory, rows)
        megabytes = sum(p.stat().st_size for p in parts) / 2**20
        took = time.perf_counter() - start
        print(f"generated {rows:,} rows in {len(parts)} files, {megabytes:,.0f} MB, {took:.1f} s")
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": [], "ours-worst": []}
        for _ in range(rounds):  # interleaved, so a busy moment hits both sides alike
            for side, figures in runs.items():
                figures.append(child(side, directory))
        ours, ours_cpu = report("ours", runs["ours"])
        base, base_cpu = report("baseline", runs["baseline"])
        worst, _ = report("ours-worst", runs["ours-worst"])
        print(
            f"ratio ours/baseline: {ours / base:.2f}x wall, {ours_cpu / base_cpu:.2f}x CPU"
            f" (target >= {TARGET_RATIO}x)"
        )
        print(f"worst case (types fail in the last row): {worst / base:.2f}x of the baseline")
        peak = max(r["peak_kb"] for side in ("ours", "ours-worst") for r in runs[side]) / 1024
        print(f"our peak RSS: {peak:.0f} MB (target < {TARGET_MB} MB)")
        for side in runs:
            schema = pq.read_schema(directory / f"{side}.parquet")
            print(f"{side} types: " + ", ".join(f"{f.name}={f.type}" for f in schema))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        measure(sys.argv[2], Path(sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS, ROUNDS)
