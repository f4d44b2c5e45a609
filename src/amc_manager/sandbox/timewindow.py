"""AMC's time rules: request timestamps, time zones, relative windows and data gaps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amc_manager.catalogue import DATA_LAG
from amc_manager.sandbox.errors import BadRequest

AMC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
RELATIVE_TYPES = ("MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH", "ALL")
WINDOW_TYPES = ("EXPLICIT", *RELATIVE_TYPES)


def utc_now() -> datetime:
    """Naive UTC now; the sandbox keeps every instant naive UTC internally."""
    return datetime.now(UTC).replace(tzinfo=None)


def format_utc(moment: datetime) -> str:
    """AMC's response form for instants: `yyyy-MM-ddTHH:mm:ssZ`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def zone(name: str, field: str = "timeWindowTimeZone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"Invalid {field}: '{name}' is not a valid IANA time zone.") from None


def parse_local(value: object, field: str) -> datetime:
    """A request timestamp: `yyyy-MM-ddTHH:mm:ss`, no `Z`, no offset, no fraction."""
    if not isinstance(value, str) or not AMC_TIMESTAMP.match(value):
        raise BadRequest(
            f"Invalid {field}: '{value}'. Expected format yyyy-MM-dd'T'HH:mm:ss without a time "
            "zone offset."
        )
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise BadRequest(f"Invalid {field}: '{value}' is not a valid date and time.") from None


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


@dataclass(frozen=True)
class Window:
    """A resolved time window: UTC instants plus what the request said."""

    start: datetime
    end: datetime
    start_original: str
    end_original: str
    time_zone: str


def explicit_window(start: object, end: object, tz_name: str) -> Window:
    tz = zone(tz_name)
    local_start = parse_local(start, "timeWindowStart")
    local_end = parse_local(end, "timeWindowEnd")
    for name, local in (("timeWindowStart", local_start), ("timeWindowEnd", local_end)):
        if local.minute or local.second:
            raise BadRequest(f"Invalid {name}: '{format_local(local)}' must be on a whole hour.")
    utc_start, utc_end = local_to_utc(local_start, tz), local_to_utc(local_end, tz)
    if utc_end <= utc_start:
        raise BadRequest("Invalid time window: timeWindowEnd must be after timeWindowStart.")
    return Window(utc_start, utc_end, format_local(local_start), format_local(local_end), tz_name)


def relative_window(kind: str, tz_name: str, now: datetime, retention_start: datetime) -> Window:
    """The relative types, computed on day and month boundaries in the time zone.

    MOST_RECENT_* end at the last local midnight before AMC's 48-hour data lag (so they read
    complete data); the month types follow the calendar; ALL is everything retained.
    """
    tz = zone(tz_name)
    local_now = utc_to_local(now, tz)
    local_ready = utc_to_local(now - DATA_LAG, tz)
    anchor = local_ready.replace(hour=0, minute=0, second=0, microsecond=0)
    month = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if kind == "MOST_RECENT_DAY":
        start, end = anchor - timedelta(days=1), anchor
    elif kind == "MOST_RECENT_WEEK":
        start, end = anchor - timedelta(days=7), anchor
    elif kind == "CURRENT_MONTH":
        start, end = month, local_now.replace(minute=0, second=0, microsecond=0)
    elif kind == "PREVIOUS_MONTH":
        start, end = (month - timedelta(days=1)).replace(day=1), month
    else:
        start = utc_to_local(retention_start, tz)
        end = utc_to_local(now - DATA_LAG, tz).replace(minute=0, second=0, microsecond=0)
    if end <= start:
        end = start + timedelta(hours=1)
    return Window(
        local_to_utc(start, tz),
        local_to_utc(end, tz),
        format_local(start),
        format_local(end),
        tz_name,
    )


def data_gaps(window: Window, now: datetime) -> list[dict[str, str]]:
    """The part of the window AMC has not finished loading (inside the last 48 hours)."""
    ready = now - DATA_LAG
    if window.end <= ready:
        return []
    return [{"startTime": format_utc(max(window.start, ready)), "endTime": format_utc(window.end)}]
