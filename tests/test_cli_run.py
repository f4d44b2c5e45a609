"""`amc run` and friends as users run them: exit codes, one-line errors, outputs, --json."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from amc_manager.store.store import head_revision
from tests.windows import day_window

AMC = str(Path(sys.executable).with_name("amc"))
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "campaign_performance.sql"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "sandbox.json").write_text(json.dumps({"duration": "0.3", "throttle_rate": 0}))
    return tmp_path


def amc(
    home: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    python: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`amc ARGS` in a subprocess on this test's AMC_HOME (`env` adds variables; `python`
    runs the console script under that interpreter command, e.g. with `-X importtime`)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AMC_")}
    environ.update(
        AMC_HOME=str(home / "home"),
        AMC_SANDBOX_CONFIG=str(home / "sandbox.json"),
        AMC_POLL_INTERVAL="0.2",
        NO_COLOR="1",
        COLUMNS="200",
    )
    environ.update(env or {})
    return subprocess.run(
        [*(python or []), AMC, *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=home,
        input=stdin,
        timeout=180,
    )


def run_sql(home: Path, sql: str, instance: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`amc run SQL --instance I` over the test window (a day ending 3 days ago), plus `extra`."""
    start, end = day_window(2)
    return amc(home, "run", sql, "--instance", instance, "--start", start, "--end", end, *extra)


def _instance(home: Path) -> str:
    done = amc(home, "instances", "list", "--json")
    assert done.returncode == 0, done.stderr
    instance: str = json.loads(done.stdout)[0]["instance_id"]
    return instance


def _executions_in_store(home: Path) -> int:
    db = home / "home" / "amc-manager.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM workflow_executions").fetchone()[0])


def test_run_writes_rows_and_json_listing(home: Path) -> None:
    instance = _instance(home)
    out = home / "rows.csv"
    done = run_sql(home, str(EXAMPLE), instance, "--output", str(out))
    assert done.returncode == 0, done.stderr
    execution_id = done.stdout.splitlines()[0]
    lines = out.read_text().splitlines()
    assert lines[0] == "advertiser,campaign,impressions,reach,spend_usd,cpm_usd"
    assert len(lines) == 9
    shown = json.loads(amc(home, "executions", "show", execution_id, "--json").stdout)
    for key in (
        "id",
        "amc_execution_id",
        "instance_id",
        "state",
        "amc_status",
        "time_window_start",
        "time_window_end",
        "time_zone",
        "created_at",
        "updated_at",
        "row_count",
        "result_path",
        "error",
    ):
        assert key in shown
    assert shown["state"] == "succeeded" and shown["row_count"] == 8
    assert shown["instance_id"] == instance
    listed = json.loads(amc(home, "executions", "list", "--json").stdout)
    assert [e["id"] for e in listed] == [execution_id]
    as_jsonl = amc(home, "results", execution_id, "--format", "jsonl")
    assert as_jsonl.returncode == 0 and len(as_jsonl.stdout.splitlines()) == 8
    as_csv = amc(home, "results", execution_id)
    assert as_csv.stdout.splitlines()[0].startswith("advertiser,campaign")
    parquet = amc(home, "results", execution_id, "--format", "parquet")
    assert parquet.returncode == 2 and "Parquet needs --output" in parquet.stderr
    cancel = amc(home, "executions", "cancel", execution_id)
    assert cancel.returncode == 1 and "already finished" in cancel.stderr


def test_no_wait_then_wait(home: Path) -> None:
    start, end = day_window(2)
    instance = _instance(home)
    done = run_sql(home, str(EXAMPLE), instance, "--no-wait")
    assert done.returncode == 0, done.stderr
    execution_id = done.stdout.strip().splitlines()[0]
    waited = amc(home, "executions", "wait", execution_id)
    assert waited.returncode == 0, waited.stderr
    assert "succeeded" in waited.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--instance", "amcnosuch01"], "unknown instance"),
        (["--start", "{end}", "--end", "{start}"], "ends before it starts"),
        (["--start", "{start}T00:30"], "not on a whole hour"),
        (["--param", "novalue"], "is not NAME=VALUE"),
        (["--output", "/nonexistent-dir/x.csv"], "cannot write --output"),
        (["--timeout", "60"], "900-86400"),
        (["--format", "xlsx"], "unknown format"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(
    home: Path, args: list[str], fragment: str
) -> None:
    start, end = day_window(2)
    instance = _instance(home)
    before = _executions_in_store(home)
    base = {"--instance": instance, "--start": start, "--end": end}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1].format(start=start, end=end)
    flat = [item for pair in base.items() for item in pair]
    done = amc(home, "run", str(EXAMPLE), *flat)
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert _executions_in_store(home) == before


def test_unreadable_sql_file_and_missing_token(home: Path) -> None:
    start, end = day_window(2)
    instance = _instance(home)
    done = run_sql(home, str(home / "missing.sql"), instance)
    assert done.returncode == 2 and "cannot read SQL file" in done.stderr
    other = amc(
        home,
        "--debug",
        "run",
        str(EXAMPLE),
        "--instance",
        instance,
        "--start",
        start,
        "--end",
        end,
        "--as",
        "someone@example.com",
    )
    assert other.returncode == 2
    assert "unknown instance" in other.stderr or "no stored token" in other.stderr


