"""AMC compile rules of the sandbox SQL engine: grammar, names, privacy, parameters."""

from __future__ import annotations

import pytest

from amc_manager.sandbox.query import CompileError, InputParameter, PrivacyOptions
from tests.sandbox.engine_helpers import PREFIX, compile_sql, open_privacy


def compile_error(sql: str, **kwargs: object) -> CompileError:
    with pytest.raises(CompileError) as caught:
        compile_sql(sql, **kwargs)
    return caught.value


def assert_error(sql: str, where: str, message: str, line: int, column: int) -> None:
    error = compile_error(sql)
    assert error.details == f"{PREFIX}{where}: {message}"
    assert (error.line, error.column) == (line, column)


def test_syntax_error_reports_line_and_column() -> None:
    error = compile_error("SELECT campaign, COUNT(*)\nFROM dsp_impressions WHERE (")
    assert error.details.startswith(PREFIX + 'Encountered "(" at line 2, column 28')
    assert (error.line, error.column) == (2, 28)


def test_select_star_is_rejected() -> None:
    assert_error(
        "SELECT * FROM dsp_impressions",
        "From line 1, column 8 to line 1, column 8",
        "SELECT * is not supported: name the columns to select",
        1,
        8,
    )


def test_qualified_star_is_rejected() -> None:
    error = compile_error("SELECT i.* FROM dsp_impressions i")
    assert "SELECT * is not supported" in error.details
    assert (error.line, error.column) == (1, 8)


def test_limit_is_rejected() -> None:
    assert_error(
        "SELECT campaign, COUNT(*) FROM dsp_impressions GROUP BY 1 LIMIT 10",
        "From line 1, column 59 to line 1, column 66",
        "LIMIT is not supported; use RANK() or ROW_NUMBER() in a sub-query to keep the top rows",
        1,
        59,
    )


def test_order_by_outside_window_is_rejected() -> None:
    assert_error(
        "SELECT campaign, COUNT(*) AS n\nFROM dsp_impressions GROUP BY 1 ORDER BY n DESC",
        "From line 2, column 33 to line 2, column 47",
        "ORDER BY is only supported inside window specifications (OVER)",
        2,
        33,
    )


def test_order_by_inside_window_and_aggregate_is_allowed() -> None:
    compile_sql(
        "WITH c AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1) "
        "SELECT campaign, imps, RANK() OVER (ORDER BY imps DESC) AS r FROM c"
    )
    compile_sql("SELECT ARRAY_AGG(campaign ORDER BY campaign) AS c FROM dsp_impressions")


def test_right_join_is_rejected() -> None:
    assert_error(
        "SELECT i.campaign, COUNT(*) FROM dsp_impressions i "
        "RIGHT JOIN dsp_clicks c ON i.user_id = c.user_id GROUP BY 1",
        "From line 1, column 63 to line 1, column 74",
        "RIGHT JOIN is not supported; swap the tables and use LEFT JOIN",
        1,
        63,
    )


def test_intersect_is_rejected() -> None:
    assert_error(
        "SELECT campaign, COUNT(*) FROM dsp_impressions GROUP BY 1 "
        "INTERSECT SELECT campaign, COUNT(*) FROM dsp_clicks GROUP BY 1",
        "From line 1, column 59 to line 1, column 67",
        "INTERSECT is not supported; only UNION [ALL] combines queries",
        1,
        59,
    )


def test_except_points_at_its_keyword() -> None:
    error = compile_error(
        "SELECT campaign, COUNT(*) FROM dsp_impressions GROUP BY 1\n"
        "  EXCEPT ALL SELECT campaign, COUNT(*) FROM dsp_clicks GROUP BY 1"
    )
    assert error.details.startswith(PREFIX + "From line 2, column 3 to line 2, column 8: EXCEPT")
    assert (error.line, error.column) == (2, 3)


def test_clause_position_spans_keyword_to_clause_end() -> None:
    error = compile_error(
        "SELECT campaign, COUNT(*) AS n FROM dsp_impressions GROUP BY 1\n"
        "UNION SELECT campaign, COUNT(*) AS n FROM dsp_clicks GROUP BY 1\n"
        "SORT BY  n DESC"
    )
    assert (
        error.details
        == PREFIX + "From line 3, column 1 to line 3, column 15: SORT BY is not supported"
    )


