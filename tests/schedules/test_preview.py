"""`amc schedules preview --json` against slots and windows derived by hand from contracts.md's
rules: DST gaps fire at the first instant after the gap, repeated times fire once at the first;
month ends, the 31st, a leap day, the first business day, and every relative window.

Calendar facts used below (2027): Jan 1 is a Friday; New York springs forward on Sunday Mar 14
(02:00 EST -> 03:00 EDT) and falls back on Sunday Nov 7 (02:00 EDT -> 01:00 EST); Berlin
springs forward on Sunday Mar 28 (02:00 CET -> 03:00 CEST) and falls back on Sunday Oct 31
(03:00 CEST -> 02:00 CET). May 1 2027 is a Saturday, Jun 1 a Tuesday, Jul 1 a Thursday, Aug 1 a
Sunday. 2028 is a leap year.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from amc_manager.cli.app import app


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMC_HOME", str(tmp_path / "home"))


def preview(*args: str) -> Result:
    return CliRunner().invoke(app, ["schedules", "preview", *args])


def slots(*args: str) -> list[dict[str, Any]]:
    result = preview(*args, "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def fires(*args: str) -> list[tuple[str, str]]:
    return [(s["fire_time"], s["fire_time_utc"]) for s in slots(*args)]


def windows(*args: str) -> list[tuple[str, str]]:
    return [(s["window_start"], s["window_end"]) for s in slots(*args)]


NY = ("--timezone", "America/New_York")
BERLIN = ("--timezone", "Europe/Berlin")


def test_json_fields_of_a_slot() -> None:
    assert slots(
        "--every",
        "day",
        "--at",
        "06:00",
        *NY,
        "--window",
        "last:7d:lag:2d",
        "--from",
        "2027-03-15T00:00",
        "--count",
        "1",
    ) == [
        {
            "fire_time": "2027-03-15T06:00:00-04:00",
            "fire_time_utc": "2027-03-15T10:00:00Z",
            "window_start": "2027-03-06T00:00:00",
            "window_end": "2027-03-13T00:00:00",
            "time_zone": "America/New_York",
        }
    ]


def test_new_york_skipped_time_fires_at_the_end_of_the_gap() -> None:
    assert fires(
        "--every",
        "day",
        "--at",
        "02:30",
        *NY,
        "--window",
        "last:1d",
        "--from",
        "2027-03-13T12:00",
        "--count",
        "2",
    ) == [
        ("2027-03-14T03:00:00-04:00", "2027-03-14T07:00:00Z"),
        ("2027-03-15T02:30:00-04:00", "2027-03-15T06:30:00Z"),
    ]


def test_new_york_repeated_time_fires_once_at_the_first() -> None:
    assert fires(
        "--every",
        "day",
        "--at",
        "01:30",
        *NY,
        "--window",
        "last:1d",
        "--from",
        "2027-11-06T12:00",
        "--count",
        "2",
    ) == [
        ("2027-11-07T01:30:00-04:00", "2027-11-07T05:30:00Z"),
        ("2027-11-08T01:30:00-05:00", "2027-11-08T06:30:00Z"),
    ]
    # Hourly: 01:30 happens twice that night and fires once (EDT), then 02:30 EST.
    assert fires(
        "--cron",
        "30 * * * *",
        *NY,
        "--window",
        "last:1d",
        "--from",
        "2027-11-07T00:00:00-04:00",
        "--count",
        "3",
    ) == [
        ("2027-11-07T00:30:00-04:00", "2027-11-07T04:30:00Z"),
        ("2027-11-07T01:30:00-04:00", "2027-11-07T05:30:00Z"),
        ("2027-11-07T02:30:00-05:00", "2027-11-07T07:30:00Z"),
    ]


def test_new_york_minutes_inside_the_gap_fire_once() -> None:
    assert fires(
        "--cron",
        "*/20 2 * * *",
        *NY,
        "--window",
        "last:1d",
        "--from",
        "2027-03-14T00:00",
        "--count",
        "2",
    ) == [
        ("2027-03-14T03:00:00-04:00", "2027-03-14T07:00:00Z"),
        ("2027-03-15T02:00:00-04:00", "2027-03-15T06:00:00Z"),
    ]


def test_berlin_gap_and_repeated_hour() -> None:
    assert fires(
        "--cron",
        "30 2 * * *",
        *BERLIN,
        "--window",
        "last:1d",
        "--from",
        "2027-03-27T12:00",
        "--count",
        "2",
    ) == [
        ("2027-03-28T03:00:00+02:00", "2027-03-28T01:00:00Z"),
        ("2027-03-29T02:30:00+02:00", "2027-03-29T00:30:00Z"),
    ]
    assert fires(
        "--every",
        "day",
        "--at",
        "02:30",
        *BERLIN,
        "--window",
        "last:1d",
        "--from",
        "2027-10-30T12:00",
        "--count",
        "2",
    ) == [
        ("2027-10-31T02:30:00+02:00", "2027-10-31T00:30:00Z"),
        ("2027-11-01T02:30:00+01:00", "2027-11-01T01:30:00Z"),
    ]


def test_month_last_through_a_leap_february() -> None:
    found = slots(
        "--every",
        "month:last",
        "--at",
        "06:00",
        "--window",
        "previous-month",
        "--from",
        "2028-01-15T00:00:00Z",
        "--count",
        "3",
    )
    assert [(s["fire_time_utc"], s["window_start"], s["window_end"]) for s in found] == [
        ("2028-01-31T06:00:00Z", "2027-12-01T00:00:00", "2028-01-01T00:00:00"),
        ("2028-02-29T06:00:00Z", "2028-01-01T00:00:00", "2028-02-01T00:00:00"),
        ("2028-03-31T06:00:00Z", "2028-02-01T00:00:00", "2028-03-01T00:00:00"),
    ]


def test_the_31st_skips_shorter_months() -> None:
    found = slots(
        "--cron", "0 6 31 * *", "--window", "last:7d", "--from", "2028-01-01", "--count", "3"
    )
    assert [(s["fire_time_utc"], s["window_start"], s["window_end"]) for s in found] == [
        ("2028-01-31T06:00:00Z", "2028-01-24T00:00:00", "2028-01-31T00:00:00"),
        ("2028-03-31T06:00:00Z", "2028-03-24T00:00:00", "2028-03-31T00:00:00"),
        ("2028-05-31T06:00:00Z", "2028-05-24T00:00:00", "2028-05-31T00:00:00"),
    ]


def test_leap_day() -> None:
    found = slots(
        "--cron", "0 0 29 2 *", "--window", "month-to-date", "--from", "2027-01-01", "--count", "2"
    )
    assert [(s["fire_time_utc"], s["window_start"], s["window_end"]) for s in found] == [
        ("2028-02-29T00:00:00Z", "2028-02-01T00:00:00", "2028-02-29T00:00:00"),
        ("2032-02-29T00:00:00Z", "2032-02-01T00:00:00", "2032-02-29T00:00:00"),
    ]
    # The day after the leap day: month-to-date covers all of February, the 29th included.
    assert windows(
        "--every",
        "day",
        "--window",
        "month-to-date",
        "--from",
        "2028-02-29T12:00Z",
        "--count",
        "1",
    ) == [("2028-02-01T00:00:00", "2028-03-01T00:00:00")]


def test_first_business_day() -> None:
    found = slots(
        "--every",
        "month:first-business-day",
        "--at",
        "06:00",
        "--window",
        "previous-month",
        "--from",
        "2027-05-01T12:00",
        "--count",
        "4",
    )
    assert [(s["fire_time_utc"], s["window_start"], s["window_end"]) for s in found] == [
        ("2027-05-03T06:00:00Z", "2027-04-01T00:00:00", "2027-05-01T00:00:00"),
        ("2027-06-01T06:00:00Z", "2027-05-01T00:00:00", "2027-06-01T00:00:00"),
        ("2027-07-01T06:00:00Z", "2027-06-01T00:00:00", "2027-07-01T00:00:00"),
        ("2027-08-02T06:00:00Z", "2027-07-01T00:00:00", "2027-08-01T00:00:00"),
    ]


@pytest.mark.parametrize(
    ("window", "start", "end"),
    [
        ("last:7d", "2027-02-24", "2027-03-03"),
        ("last:7d:lag:2d", "2027-02-22", "2027-03-01"),
        ("previous-week", "2027-02-22", "2027-03-01"),
        ("previous-week:MON", "2027-02-22", "2027-03-01"),
        ("previous-week:SUN", "2027-02-21", "2027-02-28"),
        ("previous-week:WED", "2027-02-24", "2027-03-03"),
        ("previous-month", "2027-02-01", "2027-03-01"),
        ("month-to-date", "2027-03-01", "2027-03-03"),
        ("week-to-date", "2027-03-01", "2027-03-03"),
    ],
)
def test_relative_windows_of_a_wednesday_run(window: str, start: str, end: str) -> None:
    """Run date D = Wednesday 2027-03-03 (06:00 UTC)."""
    found = slots(
        "--every",
        "week:WED",
        "--at",
        "06:00",
        "--window",
        window,
        "--from",
        "2027-03-01",
        "--count",
        "1",
    )
    assert found[0]["fire_time_utc"] == "2027-03-03T06:00:00Z"
    assert windows_of(found) == [(f"{start}T00:00:00", f"{end}T00:00:00")]


def windows_of(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(s["window_start"], s["window_end"]) for s in found]


def test_to_date_windows_on_the_first_cover_the_whole_previous_period() -> None:
    # Thursday 2027-04-01: month-to-date is all of March.
    assert windows(
        "--every", "month", "--window", "month-to-date", "--from", "2027-03-15", "--count", "1"
    ) == [("2027-03-01T00:00:00", "2027-04-01T00:00:00")]
    # Monday 2027-03-08 (`week` is week:MON): week-to-date is the whole week before.
    assert windows(
        "--every", "week", "--window", "week-to-date", "--from", "2027-03-02", "--count", "1"
    ) == [("2027-03-01T00:00:00", "2027-03-08T00:00:00")]


def test_windows_are_whole_days_in_the_schedules_zone() -> None:
    # 2027-03-03T01:00 in Tokyo is still 03-02 in UTC: D is Tokyo's date.
    assert slots(
        "--every",
        "day",
        "--at",
        "01:00",
        "--timezone",
        "Asia/Tokyo",
        "--window",
        "last:1d",
        "--from",
        "2027-03-02T12:00",
        "--count",
        "1",
    ) == [
        {
            "fire_time": "2027-03-03T01:00:00+09:00",
            "fire_time_utc": "2027-03-02T16:00:00Z",
            "window_start": "2027-03-02T00:00:00",
            "window_end": "2027-03-03T00:00:00",
            "time_zone": "Asia/Tokyo",
        }
    ]


def test_human_output_warns_about_the_48_hour_lag() -> None:
    late = preview("--every", "day", "--window", "last:1d", "--from", "2027-03-01")
    assert late.exit_code == 0, late.output
    assert "48 hours" in late.stderr and "lag" in late.stderr
    assert len(late.stdout.splitlines()) == 6  # the header and the default 5 slots
    lagged = preview("--every", "day", "--window", "last:7d:lag:2d", "--from", "2027-03-01")
    assert lagged.exit_code == 0 and "48 hours" not in lagged.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--every", "fortnight", "--window", "last:7d"),
        ("--every", "day", "--window", "last:0d"),
        ("--every", "day", "--window", "yesterday"),
        ("--cron", "0 6 * *", "--window", "last:7d"),
        ("--cron", "0 0 30 2 *", "--window", "last:7d"),  # February 30th never comes
        ("--every", "day", "--cron", "0 6 * * *", "--window", "last:7d"),
        ("--every", "day", "--at", "25:00", "--window", "last:7d"),
        ("--every", "day", "--timezone", "Mars/Olympus", "--window", "last:7d"),
    ],
)
def test_bad_specs_are_refused_with_exit_2(args: tuple[str, ...]) -> None:
    from amc_manager.errors import UsageError

    result = preview(*args)
    assert isinstance(result.exception, UsageError), result.output
    assert result.exception.exit_code == 2


def test_preview_loads_neither_the_sandbox_nor_duckdb_nor_pyarrow(tmp_path: Path) -> None:
    """contracts.md: commands that need no AMC call start without them (a fresh interpreter)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from amc_manager.cli.app import app\n"
        "r = CliRunner().invoke(app, ['schedules', 'preview', '--every', 'day', '--window',"
        " 'last:7d', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = ('duckdb', 'pyarrow', 'amc_manager.sandbox')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or"
        " m.startswith('amc_manager.sandbox')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"
