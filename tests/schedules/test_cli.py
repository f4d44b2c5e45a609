"""`amc schedules create|list|show|pause|resume|run-now|delete` as a user types them (Typer's
runner on the real app, over the embedded sandbox in a private AMC_HOME)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from amc_manager.cli.app import app
from amc_manager.errors import AmcManagerError


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("AMC_")]:
        if name != "AMC_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps({"duration": "0.3", "throttle_rate": 0}))
    monkeypatch.setenv("AMC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMC_SANDBOX_CONFIG", str(config))
    monkeypatch.setenv("COLUMNS", "120")


def amc(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def amc_json(*args: str) -> Any:
    return json.loads(amc(*args, "--json"))


def test_the_commands_of_a_schedule_s_life() -> None:
    created = CliRunner().invoke(
        app,
        [
            "schedules",
            "create",
            "--workflow",
            "weekly-report",
            "--instance",
            "amc515g6p1w",
            "--every",
            "week:FRI",
            "--at",
            "07:15",
            "--timezone",
            "Asia/Tokyo",
            "--window",
            "previous-week:MON",
            "--param",
            "brand=Acme",
            "--name",
            "fridays",
            "--pause-after",
            "2",
        ],
    )
    assert created.exit_code == 0, created.output
    schedule_id = created.stdout.strip()
    assert "no live worker" in created.stderr  # nobody would fire it yet
    assert len(schedule_id) == 36
    (listed,) = amc_json("schedules", "list")
    assert (listed["id"], listed["every"], listed["at"], listed["time_zone"]) == (
        schedule_id,
        "week:FRI",
        "07:15",
        "Asia/Tokyo",
    )
    assert listed["parameters"] == {"brand": "Acme"} and listed["pause_after"] == 2
    table = amc("schedules", "list")
    assert schedule_id[:6] in table and "week:FRI 07:15 Asia/Tokyo" in table
    shown = amc_json("schedules", "show", schedule_id[:7])
    assert [s["fire_time"][10:] for s in shown["next_slots"]] == ["T07:15:00+09:00"] * 5
    assert shown["runs"] == [] and "runs" not in listed  # show always carries its history
    assert amc("schedules", "pause", schedule_id[:8]).strip() == f"{schedule_id} paused"
    paused = amc_json("schedules", "show", schedule_id)
    assert (paused["state"], paused["next_slots"], paused["runs"]) == ("paused", [], [])
    assert amc("schedules", "resume", schedule_id).startswith(f"{schedule_id} active; next ")
    execution_id = amc("schedules", "run-now", schedule_id).strip()
    (run,) = amc_json("schedules", "show", schedule_id)["runs"]
    assert (run["execution_id"], run["manual"]) == (execution_id, True)
    execution = amc_json("executions", "show", execution_id)
    assert (execution["workflow_id"], execution["parameters"]) == (
        "weekly-report",
        {"brand": "Acme"},
    )
    assert execution["time_window_start"] == run["window_start"]
    assert amc("schedules", "delete", schedule_id).strip() == f"{schedule_id} deleted"
    assert amc_json("schedules", "list") == []
    assert "48 hours" not in created.stderr  # previous-week:MON on Fridays: days of margin
    late = CliRunner().invoke(
        app,
        ["schedules", "create", "--workflow", "w", "--instance", "amc515g6p1w"]
        + ["--every", "day", "--window", "last:1d"],
    )
    assert late.exit_code == 0 and "48 hours" in late.stderr and "add a lag" in late.stderr


def test_unknown_and_short_ids_are_refused() -> None:
    for ref in ("abc", "ffffffff"):
        result = CliRunner().invoke(app, ["schedules", "show", ref])
        assert isinstance(result.exception, AmcManagerError)
        assert result.exception.exit_code == 2