def test_unaggregated_output_is_rejected() -> None:
    assert_error(
        "SELECT campaign, impressions FROM dsp_impressions",
        "From line 1, column 8 to line 1, column 28",
        "The query must aggregate at least one column (for example COUNT or SUM with GROUP BY): "
        "event-level rows cannot be exported",
        1,
        8,
    )


def test_unaggregated_output_through_cte_is_rejected() -> None:
    error = compile_error(
        "WITH e AS (SELECT campaign, impressions FROM dsp_impressions) SELECT campaign FROM e"
    )
    assert "must aggregate at least one column" in error.details


def test_select_over_aggregated_cte_is_valid() -> None:
    compiled = compile_sql(
        "WITH c AS (SELECT campaign, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1) "
        "SELECT campaign, imps * 2 AS doubled FROM c"
    )
    assert compiled.output_columns == ("campaign", "doubled")
    assert compiled.tables == frozenset({"dsp_impressions"})


def test_very_high_column_in_output_is_rejected() -> None:
    assert_error(
        "SELECT user_id, COUNT(*) FROM dsp_impressions GROUP BY 1",
        "From line 1, column 8 to line 1, column 14",
        "Column 'user_id' has aggregation threshold VERY_HIGH and cannot be selected in the "
        "output (output column 'user_id'); use it only inside aggregations such as "
        "COUNT(DISTINCT ...) or in joins",
        1,
        8,
    )


def test_very_high_column_through_cte_alias_is_rejected() -> None:
    error = compile_error(
        "WITH u AS (SELECT device_id AS d, COUNT(*) AS n FROM dsp_impressions GROUP BY 1)\n"
        "SELECT d AS who, SUM(n) FROM u GROUP BY 1"
    )
    assert "Column 'device_id' has aggregation threshold VERY_HIGH" in error.details
    assert "(output column 'who')" in error.details
    assert (error.line, error.column) == (2, 8)


def test_min_of_very_high_column_is_rejected() -> None:
    error = compile_error("SELECT campaign, MAX(user_id) AS u FROM dsp_impressions GROUP BY 1")
    assert "Column 'user_id' has aggregation threshold VERY_HIGH" in error.details


def test_reach_and_frequency_shape_is_valid() -> None:
    compiled = compile_sql(
        "WITH f AS (SELECT user_id, COUNT(*) AS n FROM dsp_impressions GROUP BY user_id) "
        "SELECT n, COUNT(DISTINCT user_id) FROM f GROUP BY n"
    )
    assert compiled.output_columns == ("n", "_col_1")


def test_very_high_join_keys_are_valid() -> None:
    compile_sql(
        "SELECT i.campaign, COUNT(DISTINCT c.user_id) AS clickers FROM dsp_impressions i "
        "JOIN dsp_clicks c ON i.user_id = c.user_id GROUP BY 1"
    )


@pytest.mark.parametrize(
    "predicate",
    [
        "postal_code = '10001'",
        "postal_code <> '10001'",
        "postal_code IN ('10001', '10002')",
        "postal_code LIKE '100%'",
        "postal_code RLIKE '^100'",
        "postal_code BETWEEN '10000' AND '10099'",
        "'10001' = postal_code",
        "UPPER(city_name) = 'SEATTLE'",
        "CASE postal_code WHEN '1' THEN TRUE END",
    ],
)
def test_high_column_compared_with_literal_is_rejected(predicate: str) -> None:
    error = compile_error(
        f"SELECT campaign, COUNT(*) FROM dsp_impressions WHERE {predicate} GROUP BY 1"
    )
    column = "city_name" if "city_name" in predicate else "postal_code"
    # The span starts at the predicate's first token that carries a position (not CASE).
    start = 59 if predicate.startswith("CASE") else 54
    assert error.details.startswith(PREFIX + f"From line 1, column {start} to line 1, column ")
    assert error.details.endswith(
        f"Column '{column}' has aggregation threshold HIGH and cannot be compared with literal "
        "values"
    )
    assert (error.line, error.column) == (1, start)


def test_very_high_literal_filter_in_cte_is_rejected() -> None:
    error = compile_error(
        "WITH x AS (SELECT user_id AS u, campaign FROM dsp_impressions) "
        "SELECT campaign, COUNT(*) FROM x WHERE u = 'abc' GROUP BY 1"
    )
    assert "Column 'user_id' has aggregation threshold VERY_HIGH and cannot be compared" in (
        error.details
    )


