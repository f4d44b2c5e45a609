"""Time windows: START/END, `--window` and `--timezone` normalised to AMC's request fields.

contracts.md (`amc run`): a date means midnight at the start of that day in the time zone, and
a date-only END is inclusive; a date-time is an exact instant, its `Z` or offset converted into
the zone; a bound not on a whole hour in the zone is refused. AMC wants `yyyy-MM-ddTHH:mm:ss`
with no offset (amc-api.md 6.1), keeps 13 months of data and completes it within 48 hours.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amc_manager.catalogue import DATA_LAG, RETENTION_MONTHS
from amc_manager.errors import WindowError
from amc_manager.sql.problems import Problem, Severity, placeless

AMC_FORMAT = "%Y-%m-%dT%H:%M:%S"
RELATIVE_WINDOWS = ("MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH", "ALL")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?", re.I
)
_FORMS_HINT = (
    "use a day (2025-07-01), a time in the time zone (2025-07-01T06:00:00), or an instant "
    "with Z or an offset (2025-07-01T06:00:00Z, 2025-07-01T08:00:00+02:00)"
)


@dataclass(frozen=True)
class TimeWindow:
    """A checked window. EXPLICIT windows carry their bounds as aware times in the zone."""

    window_type: str
    time_zone: str
    start: datetime | None = None
    end: datetime | None = None

    def amc_fields(self) -> dict[str, str]:
        """`timeWindowType`, `timeWindowStart/End` (EXPLICIT only), `timeWindowTimeZone`."""
        fields = {"timeWindowType": self.window_type, "timeWindowTimeZone": self.time_zone}
        if self.start is not None and self.end is not None:
            fields["timeWindowStart"] = self.start.strftime(AMC_FORMAT)
            fields["timeWindowEnd"] = self.end.strftime(AMC_FORMAT)
        return fields


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`; WindowError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(
            f"unknown time zone '{name}'", hint="use an IANA name such as America/New_York or UTC"
        ) from None


def resolve_window(
    *,
    start: str | None = None,
    end: str | None = None,
    window: str | None = None,
    time_zone: str | None = None,
) -> TimeWindow:
    """The window the options describe; WindowError naming the rule a bad one breaks."""
    name = time_zone or "UTC"
    zone = zone_named(name)
    if window is not None:
        if start is not None or end is not None:
            raise WindowError(
                "both --window and --start/--end are given", hint="give one or the other"
            )
        return TimeWindow(_relative(window), name)
    if start is None or end is None:
        missing = "--end" if start is not None else "--start"
        raise WindowError(
            f"{missing} is missing", hint="give --start and --end together, or --window TYPE"
        )
    first = _bound(start, zone, "--start", inclusive_end=False)
    last = _bound(end, zone, "--end", inclusive_end=True)
    if last <= first:
        raise WindowError(
            f"the window ends before it starts: --end {end} means {_show(last)}, --start "
            f"{start} means {_show(first)}",
            hint="give an --end after --start (a date-only --end covers that whole day)",
        )
    return TimeWindow("EXPLICIT", name, first, last)


def _relative(window: str) -> str:
    kind = window.strip().upper()
    if kind not in RELATIVE_WINDOWS:
        raise WindowError(
            f"unknown --window '{window}'",
            hint="use one of " + ", ".join(RELATIVE_WINDOWS) + ", or --start and --end",
        )
    return kind


def _bound(text: str, zone: ZoneInfo, option: str, *, inclusive_end: bool) -> datetime:
    value = text.strip()
    if _DATE.fullmatch(value):
        day = _parse_date(value, option)
        if inclusive_end:
            day += timedelta(days=1)
        return _local(datetime(day.year, day.month, day.day), zone, option)
    if not _DATE_TIME.fullmatch(value):
        raise WindowError(f"{option} '{text}' is not a date or a date-time", hint=_FORMS_HINT)
    moment = _parse_moment(value, option)
    if moment.tzinfo is None:
        local = _local(moment, zone, option)
    else:
        local = moment.astimezone(zone)
    if local.minute or local.second or local.microsecond:
        raise WindowError(
            f"{option} '{text}' is {_show(local)} in {zone.key}, not on a whole hour",
            hint=f"AMC windows start and end on whole hours in the time zone ({zone.key})",
        )
    return local


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WindowError(f"{option} '{text}' is not a valid date", hint=_FORMS_HINT) from None


def _parse_moment(text: str, option: str) -> datetime:
    try:
        return datetime.fromisoformat(text.upper().replace(" ", "T"))
    except ValueError:
        raise WindowError(f"{option} '{text}' is not a valid date-time", hint=_FORMS_HINT) from None


def _local(naive: datetime, zone: ZoneInfo, option: str) -> datetime:
    """A wall-clock time in `zone`; refused when the clocks skip it (a DST gap)."""
    local = naive.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise WindowError(
            f"{option} {naive.strftime(AMC_FORMAT)} does not exist in {zone.key}: the clocks "
            "skip that hour (daylight saving time)",
            hint="pick the next hour, or give the instant with Z or an offset",
        )
    return local


def _show(moment: datetime) -> str:
    return moment.strftime(AMC_FORMAT)


def retention_start(now: datetime) -> datetime:
    """The oldest instant AMC still holds: 13 calendar months before `now`."""
    months = now.year * 12 + now.month - 1 - RETENTION_MONTHS
    year, month = divmod(months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def window_problems(window: TimeWindow, *, now: datetime, file: str) -> list[Problem]:
    """Retention (error), data not complete yet (warning), ambiguous wall-clock bounds."""
    if window.start is None or window.end is None:
        return _relative_problems(window, now, file)
    problems: list[Problem] = []
    earliest = retention_start(now).astimezone(window.start.tzinfo)
    if window.start < earliest:
        problems.append(
            placeless(
                file,
                f"the window starts at {_show(window.start)} ({window.time_zone}), before AMC's "
                f"{RETENTION_MONTHS}-month retention (data from {_show(earliest)} on)",
                f"start at {_show(_next_hour(earliest))} or later",
            )
        )
    ready = (now - DATA_LAG).astimezone(window.end.tzinfo)
    if window.end > ready:
        problems.append(_incomplete(file, f"the window ends at {_show(window.end)}", ready))
    problems += [_ambiguous(file, bound, window.time_zone) for bound in _ambiguous_bounds(window)]
    return problems


def _next_hour(moment: datetime) -> datetime:
    whole = moment.replace(minute=0, second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(hours=1)


def _incomplete(file: str, what: str, ready: datetime) -> Problem:
    return placeless(
        file,
        f"{what}, later than 48 hours ago: AMC's data of the last 48 hours is not complete yet",
        f"end at {_show(ready.replace(minute=0, second=0, microsecond=0))} or earlier for "
        "complete data",
        Severity.WARNING,
    )


def _ambiguous_bounds(window: TimeWindow) -> list[datetime]:
    bounds = [b for b in (window.start, window.end) if b is not None]
    return [b for b in bounds if b.replace(fold=0).utcoffset() != b.replace(fold=1).utcoffset()]


def _ambiguous(file: str, bound: datetime, zone: str) -> Problem:
    return placeless(
        file,
        f"{_show(bound)} happens twice in {zone} (the clocks go back); AMC reads the wall-clock "
        "time, so the window may be an hour off",
        "move the bound off the repeated hour",
        Severity.WARNING,
    )


def _relative_problems(window: TimeWindow, now: datetime, file: str) -> list[Problem]:
    zone = ZoneInfo(window.time_zone)
    local_now = now.astimezone(zone)
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ready = (now - DATA_LAG).astimezone(zone)
    if window.window_type == "CURRENT_MONTH":
        return [_incomplete(file, "CURRENT_MONTH runs until now", ready)]
    if window.window_type == "PREVIOUS_MONTH" and month_start > ready:
        return [_incomplete(file, f"PREVIOUS_MONTH ends at {_show(month_start)}", ready)]
    return []
