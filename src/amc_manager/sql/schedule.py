"""Schedules as pure functions of (spec, datetime): cadences, slots in a zone, relative windows.

contracts.md ("Schedules"): `--cron` (croniter, evaluated on the schedule's wall clock) or
`--every day|week|week:DAY|month|month:last|month:first-business-day` at `--at HH:MM`; a local
time a DST change skips fires at the first instant after the gap, one that occurs twice fires
once, at the first. Windows are whole days in the zone, from the slot's local date D and never
including D.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from amc_manager.errors import UsageError, WindowError
from amc_manager.sql.windows import AMC_FORMAT, zone_named

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
EVERY_FORMS = "day, week, week:MON..SUN, month, month:last or month:first-business-day"
WINDOW_FORMS = (
    "last:Nd, last:Nd:lag:Ld, previous-week[:MON..SUN], previous-month, month-to-date or "
    "week-to-date"
)
DATA_LAG = timedelta(hours=48)  # AMC's data of the last 48 hours is not complete yet
_AT = re.compile(r"(\d{1,2}):(\d{2})")
_LAST = re.compile(r"last:(\d+)d(?::lag:(\d+)d)?")


@dataclass(frozen=True)
class Cadence:
    """When a schedule fires: a cron expression, or an `--every` form at a local time of day,
    on the wall clock of `time_zone`."""

    time_zone: str
    cron: str | None = None
    every: str | None = None
    at: time = time(0, 0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def parse_cadence(
    *, cron: str | None, every: str | None, at: str | None, time_zone: str | None
) -> Cadence:
    """The cadence the options describe; UsageError naming what is wrong."""
    zone = time_zone or "UTC"
    zone_named(zone)
    if (cron is None) == (every is None):
        raise UsageError(
            "give --cron EXPR or --every FORM (one of them)",
            hint=f"--every is one of {EVERY_FORMS}",
        )
    if cron is not None:
        if at is not None:
            raise UsageError("--at applies to --every", hint="put the time in the cron expression")
        return Cadence(zone, cron=_checked_cron(cron))
    assert every is not None
    return Cadence(zone, every=_checked_every(every), at=parse_at(at or "00:00"))


def parse_at(text: str) -> time:
    found = _AT.fullmatch(text.strip())
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise UsageError(f"--at {text!r} is not a time of day", hint="use HH:MM, e.g. 06:30")
    return time(int(found[1]), int(found[2]))


def _checked_cron(expression: str) -> str:
    text = " ".join(expression.split())
    if len(text.split(" ")) != 5:
        raise UsageError(
            f"cron expression {expression!r} needs 5 fields",
            hint="minute hour day-of-month month day-of-week, e.g. '0 6 * * MON'",
        )
    try:
        croniter(text, datetime(2000, 1, 1))
    except (CroniterBadCronError, ValueError, KeyError) as exc:
        raise UsageError(
            f"cron expression {expression!r} is not valid: {exc}",
            hint="minute hour day-of-month month day-of-week, e.g. '0 6 * * MON'",
        ) from None
    try:  # a date that never comes (February 30th) is refused here, not in the scheduler
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise UsageError(
            f"cron expression {expression!r} never fires",
            hint="check the day of the month against the months named",
        ) from None
    return text


def _checked_every(every: str) -> str:
    """The form as contracts.md spells it (`week` is `week:MON`)."""
    text = every.strip().lower()
    if text == "week":
        return "week:MON"
    if text in ("day", "month", "month:last", "month:first-business-day"):
        return text
    if text.startswith("week:") and text[5:].upper() in WEEKDAYS:
        return "week:" + text[5:].upper()
    raise UsageError(f"--every {every!r} is not a cadence", hint=f"use {EVERY_FORMS}")


# --- slots ------------------------------------------------------------------------------------


def slots_after(cadence: Cadence, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after` (aware), as aware UTC instants."""
    found: list[datetime] = []
    for slot in iter_slots(cadence, after):
        found.append(slot)
        if len(found) >= count:
            break
    return found


def next_slot(cadence: Cadence, after: datetime) -> datetime:
    return next(iter_slots(cadence, after))


def iter_slots(cadence: Cadence, after: datetime) -> Iterator[datetime]:
    """Fire times strictly after `after`, in order, each once.

    The cadence is read on the wall clock: local times come in order and each maps to the
    instant it names; a skipped one to the end of the gap, a repeated one to its first
    occurrence. That mapping never goes backwards, so distinct, later instants are the slots.
    """
    zone = cadence.zone
    if after.tzinfo is None:
        raise ValueError("`after` must be aware")
    wall = after.astimezone(zone).replace(tzinfo=None, microsecond=0)
    last = after
    for local in _wall_times(cadence, wall):
        instant = to_instant(local, zone)
        if instant > last:
            last = instant
            yield instant


def _wall_times(cadence: Cadence, start: datetime) -> Iterator[datetime]:
    """Local wall times of the cadence strictly after `start` (naive), forever."""
    if cadence.cron is not None:
        walker = croniter(cadence.cron, start)
        while True:
            yield walker.get_next(datetime)
    else:
        assert cadence.every is not None
        day = start.date()
        while True:
            moment = datetime.combine(day, cadence.at)
            if moment > start and _matches(cadence.every, day):
                yield moment
            day += timedelta(days=1)


