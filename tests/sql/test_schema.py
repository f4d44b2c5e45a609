"""The schema per mode: the catalogue in sandbox mode, an instance's dataSources in real mode."""

from __future__ import annotations

from typing import Any

from amc_manager.catalogue import CATALOGUE, ThresholdClass
from amc_manager.sql import (
    Problem,
    Severity,
    lint,
    raise_for_errors,
    schema_for_data_sources,
    schema_for_sandbox,
)

# What AMC's GET /dataSources lists: no threshold classes, `columnType` METRIC or DIMENSION.
DATA_SOURCES: list[dict[str, Any]] = [
    {
        "dataSourceId": "dsp_impressions",
        "columns": [
            {"name": "campaign", "columnType": "DIMENSION"},
            {"name": "impressions", "columnType": "METRIC"},
            {"name": "user_id", "columnType": "DIMENSION"},
            {"name": "postal_code", "columnType": "DIMENSION"},
        ],
    },
    {
        "dataSourceId": "crm_orders",
        "columns": [
            {"name": "asin", "columnType": "DIMENSION"},
            {"name": "purchase_units", "columnType": "METRIC"},
            {"name": "shopper_id", "columnType": "DIMENSION"},
        ],
    },
]


def errors(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems if p.is_error]


def warnings(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.WARNING]


def test_sandbox_mode_knows_the_catalogue_and_refuses_other_tables() -> None:
    schema = schema_for_sandbox()
    # paid-feature tables only when the sandbox's config subscribes (its extra_data_sources)
    free = {t.name for t in CATALOGUE if t.paid_feature is None}
    assert set(schema.table_names) == free
    ok = "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1"
    assert lint(ok, schema=schema) == []
    problems = lint("SELECT asin, COUNT(1) AS n\nFROM   crm_orders GROUP BY 1", schema=schema)
    assert [(p.line, p.column, p.severity, p.message) for p in problems] == [
        (2, 8, Severity.ERROR, "unknown table 'crm_orders'")
    ]
    assert problems[0].hint == "the sandbox's catalogue has no such table"


def test_sandbox_mode_with_the_sandboxs_extra_tables() -> None:
    schema = schema_for_sandbox(DATA_SOURCES[1:])
    sql = "SELECT asin, SUM(purchase_units) AS n FROM crm_orders GROUP BY 1"
    assert lint(sql, schema=schema) == []
    assert schema.table("dsp_impressions") is not None


def test_real_mode_a_known_table_takes_the_catalogues_classes() -> None:
    schema = schema_for_data_sources(DATA_SOURCES)
    ok = "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1"
    assert lint(ok, schema=schema) == []
    column = schema.table("dsp_impressions").column("user_id")  # type: ignore[union-attr]
    assert column is not None and column.threshold == ThresholdClass.VERY_HIGH.value
    leaks = "SELECT user_id, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1"
    assert any("aggregation threshold VERY_HIGH" in m for m in errors(lint(leaks, schema=schema)))
    literal = (
        "SELECT campaign, COUNT(1) AS n FROM dsp_impressions WHERE postal_code = '98101' GROUP BY 1"
    )
    assert any("threshold HIGH" in m for m in errors(lint(literal, schema=schema)))
    # the instance does not list bid_price: its dataSources is the authority on columns
    missing = "SELECT i.campaign, MAX(i.bid_price) AS b FROM dsp_impressions i GROUP BY 1"
    assert errors(lint(missing, schema=schema)) == [
        "table 'dsp_impressions' has no column 'bid_price'"
    ]


def test_real_mode_a_listed_uncatalogued_table_is_checked_with_its_columns() -> None:
    schema = schema_for_data_sources(DATA_SOURCES)
    assert CATALOGUE.table("crm_orders") is None
    # no class is known for its columns, so no threshold rule refuses shopper_id
    sql = "SELECT asin, shopper_id, SUM(purchase_units) AS n\nFROM crm_orders GROUP BY 1, 2"
    problems = lint(sql, schema=schema)
    assert problems == []
    raise_for_errors(problems)
    typo = "SELECT asin, SUM(purchase_unit) AS n\nFROM crm_orders GROUP BY 1"
    problems = lint(typo, schema=schema)
    assert [(p.line, p.column, p.severity, p.message, p.hint) for p in problems] == [
        (
            1,
            18,
            Severity.ERROR,
            "unknown column 'purchase_unit'",
            "did you mean 'purchase_units'?",
        )
    ]


def test_real_mode_an_unlisted_table_is_a_warning_with_its_place() -> None:
    schema = schema_for_data_sources(DATA_SOURCES)
    sql = "SELECT segment, COUNT(1) AS n\n  FROM dsp_views_by_segment\nGROUP BY 1"
    problems = lint(sql, file="q.sql", schema=schema)
    assert [(p.file, p.line, p.column, p.severity) for p in problems] == [
        ("q.sql", 2, 8, Severity.WARNING)
    ]
    assert problems[0].message == (
        "table 'dsp_views_by_segment' is not in the instance's dataSources: "
        "AMC decides at submission"
    )
    assert "amc datasources list" in (problems[0].hint or "")
    raise_for_errors(problems)  # a warning does not stop the submission


def test_real_mode_an_unlisted_catalogued_table_keeps_the_catalogues_classes() -> None:
    schema = schema_for_data_sources(DATA_SOURCES[1:])
    sql = "SELECT user_id, SUM(clicks) AS n FROM dsp_clicks GROUP BY 1"
    problems = lint(sql, schema=schema)
    assert [p.message for p in warnings(problems)] == [
        "table 'dsp_clicks' is not in the instance's dataSources: AMC decides at submission"
    ]
    assert any("user_id' has aggregation threshold VERY_HIGH" in m for m in errors(problems))


def test_an_aggregation_threshold_in_data_sources_wins() -> None:
    sources = [
        {
            "dataSourceId": "custom_upload",
            "columns": [{"name": "email_hash", "aggregationThreshold": "very_high"}],
        }
    ]
    sql = "SELECT email_hash, COUNT(1) AS n FROM custom_upload GROUP BY 1"
    assert any("VERY_HIGH" in m for m in errors(lint(sql, schema=schema_for_data_sources(sources))))