def test_high_column_in_output_and_non_literal_filters_are_valid() -> None:
    compile_sql(
        "SELECT postal_code, COUNT(*) FROM dsp_impressions "
        "WHERE user_id IS NOT NULL AND postal_code IS NOT NULL GROUP BY 1 "
        "HAVING COUNT(DISTINCT user_id) > 5"
    )


# Users reached by DSP impressions, by DSP clicks, or by both.
OVERLAP = (
    "WITH d AS (SELECT user_id FROM dsp_impressions GROUP BY 1), "
    "c AS (SELECT user_id FROM dsp_clicks GROUP BY 1), "
    "j AS (SELECT CASE WHEN d.user_id IS NOT NULL AND c.user_id IS NOT NULL THEN 'both' "
    "WHEN d.user_id IS NOT NULL THEN 'dsp only' ELSE 'none' END AS exposure, "
    "ISNULL(c.user_id) AS no_click, COALESCE(d.user_id, c.user_id) AS uid "
    "FROM d FULL OUTER JOIN c ON d.user_id = c.user_id) "
)


def output_classes(sql: str) -> list[str]:
    return [column.threshold.value for column in compile_sql(sql).privacy.columns]


def test_null_tests_do_not_carry_the_tested_class() -> None:
    # IS [NOT] NULL yields a boolean, not the id: its result may be output and compared.
    assert output_classes(
        OVERLAP + "SELECT exposure, no_click, COUNT(DISTINCT uid) AS users FROM j GROUP BY 1, 2"
    ) == ["NONE", "NONE", "NONE"]
    assert output_classes(
        OVERLAP + "SELECT no_click, COUNT(DISTINCT uid) AS users FROM j "
        "WHERE exposure = 'both' AND no_click = FALSE GROUP BY 1"
    ) == ["NONE", "NONE"]


@pytest.mark.parametrize(
    ("sql", "output"),
    [
        (OVERLAP + "SELECT uid, COUNT(*) AS n FROM j GROUP BY 1", "uid"),
        ("SELECT CONCAT(user_id, '-x') AS k, COUNT(*) FROM dsp_impressions GROUP BY 1", "k"),
        (
            "SELECT CASE WHEN user_id IS NULL THEN 'none' ELSE user_id END AS k, COUNT(*) "
            "FROM dsp_impressions GROUP BY 1",
            "k",
        ),
        ("SELECT campaign, COLLECT(user_id) AS k FROM dsp_impressions GROUP BY 1", "k"),
        (
            "SELECT campaign, FIRST_VALUE(user_id) IGNORE NULLS OVER (PARTITION BY campaign) AS k, "
            "COUNT(*) AS n FROM dsp_impressions GROUP BY campaign, user_id",
            "k",
        ),
        (
            "SELECT campaign, TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(impression_dt, user_id))), "
            "x -> x.user_id) AS k FROM dsp_impressions GROUP BY 1",
            "k",
        ),
    ],
)
def test_values_carrying_user_id_are_still_rejected(sql: str, output: str) -> None:
    error = compile_error(sql)
    assert (
        "Column 'user_id' has aggregation threshold VERY_HIGH and cannot be selected in the "
        f"output (output column '{output}')"
    ) in error.details


@pytest.mark.parametrize(
    "sql",
    [
        OVERLAP + "SELECT exposure, COUNT(*) AS n FROM j WHERE uid = 'u1' GROUP BY 1",
        "SELECT COUNT(*) AS n FROM dsp_impressions WHERE CONCAT(user_id, '-x') = 'u1-x'",
        "SELECT COUNT(*) AS n FROM dsp_impressions WHERE CONTAINED_IN(user_id, ARRAY('u1'))",
    ],
)
def test_literal_comparisons_on_user_id_values_are_still_rejected(sql: str) -> None:
    error = compile_error(sql)
    assert (
        "Column 'user_id' has aggregation threshold VERY_HIGH and cannot be compared with "
        "literal values"
    ) in error.details


SORTED_EVENTS = "ARRAY_SORT(COLLECT_LIST(STRUCT(impression_dt, device_type)))"