def _matches(every: str, day: date) -> bool:
    if every == "day":
        return True
    if every.startswith("week:"):
        return day.weekday() == WEEKDAYS.index(every[5:].upper())
    if every == "month":
        return day.day == 1
    if every == "month:last":
        return day.day == calendar.monthrange(day.year, day.month)[1]
    return day == first_business_day(day.year, day.month)


def first_business_day(year: int, month: int) -> date:
    """The first Monday-to-Friday day of the month (no holiday calendar)."""
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def to_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant a naive wall time names in `zone`: a time the clocks skip becomes the
    first instant after the gap; a time that happens twice, its first occurrence."""
    first = local.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    # In a gap: fold=0 reads it with the offset before the change (landing after the gap),
    # fold=1 with the one after (landing before it); the change is the first instant after.
    low = int(local.replace(tzinfo=zone, fold=1).timestamp())
    high = int(instant.timestamp())
    before = datetime.fromtimestamp(low, zone).utcoffset()
    while high - low > 1:  # offsets change on whole seconds
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


# --- relative windows -------------------------------------------------------------------------


@dataclass(frozen=True)
class RelativeWindow:
    """A window relative to the run date D: whole days, never including D."""

    text: str

    def bounds(self, run_date: date) -> tuple[date, date]:
        """[first day, day after the last) for a run on `run_date`."""
        return window_bounds(self.text, run_date)


def parse_window(text: str) -> RelativeWindow:
    """A relative window as contracts.md lists them; WindowError otherwise."""
    value = text.strip().lower()
    found = _LAST.fullmatch(value)
    if found is not None:
        if int(found[1]) < 1:
            raise WindowError(f"--window {text!r} covers no day", hint="use last:1d or more")
        return RelativeWindow(value)
    if value in ("previous-month", "month-to-date", "week-to-date", "previous-week"):
        return RelativeWindow(value)
    if value.startswith("previous-week:") and value[14:].upper() in WEEKDAYS:
        return RelativeWindow("previous-week:" + value[14:].upper())  # as contracts.md spells it
    raise WindowError(f"--window {text!r} is not a relative window", hint=f"use {WINDOW_FORMS}")


def window_bounds(text: str, d: date) -> tuple[date, date]:
    found = _LAST.fullmatch(text)
    if found is not None:
        days, lag = int(found[1]), int(found[2] or 0)
        return d - timedelta(days=lag + days), d - timedelta(days=lag)
    if text.startswith("previous-week"):
        weekday = WEEKDAYS.index(text[14:].upper()) if ":" in text else 0
        end = d - timedelta(days=(d.weekday() - weekday) % 7)
        return end - timedelta(days=7), end
    if text == "previous-month":
        end = d.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end
    yesterday = d - timedelta(days=1)
    if text == "month-to-date":
        return yesterday.replace(day=1), d
    if text == "week-to-date":
        return yesterday - timedelta(days=yesterday.weekday()), d
    raise WindowError(f"unknown relative window {text!r}", hint=f"use {WINDOW_FORMS}")


@dataclass(frozen=True)
class Slot:
    """One fire time and the window it runs over (AMC's wall-clock bounds in the zone)."""

    fire_time: datetime  # aware, in the schedule's zone
    window_start: str
    window_end: str
    time_zone: str

    @property
    def fire_time_utc(self) -> datetime:
        return self.fire_time.astimezone(UTC)

    @property
    def window_end_instant(self) -> datetime:
        return datetime.strptime(self.window_end, AMC_FORMAT).replace(
            tzinfo=ZoneInfo(self.time_zone)
        )

    @property
    def data_incomplete(self) -> bool:
        """The window ends less than 48 hours before the fire time (AMC's data lag)."""
        return self.fire_time_utc - self.window_end_instant.astimezone(UTC) < DATA_LAG

    def to_json(self) -> dict[str, str]:
        return {
            "fire_time": self.fire_time.isoformat(),
            "fire_time_utc": self.fire_time_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "window_start": self.window_start,
            "window_end": self.window_end,
            "time_zone": self.time_zone,
        }


def slot_at(instant: datetime, window: RelativeWindow, time_zone: str) -> Slot:
    """The slot firing at `instant` (aware): its local fire time and window."""
    zone = ZoneInfo(time_zone)
    local = instant.astimezone(zone)
    first, end = window.bounds(local.date())
    return Slot(
        fire_time=local,
        window_start=datetime.combine(first, time()).strftime(AMC_FORMAT),
        window_end=datetime.combine(end, time()).strftime(AMC_FORMAT),
        time_zone=time_zone,
    )


def preview(cadence: Cadence, window: RelativeWindow, after: datetime, count: int) -> list[Slot]:
    """The next `count` slots strictly after `after`, nothing stored."""
    return [slot_at(s, window, cadence.time_zone) for s in slots_after(cadence, after, count)]


def parse_from(text: str, time_zone: str) -> datetime:
    """`--from`: a date or date-time; without `Z` or an offset it is in the schedule's zone."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--from {text!r} is not a date-time",
            hint="use 2027-03-14T06:00, 2027-03-14T06:00:00Z or 2027-03-14",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_named(time_zone))
    return moment
