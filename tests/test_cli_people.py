"""The CLI for people: id prefixes, tables that fit 80 columns, timelines, private files,
fast start-up, and one check for every way in (`run` refuses what `validate` refuses)."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_run import (
    AMC,
    EXAMPLE,
    _executions_in_store,
    _instance,
    amc,
    home,
    run_sql,
)
from tests.windows import day_window

__all__ = ["home"]  # the fixture, shared with tests/test_cli_run.py
HEAVY = ("duckdb", "pyarrow", "amc_manager.sandbox")


def _ids(home: Path) -> list[str]:
    listed = amc(home, "executions", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [item["id"] for item in json.loads(listed.stdout)]


def test_prefixes_timeline_and_80_columns(home: Path) -> None:
    instance = _instance(home)
    done = run_sql(home, str(EXAMPLE), instance)
    assert done.returncode == 0, done.stderr
    execution_id = done.stdout.splitlines()[0]
    shown = amc(home, "executions", "show", execution_id[:8])
    assert shown.returncode == 0, shown.stderr
    assert execution_id in shown.stdout  # the full id
    states = re.findall(r"^\s+\S+Z\s+(\w+)", shown.stdout, re.MULTILINE)
    assert states[0] == "queued" and states[-1] == "succeeded"
    assert {"submitting", "downloading"} <= set(states)
    timeline = json.loads(amc(home, "executions", "show", execution_id, "--json").stdout)
    assert [e["state"] for e in timeline["timeline"]] == states
    narrow = amc(home, "executions", "list", env={"COLUMNS": "80"})
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines), narrow.stdout
    short = lines[1].split()[0]
    assert 6 <= len(short) < len(execution_id) and execution_id.startswith(short)
    assert amc(home, "executions", "show", short).returncode == 0


def test_an_ambiguous_prefix_is_refused_with_its_matches(home: Path) -> None:
    instance = _instance(home)
    for _ in range(2):
        assert run_sql(home, str(EXAMPLE), instance, "--no-wait").returncode == 0
    first, second = _ids(home)
    twin = first[:8] + second[8:]  # make the two ids share their first 8 characters
    with sqlite3.connect(home / "home" / "amc-manager.db") as conn:
        for table in ("execution_events", "workflow_executions"):
            column = "execution_id" if table == "execution_events" else "id"
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (twin, second))
    refused = amc(home, "executions", "show", first[:7])
    assert refused.returncode == 2
    assert "ambiguous" in refused.stderr and first in refused.stderr and twin in refused.stderr
    too_short = amc(home, "executions", "show", first[:4])
    assert too_short.returncode == 2 and "at least 6" in too_short.stderr
    listed = amc(home, "executions", "list", env={"COLUMNS": "80"}).stdout.splitlines()[1:]
    shorts = {line.split()[0] for line in listed}
    shared = next(i for i, (a, b) in enumerate(zip(first, twin, strict=True)) if a != b)
    assert shorts == {first[: shared + 1], twin[: shared + 1]}  # shortest unique prefixes


def test_collections_take_prefixes_and_show_cells_by_shortest_prefix(home: Path) -> None:
    instance = _instance(home)
    start, end = day_window(2)
    window = ("--instance", instance, "--start", start, "--end", end, "--every", "day")
    made = [amc(home, "collections", "create", str(EXAMPLE), *window) for _ in range(2)]
    assert [m.returncode for m in made] == [0, 0], made[0].stderr
    assert "no live worker" in made[0].stderr  # nobody would drive it yet
    first, second = (m.stdout.splitlines()[0] for m in made)
    shown = amc(home, "collections", "show", first[:7], env={"COLUMNS": "80"})
    assert shown.returncode == 0 and "no live worker" in shown.stderr, shown.stderr
    lines = shown.stdout.splitlines()
    assert first in shown.stdout and all(len(line) <= 80 for line in lines), shown.stdout
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["window", "instance"])
    listed = [line.split()[3] for line in lines[header + 1 :]]
    executions = json.loads(amc(home, "executions", "list", "--json").stdout)
    every = [e["id"] for e in executions]
    expected = {
        next(e[:n] for n in range(6, 37) if sum(i.startswith(e[:n]) for i in every) == 1)
        for e in (x["id"] for x in executions if x["collection_id"] == first)
    }
    assert len(listed) == 2 and set(listed) == expected  # cells' executions, shortest prefixes
    twin = first[:8] + second[8:]  # the two collections now share their first 8 characters
    with sqlite3.connect(home / "home" / "amc-manager.db") as conn:
        conn.execute("UPDATE collections SET id = ? WHERE id = ?", (twin, second))
        for table in ("collection_cells", "workflow_executions"):
            conn.execute(
                f"UPDATE {table} SET collection_id = ? WHERE collection_id = ?", (twin, second)
            )
    refused = amc(home, "collections", "pause", first[:7])
    assert refused.returncode == 2
    assert "ambiguous" in refused.stderr and first in refused.stderr and twin in refused.stderr


def test_nothing_under_amc_home_is_readable_by_others(home: Path) -> None:
    done = run_sql(home, str(EXAMPLE), _instance(home), "--output", str(home / "rows.csv"))
    assert done.returncode == 0, done.stderr
    root = home / "home"
    exposed = [
        str(path) for path in [root, *root.rglob("*")] if stat.S_IMODE(path.lstat().st_mode) & 0o077
    ]
    assert not exposed, exposed
    assert stat.S_IMODE((home / "rows.csv").stat().st_mode) & 0o044  # the user's own umask


def test_run_refuses_a_window_before_retention_like_validate(home: Path) -> None:
    instance = _instance(home)
    before = _executions_in_store(home)
    window = ("--start", "2020-01-01", "--end", "2020-01-02")
    ran = amc(home, "run", str(EXAMPLE), "--instance", instance, *window)
    checked = amc(home, "validate", str(EXAMPLE), *window)
    assert ran.returncode == 2 and checked.returncode == 2
    message = re.search(r": error: (.*retention.*)$", checked.stdout, re.MULTILINE)
    assert message is not None, checked.stdout
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")  # "now" moved on in between
    assert stamp.sub("T", message.group(1)) in stamp.sub("T", ran.stderr)
    assert ran.stderr.count("\n") == 1
    assert _executions_in_store(home) == before


@pytest.mark.parametrize("where", ["file-as-folder", "proc"])
def test_an_output_nobody_can_create_is_refused_before_submission(home: Path, where: str) -> None:
    if where == "proc" and not Path("/proc/self").exists():
        pytest.skip("no /proc on this system")
    (home / "plain.txt").write_text("x")
    target = home / "plain.txt" / "rows.csv" if where == "file-as-folder" else Path("/proc/x.csv")
    instance = _instance(home)
    before = _executions_in_store(home)
    done = run_sql(home, str(EXAMPLE), instance, "--output", str(target))
    assert done.returncode == 2 and "cannot write --output" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert _executions_in_store(home) == before


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("executions", "list"),
        ("users", "list"),
        ("tokens", "list"),
        ("schedules", "preview", "--every", "day", "--window", "last:7d"),
        ("schedules", "list"),
        ("collections", "list"),
        ("workers", "list"),
        ("db", "prune"),  # deletes files of a folder without reading them: no pyarrow
    ],
)
def test_commands_without_amc_calls_load_no_sandbox_duckdb_or_pyarrow(
    home: Path, args: tuple[str, ...]
) -> None:
    done = amc(home, *args, python=[sys.executable, "-X", "importtime"])
    assert done.returncode == 0, done.stderr
    loaded = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert loaded, "python -X importtime printed nothing"
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert not heavy, heavy


def test_importtime_scan_would_see_pyarrow(home: Path) -> None:
    """The start-up check can fail: a command that reads results does load pyarrow."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pyarrow.parquet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert any(line.split("|")[-1].strip() == "pyarrow" for line in done.stderr.splitlines())
    assert Path(AMC).exists()
