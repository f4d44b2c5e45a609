"""`amc library list|show|run` as users run them: JSON fields, the file as shown, a refused
name, two analyses end to end, and the options `library run` shares with `run`."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

from amc_manager.service.library import get_entry, list_entries
from tests.test_cli_run import _executions_in_store, _instance, amc, home
from tests.windows import day_window

__all__ = ["home"]  # the fixture, shared with tests/test_cli_run.py
HEAVY = ("duckdb", "pyarrow", "amc_manager.sandbox")
OPTION = re.compile(r"^\s+(--[a-z][a-z-]*)", re.MULTILINE)


def test_list_json_carries_each_entrys_fields(home: Path) -> None:
    done = amc(home, "library", "list", "--json")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert [i["name"] for i in items] == [e.name for e in list_entries()]
    assert len(items) >= 40
    for item in items:
        assert list(item) == [
            "name",
            "title",
            "question",
            "tables",
            "parameters",
            "paid_features",
        ]
        assert item["tables"] and all(isinstance(t, str) for t in item["tables"])
    by_name = {i["name"]: i for i in items}
    assert by_name["campaign_daily_delivery"]["parameters"] == [
        {
            "name": "campaign_filter",
            "kind": "custom_parameter",
            "type": "STRING",
            "required": False,
            "default": "Acme Spring Sale DSP",
        }
    ]
    assert by_name["retail_purchase_programs"]["paid_features"] == ["Amazon Retail Purchases"]


def test_list_fits_an_80_column_terminal(home: Path) -> None:
    done = amc(home, "library", "list", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["name", "title"]
    assert len(lines) == len(list_entries()) + 1
    assert max(len(line) for line in lines) <= 80


def test_show_prints_the_file_and_json_adds_the_description(home: Path) -> None:
    entry = get_entry("path_to_conversion")
    shown = amc(home, "library", "show", "path_to_conversion")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == entry.sql.rstrip("\n") + "\n"
    as_json = json.loads(amc(home, "library", "show", "path_to_conversion", "--json").stdout)
    assert as_json["sql"] == entry.sql
    assert as_json["description"] == entry.description != ""
    assert as_json["source"] == "examples/path_to_conversion.sql"


def test_show_of_an_unknown_name_exits_2_naming_the_fix(home: Path) -> None:
    done = amc(home, "library", "show", "reach_and_frequencies")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(
        "error: no library query named 'reach_and_frequencies' (did you mean reach_and_frequency"
    )
    assert done.stderr.endswith("? `amc library list` shows them all)\n")
    assert done.stderr.count("\n") == 1


def test_run_of_an_unknown_name_is_refused_before_anything_is_stored(home: Path) -> None:
    start, end = day_window(2)
    done = amc(
        home, "library", "run", "no_such_query", "--instance", "x", "--start", start, "--end", end
    )
    assert done.returncode == 2 and "no library query named 'no_such_query'" in done.stderr
    assert _executions_in_store(home) == 0


def test_two_analyses_run_end_to_end(home: Path) -> None:
    instance = _instance(home)
    start, end = day_window(2)
    window = ["--instance", instance, "--start", start, "--end", end]
    rows_csv = home / "campaigns.csv"
    first = amc(home, "library", "run", "campaign_performance", *window, "--output", str(rows_csv))
    assert first.returncode == 0, first.stderr
    with rows_csv.open(newline="") as handle:
        campaigns = list(csv.DictReader(handle))
    assert campaigns and set(campaigns[0]) == {
        "advertiser",
        "campaign",
        "impressions",
        "reach",
        "spend_usd",
        "cpm_usd",
    }
    rows_json = home / "frequency.jsonl"
    second = amc(
        home,
        "library",
        "run",
        "weekly_frequency_by_campaign",
        *window,
        "--param-json",
        "frequency_cap=3",
        "--output",
        str(rows_json),
    )
    assert second.returncode == 0, second.stderr
    frequencies = [json.loads(line) for line in rows_json.read_text().splitlines()]
    assert frequencies and {int(r["weekly_frequency"]) for r in frequencies} <= {1, 2, 3}
    execution_id = second.stdout.splitlines()[0]
    shown = json.loads(amc(home, "executions", "show", execution_id, "--json").stdout)
    assert shown["state"] == "succeeded" and shown["instance_id"] == instance


def test_library_run_takes_every_option_of_run(home: Path) -> None:
    run_help = amc(home, "run", "--help", env={"COLUMNS": "200"})
    library_help = amc(home, "library", "run", "--help", env={"COLUMNS": "200"})
    assert run_help.returncode == library_help.returncode == 0
    run_options = set(OPTION.findall(run_help.stdout)) - {"--workflow"}
    assert {"--instance", "--param-json", "--no-wait", "--filtered-column"} <= run_options
    assert set(OPTION.findall(library_help.stdout)) == run_options


def test_listing_and_showing_load_no_sandbox_duckdb_or_pyarrow(home: Path) -> None:
    for args in (("library", "list"), ("library", "show", "device_mix")):
        done = amc(home, *args, python=[sys.executable, "-X", "importtime"])
        assert done.returncode == 0, done.stderr
        loaded = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
        assert "amc_manager.service.library" in loaded
        heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
        assert not heavy, heavy
