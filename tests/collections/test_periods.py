"""Splitting a collection's window (`--every`) and freezing relative windows: wall-clock days,
weeks and months in the zone, partial first and last windows kept, DST days 23 or 25 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amc_manager.errors import WindowError
from amc_manager.sql import resolve_window
from amc_manager.sql.periods import Every, parse_every, resolve_relative, split
from amc_manager.sql.windows import AMC_FORMAT


def bounds(start: str, end: str, every: str | None, zone: str = "UTC") -> list[tuple[str, str]]:
    window = resolve_window(start=start, end=end, time_zone=zone)
    parts = split(window, parse_every(every) if every else None)
    assert all(p.window_type == "EXPLICIT" and p.time_zone == zone for p in parts)
    return [(p.amc_fields()["timeWindowStart"], p.amc_fields()["timeWindowEnd"]) for p in parts]


def test_every_spellings() -> None:
    assert parse_every("day") == Every("day")
    assert parse_every("WEEK") == Every("week", 0)
    assert parse_every("week:sun") == Every("week", 6)
    assert parse_every("week:WED").name == "week:WED"
    assert parse_every("month").name == "month"
    for bad in ("fortnight", "week:XYZ", "month:last", ""):
        with pytest.raises(WindowError):
            parse_every(bad)


def test_without_every_one_window() -> None:
    assert bounds("2025-07-01", "2025-07-31", None) == [
        ("2025-07-01T00:00:00", "2025-08-01T00:00:00")
    ]


def test_days() -> None:
    assert bounds("2025-07-30", "2025-08-01", "day") == [
        ("2025-07-30T00:00:00", "2025-07-31T00:00:00"),
        ("2025-07-31T00:00:00", "2025-08-01T00:00:00"),
        ("2025-08-01T00:00:00", "2025-08-02T00:00:00"),
    ]


def test_weeks_on_monday_keep_partial_first_and_last_weeks() -> None:
    # 2025-07-02 is a Wednesday; 2025-07-22 a Tuesday.
    assert bounds("2025-07-02", "2025-07-22", "week") == [
        ("2025-07-02T00:00:00", "2025-07-07T00:00:00"),
        ("2025-07-07T00:00:00", "2025-07-14T00:00:00"),
        ("2025-07-14T00:00:00", "2025-07-21T00:00:00"),
        ("2025-07-21T00:00:00", "2025-07-23T00:00:00"),
    ]


def test_weeks_on_sunday_and_whole_weeks_only() -> None:
    # 2025-07-06 is a Sunday: two whole Sunday weeks, no partial ones.
    assert bounds("2025-07-06", "2025-07-19", "week:SUN") == [
        ("2025-07-06T00:00:00", "2025-07-13T00:00:00"),
        ("2025-07-13T00:00:00", "2025-07-20T00:00:00"),
    ]


def test_months_partial_at_both_ends_and_a_leap_february() -> None:
    assert bounds("2024-01-15", "2024-04-10", "month") == [
        ("2024-01-15T00:00:00", "2024-02-01T00:00:00"),
        ("2024-02-01T00:00:00", "2024-03-01T00:00:00"),
        ("2024-03-01T00:00:00", "2024-04-01T00:00:00"),
        ("2024-04-01T00:00:00", "2024-04-11T00:00:00"),
    ]
    assert bounds("2024-11-01", "2025-01-31", "month")[-1] == (
        "2025-01-01T00:00:00",
        "2025-02-01T00:00:00",
    )


def test_a_window_inside_one_period_stays_whole() -> None:
    assert bounds("2025-07-08", "2025-07-09", "week") == [
        ("2025-07-08T00:00:00", "2025-07-10T00:00:00")
    ]
    assert bounds("2025-07-08T06:00:00", "2025-07-08T18:00:00", "day") == [
        ("2025-07-08T06:00:00", "2025-07-08T18:00:00")
    ]


def test_hours_at_the_ends_are_kept() -> None:
    assert bounds("2025-07-01T06:00:00", "2025-07-02T12:00:00", "day") == [
        ("2025-07-01T06:00:00", "2025-07-02T00:00:00"),
        ("2025-07-02T00:00:00", "2025-07-02T12:00:00"),
    ]


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("America/New_York", "2025-03-09", "2025-11-02"),
        ("Europe/Berlin", "2025-03-30", "2025-10-26"),
    ],
)
def test_dst_days_are_local_midnight_to_midnight(zone: str, spring: str, autumn: str) -> None:
    for day, hours in ((spring, 23), (autumn, 25)):
        window = resolve_window(start=day, end=day, time_zone=zone)
        first = datetime.fromisoformat(day)
        around = resolve_window(
            start=str((first - timedelta(days=1)).date()),
            end=str((first + timedelta(days=1)).date()),
            time_zone=zone,
        )
        parts = split(around, Every("day"))
        assert len(parts) == 3
        middle = parts[1]
        assert middle.start == window.start and middle.end == window.end
        assert middle.start is not None and middle.end is not None
        assert (middle.end - middle.start.astimezone(UTC)).total_seconds() == hours * 3600
        assert middle.start.strftime(AMC_FORMAT).endswith("T00:00:00")


def test_weeks_across_dst_follow_the_calendar() -> None:
    parts = bounds("2025-03-03", "2025-03-16", "week", zone="America/New_York")
    assert parts == [
        ("2025-03-03T00:00:00", "2025-03-10T00:00:00"),
        ("2025-03-10T00:00:00", "2025-03-17T00:00:00"),
    ]


def test_a_skipped_midnight_starts_at_the_first_hour_after_the_gap() -> None:
    # America/Santiago skipped 2024-09-08 00:00 (clocks went from 00:00 to 01:00).
    parts = bounds("2024-09-07", "2024-09-08", "day", zone="America/Santiago")
    assert parts == [
        ("2024-09-07T00:00:00", "2024-09-08T01:00:00"),
        ("2024-09-08T01:00:00", "2024-09-09T00:00:00"),
    ]


def test_relative_windows_frozen() -> None:
    now = datetime(2025, 7, 16, 15, 30, tzinfo=UTC)
    fields = {
        kind: resolve_relative(kind, "UTC", now).amc_fields()
        for kind in ("MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH")
    }
    # 48 hours before now is 2025-07-14 15:30: the last complete day ends at 07-14 00:00.
    assert fields["MOST_RECENT_DAY"]["timeWindowStart"] == "2025-07-13T00:00:00"
    assert fields["MOST_RECENT_DAY"]["timeWindowEnd"] == "2025-07-14T00:00:00"
    assert fields["MOST_RECENT_WEEK"]["timeWindowStart"] == "2025-07-07T00:00:00"
    assert fields["CURRENT_MONTH"]["timeWindowStart"] == "2025-07-01T00:00:00"
    assert fields["CURRENT_MONTH"]["timeWindowEnd"] == "2025-07-16T15:00:00"
    assert fields["PREVIOUS_MONTH"]["timeWindowStart"] == "2025-06-01T00:00:00"
    assert fields["PREVIOUS_MONTH"]["timeWindowEnd"] == "2025-07-01T00:00:00"
    everything = resolve_relative("ALL", "Europe/Berlin", now)
    assert everything.start is not None and everything.end is not None
    assert everything.start.strftime(AMC_FORMAT) == "2024-06-16T18:00:00"
    assert everything.end.strftime(AMC_FORMAT) == "2025-07-14T17:00:00"
