"""Windows for tests that AMC's data lag never holds pending, at any hour and on any weekday.

AMC (and the sandbox) hold a run whose window ends within the last 48 hours until its data is
in. A window that ends at 00:00 UTC three days ago, or whose last whole UTC day is three days
ago, ends at least 48 hours back whatever the hour. A window read in a time zone west of UTC
ends later in UTC terms (America/New_York: up to 5 hours), so such a test ends it a day
earlier (`end_days_ago=4`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

AMC_TIME = "%Y-%m-%dT%H:%M:%S"


def days_ago(days: int) -> date:
    """The UTC date `days` days before today."""
    return datetime.now(UTC).date() - timedelta(days=days)


def amc_window(days: int = 1, *, end_days_ago: int = 3) -> tuple[str, str]:
    """AMC's explicit window (timestamps; the end excluded) of `days` whole UTC days ending at
    00:00 `end_days_ago` days ago."""
    end = datetime.combine(days_ago(end_days_ago), datetime.min.time())
    return (end - timedelta(days=days)).strftime(AMC_TIME), end.strftime(AMC_TIME)


def day_window(days: int = 1, *, end_days_ago: int = 3) -> tuple[str, str]:
    """Dates, both included, of `days` whole days, the last one `end_days_ago` days ago."""
    last = days_ago(end_days_ago)
    return str(last - timedelta(days=days - 1)), str(last)


def whole_weeks(count: int, *, end_days_ago: int = 3) -> tuple[str, str]:
    """Dates, both included, of `count` whole Monday-to-Sunday weeks, the last Sunday at
    least `end_days_ago` days ago."""
    latest = days_ago(end_days_ago)
    last_sunday = latest - timedelta(days=(latest.weekday() + 1) % 7)
    return str(last_sunday - timedelta(days=7 * count - 1)), str(last_sunday)


def window_fields(days: int = 2, *, end_days_ago: int = 3) -> dict[str, str]:
    """`start` and `end` as REST and the use cases take them (`day_window`'s dates)."""
    start, end = day_window(days, end_days_ago=end_days_ago)
    return {"start": start, "end": end}
