"""The library's entries: the header format, what each entry declares, and finding one by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

import amc_manager
from amc_manager.catalogue import CATALOGUE
from amc_manager.errors import UsageError
from amc_manager.service import library
from amc_manager.service.checks import RunOptions, WindowInput
from amc_manager.sql import AmcDialect, scan_template

PACKAGE = Path(amc_manager.__file__).parent
ENTRIES = library.list_entries()
BY_NAME = {e.name: e for e in ENTRIES}


def read_tables(sql: str) -> set[str]:
    """The AMC tables the SQL reads (common table expressions left out)."""
    tree = sqlglot.parse_one(scan_template(sql).parse_text(), read=AmcDialect)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table)} - ctes


def test_the_library_holds_at_least_forty_distinct_analyses() -> None:
    assert len(ENTRIES) >= 40
    assert len({e.title for e in ENTRIES}) == len(ENTRIES)
    assert len({e.question for e in ENTRIES}) == len(ENTRIES)


def test_every_example_is_an_entry_under_its_file_name() -> None:
    examples = sorted(p.stem for p in (PACKAGE / "examples").glob("*.sql"))
    assert len(examples) >= 15
    for name in examples:
        assert BY_NAME[name].source == f"examples/{name}.sql"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_declares_what_it_answers_reads_and_takes(entry: library.LibraryEntry) -> None:
    assert entry.title and entry.title[0].isupper(), entry.title
    assert len(entry.name) <= 30 and len(entry.title) <= 48, "too long for `amc library list`"
    assert entry.question.endswith("?"), entry.question
    assert entry.tables, "no tables declared"
    assert set(entry.tables) == read_tables(entry.sql), "-- tables: differs from the SQL"
    unknown = [t for t in entry.tables if t not in CATALOGUE]
    assert not unknown, f"tables the catalogue does not know: {unknown}"
    assert entry.sql == (PACKAGE / entry.source).read_text(encoding="utf-8")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_runs_without_any_value_given(entry: library.LibraryEntry) -> None:
    """Every parameter has a default (CUSTOM_PARAMETER), so `amc library run NAME` needs no
    --param and the query can be pushed as a saved workflow as it is."""
    assert all(p.kind == "custom_parameter" and p.has_default for p in entry.parameters)


def test_paid_entries_say_which_subscription_they_need() -> None:
    paid = [e for e in ENTRIES if e.paid_features]
    assert paid, "no entry reads a paid-feature table"
    for entry in paid:
        assert "paid" in entry.description.lower(), entry.name


def test_the_summary_carries_the_listing_fields() -> None:
    summary = BY_NAME["weekly_frequency_by_campaign"].summary()
    assert list(summary) == ["name", "title", "question", "tables", "parameters", "paid_features"]
    assert summary["tables"] == ["dsp_impressions", "amazon_attributed_events_by_traffic_time"]
    assert summary["parameters"] == [
        {
            "name": "frequency_cap",
            "kind": "custom_parameter",
            "type": "LONG",
            "required": False,
            "default": 10,
        }
    ]
    full = BY_NAME["weekly_frequency_by_campaign"].to_json()
    assert full["source"] == "library/weekly_frequency_by_campaign.sql"
    assert full["description"].startswith("Each row is a campaign and a weekly frequency;")
    assert full["sql"].startswith("-- title: Weekly frequency")


def test_header_fields_continuations_and_parameters() -> None:
    sql = (
        "-- title: Reach\n"
        "-- question: How many?\n"
        "-- tables: dsp_impressions, DSP_CLICKS\n"
        "-- description: First line\n"
        "--   and its continuation.\n"
        '-- @param campaigns ARRAY<STRING> ["a", "b"]\n'
        "-- @param min_users LONG 5\n"
        "-- @param day DATE\n"
        "SELECT {{grouping}}, CUSTOM_PARAMETER('min_users') AS m FROM dsp_impressions\n"
        "-- title: not a header line any more\n"
    )
    entry = library.parse_entry(sql, "library/reach.sql")
    assert (entry.name, entry.title, entry.question) == ("reach", "Reach", "How many?")
    assert entry.tables == ("dsp_impressions", "dsp_clicks")
    assert entry.description == "First line and its continuation."
    assert [p.to_json() for p in entry.parameters] == [
        {
            "name": "campaigns",
            "kind": "custom_parameter",
            "type": "ARRAY<STRING>",
            "required": False,
            "default": ["a", "b"],
        },
        {
            "name": "min_users",
            "kind": "custom_parameter",
            "type": "LONG",
            "required": False,
            "default": 5,
        },
        {"name": "day", "kind": "custom_parameter", "type": "DATE", "required": True},
        {"name": "grouping", "kind": "placeholder", "type": None, "required": True},
    ]
    assert [p.describe() for p in entry.parameters] == [
        'campaigns ARRAY<STRING> (default ["a", "b"])',
        "min_users LONG (default 5)",
        "day DATE (required)",
        "{{grouping}} (required)",
    ]


@pytest.mark.parametrize(
    ("header", "complaint"),
    [
        ("-- title: T\n-- question: Q?\n", "the header lacks tables"),
        ("-- title: T\n-- title: U\n-- question: Q?\n-- tables: t\n", "'title' is given twice"),
        ("-- title: T\n-- question: Q?\n-- tables: t\n-- author: me\n", "unknown header key"),
        ("-- title: T\n-- question: Q?\n-- tables: t\n-- @param x NOPE\n", "unknown type"),
    ],
)
def test_a_broken_header_names_the_file_and_the_problem(header: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as raised:
        library.parse_entry(header + "SELECT 1", "library/broken.sql")
    assert str(raised.value).startswith("library/broken.sql: ")


def test_an_unknown_name_is_refused_naming_close_matches() -> None:
    with pytest.raises(UsageError) as raised:
        library.get_entry("reach_and_frequencies")
    assert raised.value.exit_code == 2
    assert raised.value.message == "no library query named 'reach_and_frequencies'"
    assert raised.value.hint is not None
    assert "reach_and_frequency" in raised.value.hint
    assert "amc library list" in raised.value.hint
    with pytest.raises(UsageError) as nothing_close:
        library.get_entry("zzzz")
    assert nothing_close.value.hint == "`amc library list` shows them all"


def test_a_name_may_carry_its_file_suffix() -> None:
    assert library.get_entry("campaign_performance.sql") is BY_NAME["campaign_performance"]


def test_the_run_request_is_amc_run_of_the_file() -> None:
    window = WindowInput(window="MOST_RECENT_WEEK")
    request = library.run_request(
        "campaign_daily_delivery",
        instance="amc515g6p1w",
        window=window,
        options=RunOptions(timeout=900),
    )
    entry = BY_NAME["campaign_daily_delivery"]
    assert (request.sql, request.source) == (entry.sql, "examples/campaign_daily_delivery.sql")
    assert (request.instance, request.window, request.options.timeout) == (
        "amc515g6p1w",
        window,
        900,
    )
    assert request.workflow_id is None and request.lint
