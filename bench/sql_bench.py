"""SQL benchmark: validation plus substitution of a query with a 10,000-campaign IN list.

Run with `.venv/bin/python bench/sql_bench.py`. Prints the median time of several runs and the
peak memory (tracemalloc) of one run; asserts nothing. Aim: under 100 ms. The lint part is also
timed with a 10-item list, to show that its cost does not grow with the list.
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from collections.abc import Callable

from amc_manager.sql import KnownSchema, ParamValue, lint, prepare, read_values

CAMPAIGNS = 10_000
RUNS = 9
QUERY = """-- @param min_impressions LONG 100
-- Delivery of a chosen set of campaigns, day by day.
WITH daily AS (
  SELECT campaign, impression_date_utc AS day, SUM(impressions) AS impressions,
         COUNT(DISTINCT user_id) AS reach, SUM(total_cost) AS cost
  FROM dsp_impressions
  WHERE campaign IN {{campaigns}}
  GROUP BY campaign, impression_date_utc
)
SELECT campaign, day, impressions, reach, cost / NULLIF(impressions, 0) AS cost_per_impression
FROM daily
WHERE impressions >= CUSTOM_PARAMETER('min_impressions')
"""
SCHEMA = KnownSchema.from_catalogue()


def values_for(count: int) -> dict[str, ParamValue]:
    names = [f"Campaign {i:05d} - Q3 Update Sale's" for i in range(count)]
    return read_values(param_json=[f"campaigns={json.dumps(names)}"])


def validate_and_substitute(values: dict[str, ParamValue]) -> int:
    problems = lint(QUERY, file="bench.sql", schema=SCHEMA, values=values)
    assert not any(p.is_error for p in problems), problems
    return len(prepare(QUERY, values).sql)


def median_ms(action: Callable[[], object]) -> float:
    action()  # warm-up (imports, caches)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def peak_kib(action: Callable[[], object]) -> float:
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    big, small = values_for(CAMPAIGNS), values_for(10)
    size = validate_and_substitute(big)
    both = median_ms(lambda: validate_and_substitute(big))
    lint_big = median_ms(lambda: lint(QUERY, schema=SCHEMA, values=big))
    lint_small = median_ms(lambda: lint(QUERY, schema=SCHEMA, values=small))
    substitution = median_ms(lambda: prepare(QUERY, big))
    reading = median_ms(lambda: values_for(CAMPAIGNS))
    peak = peak_kib(lambda: validate_and_substitute(big))
    print(f"query with {CAMPAIGNS:,} campaigns -> {size:,} characters of SQL (VALUES CTE)")
    print(f"validation + substitution: {both:7.1f} ms median of {RUNS} (aim < 100 ms)")
    print(f"  lint alone, 10,000 items: {lint_big:7.1f} ms")
    print(f"  lint alone, 10 items:     {lint_small:7.1f} ms")
    print(f"  substitution alone:       {substitution:7.1f} ms")
    print(f"reading --param-json (10,000 items): {reading:.1f} ms")
    print(f"peak memory of validation + substitution: {peak:,.0f} KiB (tracemalloc)")


if __name__ == "__main__":
    main()
