"""START/END/--window/--timezone normalised to AMC's fields, and the window's time rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from amc_manager.errors import UsageError, WindowError
from amc_manager.sql import Severity, resolve_window, retention_start, window_problems

NOW = datetime(2025, 8, 15, 12, 0, tzinfo=UTC)


def fields(**options: str) -> tuple[str, str]:
    amc = resolve_window(**options).amc_fields()
    return amc["timeWindowStart"], amc["timeWindowEnd"]


def refused(**options: str) -> str:
    with pytest.raises(WindowError) as caught:
        resolve_window(**options)
    assert isinstance(caught.value, UsageError)  # exit 2
    assert caught.value.hint
    return caught.value.message


def test_dates_are_midnights_and_a_date_only_end_is_inclusive() -> None:
    assert fields(start="2025-07-01", end="2025-07-31") == (
        "2025-07-01T00:00:00",
        "2025-08-01T00:00:00",
    )
    assert fields(start="2025-07-01", end="2025-07-01") == (
        "2025-07-01T00:00:00",
        "2025-07-02T00:00:00",
    )


def test_dates_are_midnights_in_the_time_zone() -> None:
    window = resolve_window(start="2025-07-01", end="2025-07-01", time_zone="America/New_York")
    assert window.amc_fields() == {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2025-07-01T00:00:00",
        "timeWindowEnd": "2025-07-02T00:00:00",
        "timeWindowTimeZone": "America/New_York",
    }
    assert window.start is not None and window.start.astimezone(UTC).hour == 4


def test_z_and_offsets_are_converted_into_the_zone() -> None:
    assert fields(
        start="2025-07-01T04:00:00Z", end="2025-07-02T04:00:00Z", time_zone="America/New_York"
    ) == ("2025-07-01T00:00:00", "2025-07-02T00:00:00")
    assert fields(start="2025-07-01T08:00:00+02:00", end="2025-07-01T12:00:00+0200") == (
        "2025-07-01T06:00:00",
        "2025-07-01T10:00:00",
    )
    assert fields(start="2025-07-01T00:00:00+05:30", end="2025-07-02", time_zone="Asia/Kolkata")[
        0
    ] == ("2025-07-01T00:00:00")


def test_a_time_in_the_zone_is_kept_as_written() -> None:
    assert fields(
        start="2025-07-01T06:00:00", end="2025-07-01 09:00", time_zone="Europe/Paris"
    ) == (
        "2025-07-01T06:00:00",
        "2025-07-01T09:00:00",
    )


@pytest.mark.parametrize(
    ("start", "zone"),
    [
        ("2025-07-01T00:30:00", "UTC"),
        ("2025-07-01T06:00:01", "UTC"),
        ("2025-07-01T00:00:00Z", "Asia/Kolkata"),
        ("2025-07-01T00:00:00+05:30", "UTC"),
    ],
)
def test_bounds_off_the_hour_in_the_zone_are_refused(start: str, zone: str) -> None:
    assert "not on a whole hour" in refused(start=start, end="2025-07-03", time_zone=zone)


def test_end_not_after_start_is_refused() -> None:
    message = refused(start="2025-07-02", end="2025-07-01")
    assert "ends before it starts" in message
    assert "means 2025-07-02T00:00:00" in message
    assert "ends before it starts" in refused(start="2025-07-01T05:00", end="2025-07-01T05:00")


def test_daylight_saving_gap_is_refused_and_day_lengths_follow_the_zone() -> None:
    assert "does not exist" in refused(
        start="2025-03-09T02:00:00", end="2025-03-10", time_zone="America/New_York"
    )
    window = resolve_window(start="2025-03-09", end="2025-03-09", time_zone="America/New_York")
    assert window.start is not None and window.end is not None
    hours = (window.end.astimezone(UTC) - window.start.astimezone(UTC)).total_seconds() / 3600
    assert hours == 23
    assert window.amc_fields()["timeWindowEnd"] == "2025-03-10T00:00:00"


def test_the_repeated_hour_of_a_fall_back_is_a_warning() -> None:
    window = resolve_window(
        start="2024-11-03T01:00:00", end="2024-11-04", time_zone="America/New_York"
    )
    problems = window_problems(window, now=NOW, file="q.sql")
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "happens twice" in problems[0].message


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"start": "2025-02-30", "end": "2025-03-02"}, "not a valid date"),
        ({"start": "yesterday", "end": "2025-03-02"}, "not a date or a date-time"),
        ({"start": "2025-07-01T25:00", "end": "2025-07-02"}, "not a valid date-time"),
        ({"start": "2025-07-01"}, "--end is missing"),
        ({"end": "2025-07-01"}, "--start is missing"),
        ({"window": "LAST_YEAR"}, "unknown --window"),
        ({"window": "ALL", "start": "2025-07-01"}, "both --window and --start/--end"),
        ({"start": "2025-07-01", "end": "2025-07-02", "time_zone": "Mars/Base"}, "time zone"),
    ],
)
def test_bad_windows_name_the_rule(options: dict[str, str], fragment: str) -> None:
    assert fragment in refused(**options)


def test_relative_windows() -> None:
    window = resolve_window(window="most_recent_week", time_zone="Europe/Paris")
    assert window.amc_fields() == {
        "timeWindowType": "MOST_RECENT_WEEK",
        "timeWindowTimeZone": "Europe/Paris",
    }
    assert window_problems(window, now=NOW, file="q.sql") == []
    current = window_problems(resolve_window(window="CURRENT_MONTH"), now=NOW, file="q.sql")
    assert [p.severity for p in current] == [Severity.WARNING]
    early = datetime(2025, 8, 1, 12, tzinfo=UTC)
    previous = window_problems(resolve_window(window="PREVIOUS_MONTH"), now=early, file="q.sql")
    assert [p.severity for p in previous] == [Severity.WARNING]


def test_retention_is_an_error_and_recent_data_a_warning() -> None:
    old = resolve_window(start="2024-06-01", end="2024-07-31")
    problems = window_problems(old, now=NOW, file="q.sql")
    assert [(p.severity, p.line) for p in problems] == [(Severity.ERROR, None)]
    assert "13-month retention" in problems[0].message
    assert problems[0].hint == "start at 2024-07-15T12:00:00 or later"
    recent = resolve_window(start="2025-08-10", end="2025-08-14")
    problems = window_problems(recent, now=NOW, file="q.sql")
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "48 hours" in problems[0].message
    fine = resolve_window(start="2024-07-16", end="2025-08-12")
    assert window_problems(fine, now=NOW, file="q.sql") == []


def test_retention_start_is_thirteen_calendar_months_back() -> None:
    assert retention_start(NOW) == datetime(2024, 7, 15, 12, tzinfo=UTC)
    end_of_month = datetime(2025, 3, 31, tzinfo=UTC)
    assert retention_start(end_of_month) == datetime(2024, 2, 29, tzinfo=UTC)