@pytest.mark.parametrize(
    ("expression", "threshold"),
    [
        # Keys that only order the values lend them no class (device_type is LOW) ...
        ("LISTAGG(device_type, ' > ') WITHIN GROUP (ORDER BY impression_dt)", "LOW"),
        ("ARRAY_AGG(device_type ORDER BY impression_dt)", "LOW"),
        ("COLLECT_LIST(device_type) WITHIN GROUP (ORDER BY bid_price)", "LOW"),
        (f"ARRAY_JOIN(TRANSFORM({SORTED_EVENTS}, x -> x.device_type), ' > ')", "LOW"),
        (f"TRANSFORM({SORTED_EVENTS}, x -> x['device_type'])", "LOW"),
        (f"{SORTED_EVENTS}[0].device_type", "LOW"),
        ("MAX_BY(device_type, impression_dt)", "LOW"),
        ("ROW_NUMBER() OVER (ORDER BY MIN(impression_dt))", "NONE"),
        ("LISTAGG(device_type, ',') WITHIN GROUP (ORDER BY user_id)", "LOW"),
        # ... while values that are output keep theirs (impression_dt, bid_price: MEDIUM).
        (SORTED_EVENTS, "MEDIUM"),
        (f"TRANSFORM({SORTED_EVENTS}, x -> DATE_TRUNC('DAY', x.impression_dt))", "MEDIUM"),
        (f"TRANSFORM({SORTED_EVENTS}, x -> x)", "MEDIUM"),
        (
            "LISTAGG(DATE_FORMAT(impression_dt, 'HH'), ',') WITHIN GROUP (ORDER BY campaign)",
            "MEDIUM",
        ),
        ("MIN(DATE_TRUNC('DAY', impression_dt))", "MEDIUM"),
        ("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY bid_price)", "MEDIUM"),
        ("MAX_BY(bid_price, device_type)", "MEDIUM"),
    ],
)
def test_ordering_keys_lend_no_class(expression: str, threshold: str) -> None:
    sql = f"SELECT campaign, {expression} AS v FROM dsp_impressions GROUP BY 1"
    assert output_classes(sql) == ["LOW", threshold]


def test_ordering_keys_lend_no_class_through_ctes() -> None:
    sql = (
        f"WITH e AS (SELECT campaign, {SORTED_EVENTS} AS evs FROM dsp_impressions GROUP BY 1) "
        "SELECT ARRAY_JOIN(TRANSFORM(evs, x -> x.device_type), ' > ') AS path, "
        "evs[0].impression_dt AS first_seen, COUNT(*) AS n FROM e GROUP BY 1, 2"
    )
    assert output_classes(sql) == ["LOW", "MEDIUM", "NONE"]


def test_unknown_table() -> None:
    assert_error(
        "SELECT campaign, COUNT(*)\nFROM dsp_impression GROUP BY 1",
        "From line 2, column 6 to line 2, column 19",
        "Object 'dsp_impression' not found",
        2,
        6,
    )


def test_unknown_column() -> None:
    assert_error(
        "SELECT campaign, COUNT(cost) FROM dsp_impressions GROUP BY 1",
        "From line 1, column 24 to line 1, column 27",
        "Column 'cost' not found in any table",
        1,
        24,
    )


def test_hidden_user_key_cannot_be_named() -> None:
    error = compile_error("SELECT COUNT(DISTINCT __user_key) FROM dsp_impressions")
    assert "Column '__user_key' not found in any table" in error.details


def test_unknown_qualified_column_and_alias() -> None:
    error = compile_error("SELECT i.nope, COUNT(*) FROM dsp_impressions i GROUP BY 1")
    assert error.details.endswith("Column 'nope' not found in table 'i'")
    error = compile_error("SELECT x.campaign, COUNT(*) FROM dsp_impressions i GROUP BY 1")
    assert error.details.endswith("Table 'x' not found")


def test_ambiguous_column() -> None:
    error = compile_error(
        "SELECT campaign, COUNT(*) FROM dsp_impressions i "
        "JOIN dsp_clicks c ON i.user_id = c.user_id GROUP BY 1"
    )
    assert error.details.endswith("Column 'campaign' is ambiguous")
    assert (error.line, error.column) == (1, 8)


