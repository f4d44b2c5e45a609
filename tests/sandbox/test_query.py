"""Running AMC SQL in the sandbox engine: literals, parameters, functions, types and errors."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from amc_manager.sandbox.dialect import CompileError
from amc_manager.sandbox.query import CompiledQueries, InputParameter, QueryRuntimeError, run_query
from tests.rows import assert_same_rows
from tests.sandbox.engine_helpers import (
    NOW,
    WINDOW_END,
    WINDOW_START,
    FakeData,
    compile_sql,
    open_privacy,
    request,
    rows,
    run_table,
)

T0 = datetime(2024, 3, 1, 10, 0, 0)


@pytest.fixture(scope="module")
def data() -> FakeData:
    impressions = [
        {"campaign": "Alpha", "campaign_id": 1, "campaign_id_string": "1", "user_id": "u1",
         "__user_key": 1, "impressions": 1, "total_cost": 1.5, "impression_dt": T0,
         "impression_date_utc": date(2024, 3, 1), "device_type": "Phone", "postal_code": "10001"},
        {"campaign": "Alpha", "campaign_id": 1, "campaign_id_string": "1", "user_id": "u2",
         "__user_key": 2, "impressions": 1, "total_cost": 2.5,
         "impression_dt": datetime(2024, 3, 1, 23, 30, 15, 500000),
         "impression_date_utc": date(2024, 3, 1), "device_type": "TV", "postal_code": None},
        {"campaign": "Beta", "campaign_id": 2, "campaign_id_string": "2", "user_id": "u1",
         "__user_key": 1, "impressions": 3, "total_cost": 4.0,
         "impression_dt": datetime(2024, 3, 1, 4, 0, 0),
         "impression_date_utc": date(2024, 3, 1), "device_type": "Phone", "postal_code": "98101"},
    ]  # fmt: skip
    clicks = [
        {"campaign": "Alpha", "user_id": "u1", "__user_key": 1, "clicks": 1,
         "click_dt": datetime(2024, 3, 1, 10, 5, 30), "impression_dt": T0},
    ]  # fmt: skip
    conversions = [
        {"campaign": "Alpha", "tracked_asin": "B01", "user_id": "u1", "__user_key": 1,
         "purchases": 2, "product_sales": Decimal("19.9900"), "new_to_brand": True,
         "conversion_event_dt_utc": datetime(2024, 3, 2, 8), "traffic_event_dt_utc": T0},
    ]  # fmt: skip
    return FakeData(
        dsp_impressions=impressions,
        dsp_clicks=clicks,
        amazon_attributed_events_by_traffic_time=conversions,
    )


def one(data: FakeData, sql: str, **kwargs: Any) -> dict[str, Any]:
    result = rows(data, sql, privacy=open_privacy(), **kwargs)
    assert len(result) == 1, result
    return result[0]


def test_standard_sql_string_literals(data: FakeData) -> None:
    row = one(data, "SELECT 'it''s' AS a, 'a\\b' AS b, COUNT(*) AS n FROM dsp_impressions")
    assert row == {"a": "it's", "b": "a\\b", "n": 3}
    assert len(row["b"]) == 3


def test_quoted_identifiers_and_output_names(data: FakeData) -> None:
    table = run_table(
        data,
        'SELECT "campaign", `Campaign_Id` AS "Campaign Id", COUNT(*) AS Total '
        "FROM dsp_impressions GROUP BY 1, 2",
        privacy=open_privacy(),
    )
    assert table.column_names == ["campaign", "Campaign Id", "total"]


def test_output_arrow_types(data: FakeData) -> None:
    table = run_table(
        data,
        "SELECT SUM(purchases) AS l, SUM(CAST(purchases AS DOUBLE)) AS d, "
        "SUM(product_sales) AS m, "
        "MAX(new_to_brand) AS b, MIN(conversion_event_dt_utc) AS t, "
        "CAST(MIN(conversion_event_dt_utc) AS DATE) AS dt, COUNT(*) AS c, "
        "AVG(purchases) AS a, MAX(tracked_asin) AS s "
        "FROM amazon_attributed_events_by_traffic_time",
        privacy=open_privacy(),
    )
    assert [f.type for f in table.schema] == [
        pa.int64(),
        pa.float64(),
        pa.decimal128(38, 4),
        pa.bool_(),
        pa.timestamp("ms"),
        pa.date32(),
        pa.int64(),
        pa.float64(),
        pa.string(),
    ]
    assert table.to_pylist()[0]["m"] == Decimal("19.9900")


def test_custom_parameters_scalar_and_override(data: FakeData) -> None:
    params = [
        InputParameter("camp", "STRING", "Alpha"),
        InputParameter("min_cost", "DOUBLE", 2),
        InputParameter("day", "DATE", "2024-03-01"),
    ]
    sql = (
        "SELECT COUNT(*) AS n FROM dsp_impressions WHERE campaign = CUSTOM_PARAMETER('camp') "
        "AND total_cost >= CUSTOM_PARAMETER('min_cost') "
        "AND impression_date_utc = CUSTOM_PARAMETER('day')"
    )
    assert one(data, sql, parameters=params)["n"] == 1
    assert one(data, sql, parameters=params, values={"camp": "Beta", "min_cost": "3.5"})["n"] == 1
    assert one(data, sql, parameters=params, values={"min_cost": 0})["n"] == 2


def test_array_parameters(data: FakeData) -> None:
    params = [InputParameter("ids", "ARRAY<STRING>", ["1", "3"])]
    contains = (
        "SELECT COUNT(*) AS n FROM dsp_impressions "
        "WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('ids'), campaign_id_string)"
    )
    assert one(data, contains, parameters=params)["n"] == 2
    assert one(data, contains, parameters=params, values={"ids": '["2"]'})["n"] == 1
    member = (
        "SELECT COUNT(*) AS n FROM dsp_impressions WHERE campaign_id IN (CUSTOM_PARAMETER('ids'))"
    )
    longs = [InputParameter("ids", "ARRAY<LONG>", [2])]
    assert one(data, member, parameters=longs)["n"] == 1
    idiom = (
        "SELECT COUNT(*) AS n FROM dsp_impressions WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('ids'), "
        "campaign_id_string) OR CARDINALITY(CUSTOM_PARAMETER('ids')) = 0"
    )
    assert one(data, idiom, parameters=params, values={"ids": []})["n"] == 3


def test_built_in_parameters(data: FakeData) -> None:
    row = one(
        data,
        "SELECT BUILT_IN_PARAMETER('TIME_WINDOW_START') AS s, "
        "BUILT_IN_PARAMETER('TIME_WINDOW_END') AS e, COUNT(*) AS n FROM dsp_impressions "
        "WHERE impression_dt >= BUILT_IN_PARAMETER('TIME_WINDOW_START') "
        "AND impression_dt < BUILT_IN_PARAMETER('TIME_WINDOW_END')",
    )
    assert row == {"s": WINDOW_START, "e": WINDOW_END, "n": 3}


def test_time_functions(data: FakeData) -> None:
    row = one(
        data,
        "SELECT SECONDS_BETWEEN(i.impression_dt, c.click_dt) AS secs, "
        "SECONDS_BETWEEN(c.click_dt, i.impression_dt) AS back, "
        "DATE_TRUNC('HOUR', c.click_dt) AS h, DATE_TRUNC('DAY', c.click_dt) AS d, "
        "DATE_TRUNC('WEEK', c.click_dt) AS w, DATE_TRUNC('MONTH', c.click_dt) AS m, "
        "EXTRACT(HOUR FROM c.click_dt) AS hr, EXTRACT(MINUTE FROM c.click_dt) AS mi, "
        "CONVERT_TIME_ZONE_FROM_UTC(c.click_dt, 'America/New_York') AS ny, "
        "CONVERT_TIME_ZONE_FROM_UTC(TIMESTAMP '2024-07-01 12:00:00', 'Europe/Berlin') AS ber, "
        "COUNT(*) AS n "
        "FROM dsp_clicks c JOIN dsp_impressions i ON i.user_id = c.user_id "
        "AND i.impression_dt = c.impression_dt GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
    )
    assert row == {
        "secs": 330,
        "back": -330,
        "h": datetime(2024, 3, 1, 10),
        "d": datetime(2024, 3, 1),
        "w": datetime(2024, 2, 26),
        "m": datetime(2024, 3, 1),
        "hr": 10,
        "mi": 5,
        "ny": datetime(2024, 3, 1, 5, 5, 30),
        "ber": datetime(2024, 7, 1, 14),
        "n": 1,
    }


@pytest.mark.parametrize(
    ("day", "spark", "weekday", "iso"),
    [("2024-06-02", 1, 6, 7), ("2024-06-03", 2, 0, 1), ("2024-06-08", 7, 5, 6)],
)
def test_day_of_week_numbering_follows_spark(
    data: FakeData, day: str, spark: int, weekday: int, iso: int
) -> None:
    # Spark: DAYOFWEEK Sunday=1 .. Saturday=7, WEEKDAY Monday=0 .. Sunday=6, ISO Monday=1.
    d = f"DATE '{day}'"
    row = one(
        data,
        f"SELECT DAYOFWEEK({d}) AS a, DAYOFWEEK('{day}') AS b, EXTRACT(DAYOFWEEK FROM {d}) AS c, "
        f"EXTRACT(DOW FROM CAST({d} AS TIMESTAMP)) AS e, DATE_PART('dow', {d}) AS f, "
        f"WEEKDAY({d}) AS w, EXTRACT(DOW_ISO FROM {d}) AS i, DAYOFWEEK_ISO({d}) AS j, "
        "COUNT(*) AS n FROM dsp_impressions",
    )
    assert row == {
        "a": spark, "b": spark, "c": spark, "e": spark, "f": spark,
        "w": weekday, "i": iso, "j": iso, "n": 3,
    }  # fmt: skip


def test_date_parts_of_columns(data: FakeData) -> None:
    # 2024-03-01 is a Friday, day 61 of a leap year, in ISO week 9; 2021-01-01 is in ISO week 53.
    row = one(
        data,
        "SELECT DAYOFWEEK(impression_date_utc) AS dow, WEEKDAY(impression_dt) AS wd, "
        "DAYOFMONTH(impression_date_utc) AS dom, DAY(impression_dt) AS d, "
        "DAYOFYEAR(impression_dt) AS doy, EXTRACT(DOY FROM impression_dt) AS doy2, "
        "WEEKOFYEAR(impression_date_utc) AS woy, EXTRACT(WEEK FROM impression_dt) AS wk, "
        "WEEKOFYEAR(DATE '2021-01-01') AS woy53, QUARTER(impression_dt) AS q, "
        "EXTRACT(QUARTER FROM impression_date_utc) AS q2, COUNT(*) AS n "
        "FROM dsp_impressions GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",
    )
    assert row == {
        "dow": 6, "wd": 4, "dom": 1, "d": 1, "doy": 61, "doy2": 61, "woy": 9, "wk": 9,
        "woy53": 53, "q": 1, "q2": 1, "n": 3,
    }  # fmt: skip


def test_collect_and_array_membership(data: FakeData) -> None:
    row = one(
        data,
        "SELECT ARRAY_SORT(COLLECT(campaign)) AS c, ARRAY_SORT(COLLECT_LIST(campaign)) AS l, "
        "ARRAY_SORT(COLLECT_SET(campaign)) AS s, "
        "SUM(CASE WHEN CONTAINED_IN(campaign, ARRAY('Beta', 'Gamma')) THEN 1 ELSE 0 END) AS ci, "
        "SUM(CASE WHEN ARRAY_CONTAINS(ARRAY('Beta', 'Gamma'), campaign) THEN 1 ELSE 0 END) AS ac "
        "FROM dsp_impressions",
    )
    assert row == {
        "c": ["Alpha", "Alpha", "Beta"],
        "l": ["Alpha", "Alpha", "Beta"],
        "s": ["Alpha", "Beta"],
        "ci": 1,
        "ac": 1,
    }


def test_clock_functions_use_the_run_time(data: FakeData) -> None:
    row = one(
        data,
        "SELECT CAST('today' AS DATE) AS today, CURRENT_DATE AS cd, "
        "CAST('now' AS TIMESTAMP) AS now_ts, CAST('yesterday' AS DATE) AS y, COUNT(*) AS n "
        "FROM dsp_impressions",
    )
    assert row == {
        "today": NOW.date(),
        "cd": NOW.date(),
        "now_ts": NOW,
        "y": date(2024, 3, 9),
        "n": 3,
    }


def test_scalar_functions(data: FakeData) -> None:
    row = one(
        data,
        "SELECT MD5(MAX(campaign)) AS md5, HASH64('x') = HASH64('x') AS same_hash, "
        "COALESCE(MAX(postal_code), 'none') AS co, NVL(NULL, 'nvl') AS nv, "
        "IF(COUNT(*) > 2, 'many', 'few') AS iff, "
        "CASE WHEN SUM(impressions) = 5 THEN 'five' ELSE 'other' END AS cs, "
        "UPPER(MIN(campaign)) AS up, LOWER(MIN(campaign)) AS lo, "
        "CONCAT(MIN(campaign), '-', MAX(campaign)) AS cc, SUBSTRING(MIN(campaign), 2, 3) AS sb, "
        "LENGTH(MIN(campaign)) AS ln, REGEXP_EXTRACT(MIN(device_type), '(P)h', 1) AS rx, "
        "REPLACE(MIN(campaign), 'A', 'a') AS rp, TRIM('  t  ') AS tr, "
        "SPLIT(MIN(campaign), 'l')[0] AS sp, ROUND(SUM(total_cost) / 3, 2) AS rd "
        "FROM dsp_impressions",
    )
    assert row == {
        "md5": hashlib.md5(b"Beta").hexdigest(),
        "same_hash": True,
        "co": "98101",
        "nv": "nvl",
        "iff": "many",
        "cs": "five",
        "up": "ALPHA",
        "lo": "alpha",
        "cc": "Alpha-Beta",
        "sb": "lph",
        "ln": 5,
        "rx": "P",
        "rp": "alpha",
        "tr": "t",
        "sp": "A",
        "rd": 2.67,
    }


def test_window_functions(data: FakeData) -> None:
    result = rows(
        data,
        "WITH c AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1) "
        "SELECT campaign, imps, RANK() OVER (ORDER BY imps DESC) AS r, "
        "ROW_NUMBER() OVER (PARTITION BY campaign ORDER BY imps) AS rn, "
        "SUM(imps) OVER () AS total FROM c",
        privacy=open_privacy(),
    )
    assert_same_rows(
        result,
        [
            {"campaign": "Beta", "imps": 3, "r": 1, "rn": 1, "total": 5},
            {"campaign": "Alpha", "imps": 2, "r": 2, "rn": 1, "total": 5},
        ],
    )


def test_count_distinct_group_by_ordinals_and_having(data: FakeData) -> None:
    result = rows(
        data,
        "SELECT campaign, device_type, COUNT(DISTINCT user_id) AS reach, COUNT(*) AS n "
        "FROM dsp_impressions GROUP BY 1, 2 HAVING COUNT(*) >= 1",
        privacy=open_privacy(),
    )
    assert_same_rows(
        [(r["campaign"], r["device_type"], r["reach"]) for r in result],
        [("Alpha", "Phone", 1), ("Alpha", "TV", 1), ("Beta", "Phone", 1)],
    )


def test_union_all_and_values_cte(data: FakeData) -> None:
    result = rows(
        data,
        "WITH names (campaign, label) AS (VALUES ('Alpha', 'first'), ('Beta', 'second')), "
        "events AS (SELECT campaign, impressions AS n FROM dsp_impressions "
        "UNION ALL SELECT campaign, clicks AS n FROM dsp_clicks) "
        "SELECT names.label, SUM(events.n) AS total FROM events "
        "JOIN names ON names.campaign = events.campaign GROUP BY 1",
        privacy=open_privacy(),
    )
    assert_same_rows([(r["label"], r["total"]) for r in result], [("first", 3), ("second", 3)])


def test_joins(data: FakeData) -> None:
    base = "SELECT i.campaign AS ic, c.campaign AS cc, COUNT(*) AS n FROM dsp_impressions i "
    left = rows(
        data,
        base + "LEFT JOIN dsp_clicks c ON i.user_id = c.user_id AND i.campaign = c.campaign "
        "GROUP BY 1, 2",
        privacy=open_privacy(),
    )
    assert_same_rows(
        left,
        [{"ic": "Alpha", "cc": "Alpha", "n": 1}, {"ic": "Alpha", "cc": None, "n": 1},
         {"ic": "Beta", "cc": None, "n": 1}],
    )  # fmt: skip
    full = rows(
        data,
        base + "FULL OUTER JOIN dsp_clicks c ON i.campaign = c.campaign AND 1 = 0 GROUP BY 1, 2",
        privacy=open_privacy(),
    )
    assert sum(r["n"] for r in full) == 4
    cross = one(data, "SELECT COUNT(*) AS n FROM dsp_impressions i CROSS JOIN dsp_clicks c")
    assert cross["n"] == 3
    non_equi = one(
        data,
        "SELECT COUNT(*) AS n FROM dsp_impressions i JOIN dsp_clicks c "
        "ON c.click_dt > i.impression_dt",
    )
    assert non_equi["n"] == 2


def test_union_distinct_and_scalar_subquery(data: FakeData) -> None:
    result = rows(
        data,
        "SELECT campaign, (SELECT SUM(clicks) FROM dsp_clicks) AS clicks FROM dsp_impressions "
        "GROUP BY 1 UNION SELECT campaign, 1 AS clicks FROM dsp_clicks GROUP BY 1",
        privacy=open_privacy(),
    )
    assert_same_rows(
        result, [{"campaign": "Alpha", "clicks": 1}, {"campaign": "Beta", "clicks": 1}]
    )


def test_distinct_and_subqueries(data: FakeData) -> None:
    result = rows(
        data,
        "SELECT DISTINCT campaign FROM (SELECT campaign, COUNT(*) AS n FROM dsp_impressions "
        "GROUP BY 1) WHERE n >= 1 AND campaign IN (SELECT campaign FROM dsp_clicks)",
        privacy=open_privacy(),
    )
    assert result == [{"campaign": "Alpha"}]


def test_only_referenced_tables_are_read(data: FakeData) -> None:
    data.reads.clear()
    rows(data, "SELECT COUNT(*) AS n FROM dsp_clicks")
    assert data.reads == [("dsp_clicks", WINDOW_START, WINDOW_END, NOW)]


def test_compile_is_cheap_and_reports_tables() -> None:
    compiled = compile_sql(
        "SELECT i.campaign, COUNT(*) AS n FROM dsp_impressions i JOIN dsp_clicks c "
        "ON i.user_id = c.user_id GROUP BY 1"
    )
    assert compiled.tables == frozenset({"dsp_impressions", "dsp_clicks"})
    assert compiled.output_columns == ("campaign", "n")


def test_runtime_failure_is_a_query_runtime_error(data: FakeData) -> None:
    compiled = compile_sql(
        "SELECT CONVERT_TIME_ZONE_FROM_UTC(MIN(impression_dt), MIN(campaign)) AS t, "
        "COUNT(*) AS n FROM dsp_impressions",
        privacy=open_privacy(),
    )
    with pytest.raises(QueryRuntimeError, match="Alpha"):
        run_query(compiled, data, now=NOW)


def test_compiled_queries_are_kept_per_request_and_serve_identical_runs(data: FakeData) -> None:
    """An execution is compiled at creation and again when it runs: the second compile of the
    same request is the first one's result, and a run leaves it as it was; anything a
    compile reads (the window, a parameter value) makes another entry; errors are not kept."""
    queries = CompiledQueries(size=2)
    sql = (
        "SELECT COUNT(*) AS n FROM dsp_impressions "
        "WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('ids'), campaign_id_string)"
    )
    params = [InputParameter("ids", "ARRAY<STRING>")]
    both = {"ids": '["1", "3"]'}
    first = queries.compile(request(sql, parameters=params, values=both))
    ran = run_query(first, data, now=NOW).to_pylist()
    again = queries.compile(request(sql, parameters=params, values=both))
    assert again is first
    # A run left the kept query as it was: it gives what a fresh compile gives.
    fresh = compile_sql(sql, parameters=params, values=both)
    assert_same_rows(run_query(again, data, now=NOW).to_pylist(), ran)
    assert_same_rows(run_query(fresh, data, now=NOW).to_pylist(), ran)
    assert ran == [{"n": 2}]
    other_values = queries.compile(request(sql, parameters=params, values={"ids": '["2"]'}))
    later = queries.compile(
        request(sql, parameters=params, values=both, end=WINDOW_END + timedelta(days=1))
    )
    assert first is not other_values and first is not later
    # size 2: the first was the least recently used, so it went
    assert queries.compile(request(sql, parameters=params, values=both)) is not first
    broken = request("SELECT nope FROM dsp_impressions")
    for _ in range(2):
        with pytest.raises(CompileError):
            queries.compile(broken)
