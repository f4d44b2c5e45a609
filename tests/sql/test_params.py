"""`{{name}}` substitution, `-- @param` declarations, and values from the command line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from amc_manager.errors import ParameterError, UsageError
from amc_manager.sql import ParamValue, lint, parse_type, prepare, quote_string, read_values

LIST_SQL = "SELECT campaign, COUNT(1) AS n FROM dsp_impressions WHERE campaign IN {{c}} GROUP BY 1"


def typed(**values: object) -> dict[str, ParamValue]:
    return {n: ParamValue(n, v, raw=False, origin="--param-json") for n, v in values.items()}


def text(**values: str) -> dict[str, ParamValue]:
    return {n: ParamValue(n, v, raw=True, origin="--param") for n, v in values.items()}


def test_strings_are_standard_sql_literals() -> None:
    assert quote_string("O'Brien \\ 'x'") == "'O''Brien \\ ''x'''"
    sql = prepare("SELECT {{a}} AS a", text(a="it's a \\'test\\'")).sql
    assert sql == "SELECT 'it''s a \\''test\\''' AS a"


def test_keywords_in_values_are_never_judged() -> None:
    values = text(a="Q3 Update Sale", b="DROP TABLE x; DELETE FROM y --")
    assert prepare("SELECT {{a}} AS a, {{b}} AS b", values).sql == (
        "SELECT 'Q3 Update Sale' AS a, 'DROP TABLE x; DELETE FROM y --' AS b"
    )


def test_numbers_and_booleans_stay_bare() -> None:
    values = typed(n=42, d=Decimal("1.50"), t=True, f=False, x=2.5)
    sql = prepare("SELECT {{n}}, {{d}}, {{t}}, {{f}}, {{x}}", values).sql
    assert sql == "SELECT 42, 1.50, TRUE, FALSE, 2.5"


def test_a_placeholder_inside_a_value_stays_text() -> None:
    values = text(a="{{b}}", b="{{a}}")
    assert prepare("SELECT {{a}} AS a, {{b}} AS b", values).sql == (
        "SELECT '{{b}}' AS a, '{{a}}' AS b"
    )


def test_placeholders_in_comments_and_strings_are_not_substituted() -> None:
    sql = "-- {{a}}\nSELECT /* {{a}} */ {{ a }} AS a, '{{' AS b"
    assert prepare(sql, text(a="x")).sql == "-- {{a}}\nSELECT /* {{a}} */ 'x' AS a, '{{' AS b"


def test_short_lists_are_parenthesised_literal_lists() -> None:
    sql = prepare(LIST_SQL, typed(c=["a", "b'c"])).sql
    assert "campaign IN ('a', 'b''c')" in sql
    assert "IN (1, 2)" in prepare("SELECT 1 WHERE x IN {{c}}", typed(c=[1, 2])).sql
    assert "IN ('one')" in prepare("SELECT 1 WHERE x IN {{c}}", text(c="one")).sql


def test_long_lists_become_a_values_cte_with_a_named_column() -> None:
    names = [f"c{i}" for i in range(101)]
    sql = prepare(LIST_SQL, typed(c=names)).sql
    assert sql.startswith("WITH c_list (c_item) AS (VALUES ('c0'), ('c1'),")
    assert "campaign IN (SELECT c_item FROM c_list)" in sql
    assert "SELECT *" not in sql
    assert "('c100')) SELECT campaign" in sql
    assert "IN ('c0'" in prepare(LIST_SQL, typed(c=names[:100])).sql


def test_the_threshold_is_configurable() -> None:
    sql = prepare(LIST_SQL, typed(c=["a", "b", "c"]), list_threshold=2).sql
    assert sql.startswith("WITH c_list (c_item) AS (VALUES ('a'), ('b'), ('c')) ")


def test_the_cte_is_merged_into_an_existing_with_on_its_first_line() -> None:
    template = (
        "-- a comment\nWITH c_list AS (SELECT 1 AS x)\n"
        "SELECT campaign, COUNT(1) AS n FROM dsp_impressions, c_list\n"
        "WHERE campaign IN {{c}} AND advertiser IN {{c}} GROUP BY 1"
    )
    sql = prepare(template, typed(c=["a", "b"]), list_threshold=1).sql
    lines = sql.splitlines()
    assert len(lines) == 4
    assert lines[1] == (
        "WITH c_list_1 (c_item) AS (VALUES ('a'), ('b')), c_list AS (SELECT 1 AS x)"
    )
    assert lines[3].count("(SELECT c_item FROM c_list_1)") == 2


def test_empty_lists_and_missing_values_are_refused_by_name() -> None:
    with pytest.raises(ParameterError, match=r"\{\{c\}\}.*empty list"):
        prepare(LIST_SQL, typed(c=[]))
    with pytest.raises(ParameterError, match=r"no value for \{\{c\}\}") as caught:
        prepare(LIST_SQL, {})
    assert isinstance(caught.value, UsageError)
    assert caught.value.hint and "--param c=" in caught.value.hint


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "is null"),
        ({"a": 1}, "is {"),
        ([["a"]], "list items must be"),
        (["a", 1], "mixes"),
    ],
)
def test_values_that_are_not_literals_are_refused(value: object, fragment: str) -> None:
    problems = lint(LIST_SQL, values=typed(c=value))
    assert any(fragment in p.message and p.line == 1 for p in problems), problems


def test_a_list_outside_in_is_refused() -> None:
    with pytest.raises(ParameterError, match="a list can only follow IN"):
        prepare("SELECT 1 WHERE x = {{c}}", typed(c=["a"]))
    with pytest.raises(ParameterError, match="a list can only follow IN"):
        prepare("SELECT 1 WHERE x IN ({{c}})", typed(c=["a"]))


def test_custom_parameters_become_input_parameters_and_values() -> None:
    template = (
        "-- @param min LONG 10\n-- @param asins ARRAY<STRING>\n-- @param day DATE\n"
        "SELECT CUSTOM_PARAMETER('min') AS m, CUSTOM_PARAMETER('day') AS d\n"
        "WHERE x IN (CUSTOM_PARAMETER('asins'))"
    )
    values = {**text(min="12", day="2025-07-01"), **typed(asins=["B01", "it's"])}
    prepared = prepare(template, values)
    assert prepared.sql == template
    assert prepared.input_parameters == (
        {"name": "min", "dataType": "LONG", "columnType": "DIMENSION", "defaultValue": "10"},
        {
            "name": "asins",
            "dataType": {"type": "ARRAY", "elementDataType": "STRING"},
            "columnType": "DIMENSION",
        },
        {"name": "day", "dataType": "DATE", "columnType": "DIMENSION"},
    )
    assert prepared.parameter_values == {"min": "12", "asins": ["B01", "it's"], "day": "2025-07-01"}
    assert prepared.workflow()["inputParameters"] == list(prepared.input_parameters)


@pytest.mark.parametrize(
    ("ptype", "value", "raw", "expected"),
    [
        ("LONG", " 42 ", True, "42"),
        ("LONG", 42, False, "42"),
        ("LONG", "42", False, "42"),
        ("DOUBLE", "1e3", True, "1E+3"),
        ("DECIMAL", Decimal("19.99"), False, "19.99"),
        ("BOOLEAN", "TRUE", True, "true"),
        ("BOOLEAN", False, False, "false"),
        ("TIMESTAMP", "2025-07-01T06:00:00", True, "2025-07-01T06:00:00"),
        ("STRING", "a,b,c", True, "a,b,c"),
        ("ARRAY<LONG>", "[1, 2]", True, [1, 2]),
        ("ARRAY<DOUBLE>", [Decimal("1.5")], False, [1.5]),
        ("ARRAY<DECIMAL>", [Decimal("1.50")], False, ["1.50"]),
    ],
)
def test_custom_values_are_read_as_the_declared_type(
    ptype: str, value: object, raw: bool, expected: object
) -> None:
    template = f"-- @param p {ptype}\nSELECT CUSTOM_PARAMETER('p') AS p"
    prepared = prepare(template, {"p": ParamValue("p", value, raw=raw, origin="t")})
    assert prepared.parameter_values == {"p": expected}


@pytest.mark.parametrize(
    ("ptype", "value", "raw", "fragment"),
    [
        ("LONG", "4x", True, "not a whole number"),
        ("LONG", 1.5, False, "not a whole number"),
        ("INTEGER", 2**31, False, "out of range"),
        ("BOOLEAN", "yes", True, "use true or false"),
        ("DATE", "07/01/2025", True, "use YYYY-MM-DD"),
        ("ARRAY<STRING>", "a,b", True, "invalid JSON"),
        ("ARRAY<LONG>", ["x"], False, "not a whole number"),
        ("STRING", ["a"], False, "not a single STRING"),
    ],
)
def test_mistyped_custom_values_are_placeless_errors(
    ptype: str, value: object, raw: bool, fragment: str
) -> None:
    template = f"-- @param p {ptype}\nSELECT CUSTOM_PARAMETER('p') AS p"
    problems = lint(template, values={"p": ParamValue("p", value, raw=raw, origin="t")})
    errors = [p for p in problems if p.is_error]
    assert len(errors) == 1 and errors[0].line is None
    assert fragment in errors[0].message and f"does not fit {ptype}" in errors[0].message


def test_parse_type() -> None:
    assert str(parse_type("array<long>")) == "ARRAY<LONG>"
    with pytest.raises(ValueError, match="unknown type 'MAP<STRING>'"):
        parse_type("MAP<STRING>")


def test_unused_values_are_errors_with_a_suggestion() -> None:
    problems = lint("SELECT {{campaign}} AS c", values=text(campaign="a", campagin="b"))
    unused = [p for p in problems if "does not use" in p.message]
    assert len(unused) == 1 and unused[0].line is None
    assert unused[0].hint == "did you mean 'campaign'?"


def test_read_values_from_the_three_options(tmp_path: Path) -> None:
    params_file = tmp_path / "p.json"
    params_file.write_text(json.dumps({"ids": [1, 2], "rate": 0.25}), encoding="utf-8")
    values = read_values(["name=a,b=c"], ["flag=true", 'list=["x"]'], params_file)
    assert {n: (v.value, v.raw) for n, v in values.items()} == {
        "name": ("a,b=c", True),
        "flag": (True, False),
        "list": (["x"], False),
        "ids": ([1, 2], False),
        "rate": (Decimal("0.25"), False),
    }


@pytest.mark.parametrize(
    ("params", "param_json", "fragment"),
    [
        (["a=1", "a=2"], [], "given twice (--param and --param)"),
        (["a=1"], ["a=2"], "given twice (--param and --param-json)"),
        (["novalue"], [], "is not NAME=VALUE"),
        (["1x=2"], [], "is not NAME=VALUE"),
        ([], ["a=[1,"], "invalid JSON"),
        ([], ["a=NaN"], "NaN is not a number"),
    ],
)
def test_bad_values_are_refused(params: list[str], param_json: list[str], fragment: str) -> None:
    with pytest.raises(ParameterError) as caught:
        read_values(params, param_json)
    assert fragment in caught.value.message
    assert caught.value.hint


def test_a_params_file_must_be_a_json_object(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[1]", encoding="utf-8")
    with pytest.raises(ParameterError, match="must hold a JSON object"):
        read_values(params_file=path)
    with pytest.raises(ParameterError, match="cannot read"):
        read_values(params_file=tmp_path / "missing.json")
    path.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(ParameterError, match=r"given twice \(--param and --params-file"):
        read_values(["a=1"], params_file=path)


def test_an_unused_declaration_is_a_lint_error_but_is_still_sent() -> None:
    template = "-- @param spare LONG 1\nSELECT 1 AS one"
    assert any("declared but never used" in p.message for p in lint(template, values={}))
    prepared = prepare(template, {})
    assert [p["name"] for p in prepared.input_parameters] == ["spare"]