def test_names_are_case_insensitive() -> None:
    compiled = compile_sql("SELECT Campaign, COUNT(*) AS N FROM DSP_Impressions GROUP BY CAMPAIGN")
    assert compiled.output_columns == ("campaign", "n")
    assert compiled.tables == frozenset({"dsp_impressions"})


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DROP TABLE dsp_impressions", "DROP"),
        ("CREATE TABLE x AS SELECT 1", "CREATE"),
        ("INSERT INTO dsp_impressions SELECT 1", "INSERT"),
        ("DELETE FROM dsp_impressions", "DELETE"),
        ("UPDATE dsp_impressions SET campaign = 'x'", "UPDATE"),
    ],
)
def test_non_select_statements_are_rejected(sql: str, kind: str) -> None:
    error = compile_error(sql)
    where = f"From line 1, column 1 to line 1, column {len(sql)}"
    assert error.details == (
        f"{PREFIX}{where}: {kind} statements are not supported; only SELECT queries can be run"
    )
    assert (error.line, error.column) == (1, 1)


def test_statement_position_starts_at_its_keyword() -> None:
    error = compile_error("\n  -- comment\n  CREATE TABLE x\n  AS SELECT 1")
    assert error.details.startswith(PREFIX + "From line 3, column 3 to line 4, column 13: CREATE")
    assert (error.line, error.column) == (3, 3)


def test_more_than_one_statement_is_rejected() -> None:
    error = compile_error("SELECT COUNT(*) FROM dsp_impressions;\nSELECT COUNT(*) FROM dsp_clicks")
    assert error.details == (
        PREFIX
        + "From line 2, column 1 to line 2, column 31: Only one statement is allowed, found 2"
    )
    assert (error.line, error.column) == (2, 1)


def test_trailing_semicolon_is_fine() -> None:
    compile_sql("SELECT COUNT(*) FROM dsp_impressions;")


def test_undeclared_parameter_uses_amc_text() -> None:
    error = compile_error(
        "SELECT COUNT(*) FROM amazon_attributed_events_by_traffic_time "
        "WHERE ad_product_type = CUSTOM_PARAMETER('ad_product_type')"
    )
    assert error.details == (
        "Was unable to compile workflow wf_test because it was found to be invalid: "
        "Filter operation filter_operation referenced an undeclared parameter ad_product_type."
    )
    projected = compile_error("SELECT CUSTOM_PARAMETER('label'), COUNT(*) FROM dsp_clicks")
    assert projected.details.endswith("referenced an undeclared parameter label.")


def test_parameter_without_value_is_rejected() -> None:
    error = compile_error(
        "SELECT COUNT(*) FROM dsp_clicks WHERE campaign = CUSTOM_PARAMETER('c')",
        parameters=[InputParameter("c", "STRING")],
    )
    assert "Parameter c has no value" in error.details


def test_parameter_value_of_wrong_type_is_rejected() -> None:
    error = compile_error(
        "SELECT COUNT(*) FROM dsp_clicks WHERE campaign_id = CUSTOM_PARAMETER('c')",
        parameters=[InputParameter("c", "LONG")],
        values={"c": "twelve"},
    )
    assert "Value 'twelve' of parameter c is not a valid LONG" in error.details


def test_unknown_function_fails_at_compile_time() -> None:
    error = compile_error("SELECT NO_SUCH_FN(campaign), COUNT(*) FROM dsp_impressions GROUP BY 1")
    assert error.details == (
        f"{PREFIX}From line 1, column 8 to line 1, column 26: "
        "No match found for function signature NO_SUCH_FN"
    )


def test_wrong_argument_types_fail_at_compile_time() -> None:
    error = compile_error("SELECT SUM(campaign) AS s FROM dsp_impressions")
    assert error.details == (
        f"{PREFIX}From line 1, column 8 to line 1, column 19: "
        "Cannot apply 'SUM' to arguments of type 'SUM(<VARCHAR>)'"
    )


def test_group_by_ordinal_out_of_range() -> None:
    error = compile_error("SELECT campaign, COUNT(*) AS n FROM dsp_impressions GROUP BY 3")
    assert error.details == f"{PREFIX}Ordinal out of range: 3"


def test_disabled_aggregation_controls_allow_event_rows() -> None:
    compiled = compile_sql(
        "SELECT user_id, impression_dt FROM dsp_impressions", privacy=open_privacy()
    )
    assert compiled.output_columns == ("user_id", "impression_dt")
    # Literal filters on HIGH columns stay forbidden: they are not aggregation controls.
    with pytest.raises(CompileError):
        compile_sql(
            "SELECT user_id FROM dsp_impressions WHERE postal_code = '1'",
            privacy=PrivacyOptions(disable_aggregation_controls=True),
        )
