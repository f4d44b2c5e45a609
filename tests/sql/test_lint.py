"""The linter beyond the corpus: schemas, declarations, positions, and the output formats."""

from __future__ import annotations

import json

import pytest

from amc_manager.errors import InvalidQuery, UsageError
from amc_manager.sql import (
    KnownSchema,
    Problem,
    Severity,
    format_problem,
    lint,
    raise_for_errors,
    render_json,
    render_text,
)

CATALOGUE = KnownSchema.from_catalogue()


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


def test_without_a_schema_names_are_unchecked_but_privacy_rules_apply() -> None:
    sql = "SELECT user_id, SUM(x) AS s FROM my_table GROUP BY user_id"
    problems = lint(sql, file="q.sql")
    assert problems[-1].severity is Severity.WARNING and problems[-1].line is None
    assert "no known schema" in problems[-1].message
    assert not any("unknown" in m for m in messages(problems))
    sql = (
        "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE user_id = 'u' GROUP BY 1"
    )
    assert any("VERY_HIGH" in m for m in messages(lint(sql)))


def test_a_schema_from_amc_data_sources() -> None:
    schema = KnownSchema.from_data_sources(
        [
            {
                "dataSourceId": "dsp_impressions",
                "columns": [{"name": "campaign"}, {"name": "user_id"}],
            },
            {
                "dataSourceId": "custom_upload",
                "columns": [{"name": "email_hash", "aggregationThreshold": "VERY_HIGH"}, "junk"],
            },
        ]
    )
    sql = "SELECT campaign, user_id, COUNT(1) AS n FROM dsp_impressions GROUP BY 1, 2"
    assert any(
        "user_id' has aggregation threshold VERY_HIGH" in m
        for m in messages(lint(sql, schema=schema))
    )
    sql = "SELECT email_hash, COUNT(1) AS n FROM custom_upload GROUP BY 1"
    assert any("VERY_HIGH" in m for m in messages(lint(sql, schema=schema)))
    sql = "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1"
    assert messages(lint(sql, schema=schema)) == ["unknown column 'impressions'"]


def test_without_values_only_declarations_are_checked() -> None:
    sql = "-- @param p LONG\nSELECT {{a}} AS a, CUSTOM_PARAMETER('p') AS p"
    assert lint(sql, schema=CATALOGUE) == []
    assert len(lint(sql, schema=CATALOGUE, values={})) == 2


def test_declaration_problems() -> None:
    sql = (
        "-- @param a LONG 1\n-- @param a LONG 2\n-- @param\n-- @param b-c LONG\n"
        "SELECT CUSTOM_PARAMETER('a') AS a\n-- @param late STRING\n"
    )
    problems = lint(sql, schema=CATALOGUE, values={})
    assert [(p.line, p.column, p.severity) for p in problems] == [
        (2, 11, Severity.ERROR),
        (3, 1, Severity.ERROR),
        (4, 11, Severity.ERROR),
        (6, 1, Severity.WARNING),
    ]
    assert "declared twice (first on line 1)" in problems[0].message


def test_a_name_both_placeholder_and_declared_is_refused() -> None:
    sql = "-- @param a STRING \"x\"\nSELECT {{a}} AS a, CUSTOM_PARAMETER('a') AS b"
    assert any("both a {{a}} placeholder" in m for m in messages(lint(sql, schema=CATALOGUE)))


def test_unknown_built_in_parameters_are_warnings() -> None:
    sql = "SELECT BUILT_IN_PARAMETER('TODAY') AS t"
    problems = lint(sql, schema=CATALOGUE)
    assert [(p.line, p.column, p.severity) for p in problems] == [(1, 8, Severity.WARNING)]


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("-- only a comment\n", "holds no SQL query"),
        ("SELECT campaign FROM {x}", "syntax error"),
        ("SELECT a FROM", "syntax error"),
        ("DROP TABLE dsp_impressions", "DROP statements are not supported"),
    ],
)
def test_unreadable_sql(sql: str, fragment: str) -> None:
    assert any(fragment in m for m in messages(lint(sql, schema=CATALOGUE)))


def test_positions_are_one_based_and_count_characters() -> None:
    sql = "SELECT\n\t'é', ü.campaign AS c, COUNT(1) AS n\nFROM dsp_impressions AS i GROUP BY 1, 2"
    (problem,) = lint(sql, schema=CATALOGUE)
    assert (problem.line, problem.column) == (2, 7)
    assert problem.message == "'ü' is not a table or alias of this query"


def test_window_order_by_and_aggregates_are_fine() -> None:
    sql = """WITH daily AS (
  SELECT campaign, impression_date_utc AS day, SUM(impressions) AS n
  FROM dsp_impressions GROUP BY campaign, impression_date_utc
)
SELECT campaign, day, n,
  SUM(n) OVER (PARTITION BY campaign ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS w
FROM daily"""
    assert lint(sql, schema=CATALOGUE) == []


def test_windowed_aggregates_do_not_aggregate() -> None:
    sql = "SELECT campaign, SUM(impressions) OVER (PARTITION BY campaign) AS n FROM dsp_impressions"
    assert any("must aggregate" in m for m in messages(lint(sql, schema=CATALOGUE)))


def test_text_format() -> None:
    placed = Problem("q.sql", 3, 8, Severity.ERROR, "SELECT * is not supported", "name them")
    placeless = Problem("q.sql", None, None, Severity.WARNING, "no schema")
    assert (
        format_problem(placed) == "q.sql:3:8: error: SELECT * is not supported\n    hint: name them"
    )
    assert format_problem(placeless) == "q.sql: warning: no schema"
    assert render_text([placeless, placed]) == (
        "q.sql:3:8: error: SELECT * is not supported\n    hint: name them\n"
        "q.sql: warning: no schema\n"
    )
    assert render_text([]) == ""


def test_json_format() -> None:
    problems = lint("SELECT *\nFROM dsp_impressions", file="q.sql", schema=CATALOGUE)
    report = json.loads(render_json("q.sql", problems, {"window": None}))
    assert report["valid"] is False and report["errors"] == 2 and report["warnings"] == 0
    assert report["window"] is None
    assert report["problems"][1] == {
        "file": "q.sql",
        "line": 1,
        "column": 8,
        "severity": "error",
        "message": "SELECT * is not supported",
        "hint": "name the columns you need; AMC never exports every column of a table",
    }


def test_raise_for_errors_names_the_first_error() -> None:
    raise_for_errors(lint("SELECT 1 AS one", schema=CATALOGUE))
    with pytest.raises(InvalidQuery) as caught:
        raise_for_errors(
            lint("SELECT *\nFROM dsp_impressions LIMIT 1", file="q.sql", schema=CATALOGUE)
        )
    assert isinstance(caught.value, UsageError)
    assert (
        caught.value.message
        == "q.sql:1:1: the query must aggregate: AMC does not export event-level rows"
    )
