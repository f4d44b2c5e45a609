"""The `extra_tables` knob: tables beyond AMC's catalogue, listed in dataSources and queryable."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from amc_manager.catalogue import CATALOGUE
from amc_manager.sandbox.config import SandboxConfig, SandboxConfigError, load_config
from amc_manager.sandbox.embedded import EmbeddedSandbox
from amc_manager.sql import lint, schema_for_sandbox
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api
from tests.windows import amc_window

RETAIL: dict[str, Any] = {
    "name": "crm_orders",
    "description": "Retail purchases (a paid dataset).",
    "columns": [
        {"name": "purchase_dt_utc", "data_type": "TIMESTAMP", "threshold": "MEDIUM"},
        {"name": "purchase_date_utc", "data_type": "DATE", "threshold": "LOW"},
        {"name": "asin_category", "data_type": "STRING", "threshold": "LOW"},
        {"name": "marketplace_id", "data_type": "LONG", "threshold": "low"},
        {"name": "purchase_units", "data_type": "LONG"},
        {"name": "purchase_amount", "data_type": "DECIMAL"},
        {"name": "quantity", "data_type": "INTEGER"},
        {"name": "list_price", "data_type": "DOUBLE"},
        {"name": "is_prime", "data_type": "BOOLEAN", "threshold": "LOW"},
        {"name": "zip", "data_type": "STRING", "threshold": "HIGH"},
        {"name": "user_id", "data_type": "STRING", "threshold": "VERY_HIGH"},
    ],
    "rows_per_day": 300,
}
DAILY = (
    "SELECT purchase_date_utc AS day, COUNT(1) AS purchases, "
    "COUNT(DISTINCT user_id) AS buyers FROM crm_orders GROUP BY 1"
)


FREE = [t.name for t in CATALOGUE if t.paid_feature is None]


def rows_as_counter(rows: list[list[str]]) -> Counter[tuple[str, ...]]:
    """Result rows without their header, as a multiset (the SQL fixes no order)."""
    return Counter(tuple(r) for r in rows[1:])


def config_error(tmp_path: Path, tables: object) -> str:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"extra_tables": tables}))
    with pytest.raises(SandboxConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_bad_extra_tables_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    column = {"name": "n", "data_type": "LONG"}
    cases: list[tuple[object, str]] = [
        ([{"name": "t", "columns": []}], "extra_tables.0.columns"),
        ([{"name": "t", "columns": [{"name": "n", "data_type": "VARCHAR"}]}], "data_type"),
        ([{"name": "t", "columns": [{**column, "threshold": "SECRET"}]}], "threshold"),
        ([{"name": "t", "columns": [column, column]}], "column n is listed twice"),
        ([{"name": "dsp_impressions", "columns": [column]}], "already one of AMC's tables"),
        ([{"name": "1table", "columns": [column]}], "is not an AMC name"),
        ([{"name": "t", "columns": [{**column, "name": "__user_key"}]}], "is not an AMC name"),
        ([{"name": "t", "columns": [column], "window_column": "n"}], "TIMESTAMP columns"),
        ([{"name": "t", "columns": [column]}, {"name": "T", "columns": [column]}], "twice"),
        ([{"name": "t", "columns": [column], "colour": "red"}], "extra_tables.0.colour"),
    ]
    for tables, fragment in cases:
        message = config_error(tmp_path, tables)
        assert message.startswith("sandbox config: extra_tables"), message
        assert fragment in message, (fragment, message)


def test_extra_table_defaults() -> None:
    config = make_config(extra_tables=[RETAIL])
    table = config.extra_tables[0].table()
    assert table.window_column == "purchase_dt_utc"  # the first TIMESTAMP column
    assert table.column("MARKETPLACE_ID") is not None
    assert [c.threshold.value for c in table.columns][3:5] == ["LOW", "NONE"]
    assert SandboxConfig().extra_tables == []


def test_the_linter_in_sandbox_mode_can_know_the_extra_tables() -> None:
    config = make_config(extra_tables=[RETAIL])
    schema = schema_for_sandbox(config.extra_data_sources())
    ok = "SELECT asin_category, SUM(purchase_units) AS n FROM crm_orders GROUP BY 1"
    assert lint(ok, schema=schema) == []
    assert [p.message for p in lint(ok, schema=schema_for_sandbox())] == [
        "unknown table 'crm_orders'"
    ]
    leak = "SELECT user_id, COUNT(1) AS n FROM crm_orders GROUP BY 1"
    assert any("VERY_HIGH" in p.message for p in lint(leak, schema=schema))


async def test_data_sources_list_the_extra_table(tmp_path: Path) -> None:
    async with EmbeddedSandbox(make_config(extra_tables=[RETAIL]), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        listed = (await api.request("GET", f"{api.base}/dataSources")).json()["dataSources"]
        names = [d["dataSourceId"] for d in listed]
        assert names == [*FREE, "crm_orders"]
        one = await api.request("GET", f"{api.base}/dataSources/crm_orders")
        assert one.status_code == 200
        source = one.json()["dataSource"]
        assert source == listed[-1]
        assert source["description"] == RETAIL["description"]
        assert [c["name"] for c in source["columns"]] == [c["name"] for c in RETAIL["columns"]]
        kinds = {c["name"]: c["columnType"] for c in source["columns"]}
        assert kinds["purchase_units"] == "METRIC" and kinds["asin_category"] == "DIMENSION"
        # no threshold class is published, as AMC publishes none
        assert all(set(c) == {"name", "columnType", "description"} for c in source["columns"])
        missing = await api.request("GET", f"{api.base}/dataSources/amazon_retail_purchase")
        assert missing.status_code == 404


async def test_default_data_sources_are_the_catalogue(api: Api) -> None:
    listed = (await api.request("GET", f"{api.base}/dataSources")).json()["dataSources"]
    # an instance without paid features: the catalogue's free tables
    assert [d["dataSourceId"] for d in listed] == FREE


async def test_queries_on_an_extra_table_get_rows_for_each_day(tmp_path: Path) -> None:
    start, end = amc_window(3)
    async with EmbeddedSandbox(make_config(extra_tables=[RETAIL]), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        _, rows = await api.run(DAILY, start=start, end=end)
        assert rows[0] == ["day", "purchases", "buyers"]
        first = date.fromisoformat(start[:10])
        assert sorted(r[0] for r in rows[1:]) == [str(first + timedelta(days=d)) for d in range(3)]
        for _, purchases, buyers in rows[1:]:
            # 300 rows a day, each one user drawn from the population: few repeat buyers
            assert int(purchases) == 300 and 200 < int(buyers) <= 300

        grouped = (
            "SELECT asin_category, is_prime, SUM(purchase_units) AS units, "
            "SUM(purchase_amount) AS amount, SUM(quantity) AS quantity, "
            "MAX(list_price) AS top_price FROM crm_orders GROUP BY 1, 2"
        )
        _, rows = await api.run(grouped, start=start, end=end)
        assert len(rows) - 1 == 16  # 8 categories (a LOW dimension) x prime or not
        assert {r[1] for r in rows[1:]} == {"true", "false"}
        for row in rows[1:]:
            assert int(row[2]) > 0 and float(row[3]) > 0 and int(row[4]) > 0
            assert 0 < float(row[5]) < 100


async def test_extra_table_users_are_the_populations(tmp_path: Path) -> None:
    """user_id is drawn from the same users as the modelled tables, so joins meet."""
    start, end = amc_window(2)
    sql = (
        "WITH buyers AS (SELECT DISTINCT user_id FROM crm_orders), "
        "seen AS (SELECT DISTINCT user_id FROM dsp_impressions) "
        "SELECT COUNT(DISTINCT b.user_id) AS reached FROM buyers b JOIN seen s "
        "ON b.user_id = s.user_id"
    )
    async with EmbeddedSandbox(make_config(extra_tables=[RETAIL]), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        _, rows = await api.run(sql, start=start, end=end)
    assert int(rows[1][0]) > 50


async def test_extra_tables_keep_amcs_privacy_rules(tmp_path: Path) -> None:
    async with EmbeddedSandbox(make_config(extra_tables=[RETAIL]), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        leak = await api.create("SELECT user_id, COUNT(1) AS n FROM crm_orders GROUP BY 1")
        assert leak.status_code == 400
        assert "Column 'user_id' has aggregation threshold VERY_HIGH" in leak.json()["details"]
        literal = await api.create("SELECT COUNT(1) AS n FROM crm_orders WHERE zip = '98101'")
        assert literal.status_code == 400
        assert "Column 'zip' has aggregation threshold HIGH" in literal.json()["details"]
        # a HIGH dimension with 200 values over one day's 300 rows: every group is under 100
        start, end = amc_window(1)
        _, rows = await api.run(
            "SELECT zip, COUNT(1) AS n FROM crm_orders GROUP BY 1",
            start=start,
            end=end,
        )
        assert rows == [["zip", "n"]]


async def test_extra_table_rows_are_deterministic(tmp_path: Path) -> None:
    start, end = amc_window(2)
    sql = (
        "SELECT asin_category, marketplace_id, SUM(purchase_units) AS units "
        "FROM crm_orders GROUP BY 1, 2"
    )
    found = []
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        config = make_config(extra_tables=[RETAIL], seed=seed)
        async with EmbeddedSandbox(config, tmp_path / name) as embedded:
            api = await Api(embedded.client, embedded.sandbox).login()
            found.append(rows_as_counter((await api.run(sql, start=start, end=end))[1]))
    assert found[0] == found[1]
    assert found[0] != found[2]


async def test_a_table_neither_catalogued_nor_listed_is_amcs_compile_error(api: Api) -> None:
    response = await api.create("SELECT asin_category, COUNT(1) AS n\nFROM crm_orders GROUP BY 1")
    assert response.status_code == 400
    details = response.json()["details"]
    assert details.startswith("Was unable to compile workflow ")
    assert "Object 'crm_orders' not found" in details
