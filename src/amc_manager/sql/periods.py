"""Splitting a window into a collection's windows (`--every day|week|week:MON..SUN|month`), and
AMC's relative windows resolved to explicit bounds, all on wall-clock days in the time zone.

contracts.md ("Collections"): `--every` splits [START, END) into whole days, weeks starting on
the given weekday (default Monday) or calendar months; a partial first or last week (or month)
is kept as its own shorter window. Boundaries are local midnights, so a day is 23 or 25 hours
long across a DST change, and a week or month follows the calendar, not a count of hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from amc_manager.catalogue import DATA_LAG
from amc_manager.errors import WindowError
from amc_manager.sql.windows import TimeWindow, retention_start, zone_named

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
EVERY_HINT = "use --every day, week, week:MON..week:SUN or month"


@dataclass(frozen=True)
class Every:
    """How a collection's window is cut: `unit` day, week or month; weeks start on `weekday`
    (0 Monday .. 6 Sunday)."""

    unit: str
    weekday: int = 0

    @property
    def name(self) -> str:
        """The canonical spelling, as stored: `day`, `week:MON`.., `month`."""
        return f"week:{WEEKDAYS[self.weekday]}" if self.unit == "week" else self.unit


def parse_every(text: str) -> Every:
    """`day`, `week` (= `week:MON`), `week:MON`..`week:SUN` or `month`, any case."""
    value = text.strip().lower()
    if value in ("day", "month", "week"):
        return Every(value)
    unit, _, day = value.partition(":")
    if unit == "week" and day.upper() in WEEKDAYS:
        return Every("week", WEEKDAYS.index(day.upper()))
    raise WindowError(f"unknown --every {text!r}", hint=EVERY_HINT)


def split(window: TimeWindow, every: Every | None) -> list[TimeWindow]:
    """The windows that cover `window` exactly, in order; without `every`, `window` itself."""
    if window.start is None or window.end is None:
        raise WindowError("only an explicit window can be split", hint="give --start and --end")
    if every is None:
        return [window]
    zone = ZoneInfo(window.time_zone)
    bounds = [window.start]
    cursor = _next_boundary(window.start.replace(tzinfo=None), every)
    while True:
        moment = _at(cursor, zone)
        if moment >= window.end:
            break
        if moment > bounds[-1]:
            bounds.append(moment)
        cursor = _next_boundary(cursor, every)
    bounds.append(window.end)
    return [
        TimeWindow("EXPLICIT", window.time_zone, first, last)
        for first, last in zip(bounds, bounds[1:], strict=False)
    ]


def _next_boundary(local: datetime, every: Every) -> datetime:
    """The first boundary strictly after the wall-clock time `local` (naive)."""
    day = local.date()
    if every.unit == "day":
        following = day + timedelta(days=1)
    elif every.unit == "week":
        ahead = (every.weekday - day.weekday()) % 7 or 7
        following = day + timedelta(days=ahead)
    else:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return datetime(following.year, following.month, following.day)


def _at(naive: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time in `zone`; a midnight the clocks skip becomes the first instant
    after the gap (AMC's windows are whole hours in the zone, which that instant is)."""
    local = naive.replace(tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone)


def resolve_relative(kind: str, time_zone: str, now: datetime) -> TimeWindow:
    """AMC's relative window `kind`, as AMC computes it at `now`, frozen into explicit bounds:
    MOST_RECENT_* end at the last local midnight before the 48-hour data lag, the month types
    follow the calendar, ALL is everything retained up to the data lag."""
    zone = zone_named(time_zone)
    local_now = now.astimezone(zone)
    ready = (now - DATA_LAG).astimezone(zone)
    anchor = _at(datetime(ready.year, ready.month, ready.day), zone)
    month = _at(datetime(local_now.year, local_now.month, 1), zone)
    if kind == "MOST_RECENT_DAY":
        start, end = _days_before(anchor, 1, zone), anchor
    elif kind == "MOST_RECENT_WEEK":
        start, end = _days_before(anchor, 7, zone), anchor
    elif kind == "CURRENT_MONTH":
        start, end = month, local_now.replace(minute=0, second=0, microsecond=0)
    elif kind == "PREVIOUS_MONTH":
        before = month.replace(tzinfo=None) - timedelta(days=1)
        start, end = _at(datetime(before.year, before.month, 1), zone), month
    elif kind == "ALL":
        earliest = retention_start(now).astimezone(zone)
        start = earliest.replace(minute=0, second=0, microsecond=0)
        if start < earliest:
            start += timedelta(hours=1)
        end = ready.replace(minute=0, second=0, microsecond=0)
    else:
        raise WindowError(f"unknown --window {kind!r}")
    if end <= start:
        end = start + timedelta(hours=1)
    return TimeWindow("EXPLICIT", time_zone, start, end)


def _days_before(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    return _at(moment.replace(tzinfo=None) - timedelta(days=days), zone)