def test_invalid_sql_is_exit_2_with_position(home: Path) -> None:
    bad = home / "bad.sql"
    bad.write_text(
        "SELECT campaign, SUM(impressions) AS n\nFROM dsp_impressions GROUP BY 1 LIMIT 3\n"
    )
    done = run_sql(home, str(bad), _instance(home))
    assert done.returncode == 2
    assert f"{bad}:2:" in done.stderr


@pytest.mark.parametrize("late", [False, True], ids=["refused-at-submission", "failed-later"])
def test_sql_refused_by_amc_at_submission_exits_2(home: Path, late: bool) -> None:
    """AMC refusing the SQL at submission is the request's fault (exit 2); with compile errors
    surfacing late AMC accepted the request, so the FAILED run is a failure later (exit 1).
    AMC's text is the same either way."""
    knobs = {"duration": "0.3", "throttle_rate": 0, "late_compile_errors": late}
    (home / "sandbox.json").write_text(json.dumps(knobs))
    bad = home / "bad.sql"
    bad.write_text("SELECT campaign FROM dsp_impressions LIMIT 3\n")
    done = run_sql(home, str(bad), _instance(home), "--no-lint")
    assert done.returncode == (1 if late else 2), done.stderr
    assert "Was unable to compile workflow" in done.stderr
    assert "LIMIT is not supported" in done.stderr and done.stderr.count("\n") == 1
    expected = "ended failed: execution " if late else "AMC refused the request"
    assert expected in done.stderr, done.stderr


def test_db_upgrade_and_validate_registered(home: Path) -> None:
    upgraded = amc(home, "db", "upgrade")
    assert upgraded.returncode == 0 and head_revision() in upgraded.stdout
    checked = amc(home, "validate", str(EXAMPLE))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_execution_failed_at_amc_exits_1(home: Path) -> None:
    (home / "sandbox.json").write_text(
        json.dumps(
            {"duration": "0.3", "throttle_rate": 0, "faults": {"execution_failure_rate": 1.0}}
        )
    )
    done = run_sql(home, str(EXAMPLE), _instance(home))
    assert done.returncode == 1, done.stderr
    assert "ended failed" in done.stderr and "Internal error" in done.stderr
    assert done.stderr.count("\n") == 1


def test_saved_workflows_push_run_and_delete(home: Path) -> None:
    instance = _instance(home)
    sql = home / "by_device.sql"
    sql.write_text(
        '-- @param device STRING "Phone"\n'
        "SELECT device_type, SUM(impressions) AS impressions FROM dsp_impressions\n"
        "WHERE device_type = CUSTOM_PARAMETER('device') GROUP BY device_type\n"
    )
    assert (
        amc(
            home, "workflows", "push", str(sql), "--id", "by-device", "--instance", instance
        ).returncode
        == 0
    )
    listed = json.loads(amc(home, "workflows", "list", "--instance", instance, "--json").stdout)
    assert listed == [{"workflow_id": "by-device", "parameters": 1}]
    shown = amc(home, "workflows", "show", "by-device", "--instance", instance)
    assert "CUSTOM_PARAMETER('device')" in shown.stdout
    start, end = day_window(2)
    out = home / "tablet.jsonl"
    ran = amc(
        home,
        "run",
        "--workflow",
        "by-device",
        "--instance",
        instance,
        "--start",
        start,
        "--end",
        end,
        "--param",
        "device=Tablet",
        "--output",
        str(out),
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(out.read_text().splitlines()[0])["device_type"] == "Tablet"
    placeholders = home / "templated.sql"
    placeholders.write_text(
        "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions "
        "WHERE campaign = {{campaign}} GROUP BY campaign\n"
    )
    refused = amc(home, "workflows", "push", str(placeholders), "--id", "t", "--instance", instance)
    assert refused.returncode == 2 and "placeholders" in refused.stderr
    assert amc(home, "workflows", "delete", "by-device", "--instance", instance).returncode == 0
    assert json.loads(amc(home, "workflows", "list", "--instance", instance, "--json").stdout) == []


def test_thinned_and_empty_results_come_with_advice(home: Path) -> None:
    instance = _instance(home)
    by_postal = home / "postal.sql"
    by_postal.write_text(
        "SELECT postal_code, SUM(impressions) AS impressions, "
        "COUNT(DISTINCT user_id) AS users FROM dsp_impressions GROUP BY 1\n"
    )
    ran = run_sql(
        home,
        str(by_postal),
        instance,
        "--filtered-column",
        "filtered",
        "--output",
        str(home / "postal.jsonl"),
    )
    assert ran.returncode == 0, ran.stderr
    rows = [json.loads(line) for line in (home / "postal.jsonl").read_text().splitlines()]
    assert any(r["filtered"] is True and r["postal_code"] is None for r in rows)
    shown = json.loads(amc(home, "executions", "show", ran.stdout.split()[0], "--json").stdout)
    assert shown["advice"] and "postal_code" in shown["advice"]
    empty = home / "empty.sql"
    empty.write_text(
        "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions "
        "WHERE campaign = 'no such campaign' GROUP BY campaign\n"
    )
    ran = run_sql(home, str(empty), instance)
    assert ran.returncode == 0, ran.stderr
    shown = json.loads(amc(home, "executions", "show", ran.stdout.split()[0], "--json").stdout)
    assert shown["row_count"] == 0 and "empty" in shown["advice"]
