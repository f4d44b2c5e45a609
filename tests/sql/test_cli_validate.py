"""`amc validate`: output details in-process through Typer's runner on the real app, exit codes
and error lines as real `amc` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from amc_manager.cli.app import app

AMC = str(Path(sys.executable).with_name("amc"))
VALID = "-- @param min LONG 1\nSELECT campaign, SUM(impressions) AS n FROM dsp_impressions\n" + (
    "WHERE advertiser = {{advertiser}} GROUP BY campaign HAVING SUM(impressions) >= "
    "CUSTOM_PARAMETER('min')\n"
)
INVALID = "SELECT *\nFROM dsp_impressions\nLIMIT 5\n"


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMC_USE_REAL_API", "false")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["validate", *args])


def test_a_valid_file_prints_nothing_and_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", VALID)
    result = invoke(str(path), "--param", "advertiser=Q3 Update Sale", "--param", "min=2")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == f"{path}: no problems found"


def test_problems_go_to_stdout_with_hints_and_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", INVALID)
    result = invoke(str(path))
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"{path}:1:1: error: the query must aggregate: AMC does not export event-level rows"
    )
    assert lines[1].startswith("    hint: ")
    assert f"{path}:1:8: error: SELECT * is not supported" in lines
    assert f"{path}:3:1: error: LIMIT is not supported" in lines
    assert "3 errors" in result.stderr


def test_parameter_and_window_problems_have_no_place(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", VALID)
    result = invoke(
        str(path),
        "--param", "advertiser=a",
        "--param-json", "advertiser=\"b\"",
        "--start", "2020-01-01",
        "--end", "2020-01-31",
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{path}: error: parameter 'advertiser' is given twice" in result.stdout
    assert f"{path}: error: the window starts at 2020-01-01T00:00:00 (UTC)" in result.stdout


def test_a_bad_window_is_reported_with_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", VALID)
    result = invoke(str(path), "--param", "advertiser=a", "--start", "2025-07-01T00:30")
    assert result.exit_code == 2
    assert f"{path}: error: --end is missing" in result.stdout


def test_a_lone_time_zone_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", VALID)
    result = invoke(str(path), "--param", "advertiser=a", "--timezone", "Mars/Base")
    assert result.exit_code == 2
    assert f"{path}: error: unknown time zone 'Mars/Base'" in result.stdout
    assert invoke(str(path), "--param", "advertiser=a", "--timezone", "Asia/Tokyo").exit_code == 0


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", VALID)
    result = invoke(str(path), "--param", "advertiser=a", "--window", "CURRENT_MONTH")
    assert result.exit_code == 0
    assert f"{path}: warning: CURRENT_MONTH runs until now" in result.stdout


def test_json_report(tmp_path: Path) -> None:
    path = write(tmp_path, "q.sql", VALID)
    params = write(tmp_path, "p.json", json.dumps({"advertiser": "it's", "min": 5}))
    result = invoke(
        str(path), "--params-file", str(params), "--window", "MOST_RECENT_WEEK", "--json",
        "--timezone", "Europe/Paris",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["problems"] == []
    assert report["window"] == {
        "timeWindowType": "MOST_RECENT_WEEK",
        "timeWindowTimeZone": "Europe/Paris",
    }


def test_real_mode_without_an_instance_warns_that_names_are_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMC_USE_REAL_API", "true")
    monkeypatch.setenv("AMAZON_CLIENT_ID", "id")
    monkeypatch.setenv("AMAZON_CLIENT_SECRET", "secret")
    monkeypatch.setenv("FERNET_KEY", "key")
    path = write(tmp_path, "q.sql", "SELECT x, COUNT(1) AS n FROM anything GROUP BY x")
    result = invoke(str(path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{path}: warning: no known schema")


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMC_HOME": str(tmp_path / "home"), "AMC_USE_REAL_API": "false"}
    return subprocess.run(
        [AMC, "validate", *args], capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path
    )


def test_amc_validate_exit_codes_and_output(tmp_path: Path) -> None:
    good = write(tmp_path, "good.sql", VALID)
    done = _run(tmp_path, str(good), "--param", "advertiser=x", "--param", "min=3")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"{good}: no problems found\n"
    bad = write(tmp_path, "bad.sql", INVALID)
    done = _run(tmp_path, str(bad), "--start", "2025-07-01", "--end", "2025-06-30")
    assert done.returncode == 2
    assert f"{bad}:3:1: error: LIMIT is not supported\n    hint: " in done.stdout
    assert f"{bad}: error: the window ends before it starts" in done.stdout


def test_a_missing_file_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    done = _run(tmp_path, str(tmp_path / "missing.sql"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: cannot read SQL file {tmp_path / 'missing.sql'}: no such file "
        "(give the path of an .sql file)\n"
    )
