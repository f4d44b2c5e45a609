"""Properties of daily slots in zones with DST (hypothesis): one slot per local day, in order,
at the chosen time of day, or at the end of the gap when the clocks skip it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from amc_manager.sql.schedule import parse_cadence, slots_after, to_instant

ZONES = ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    start=st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2029, 12, 31)),
)
def test_one_slot_per_local_day_at_the_time_of_day(
    zone: str, hour: int, minute: int, start: datetime
) -> None:
    cadence = parse_cadence(cron=None, every="day", at=f"{hour:02d}:{minute:02d}", time_zone=zone)
    after = start.replace(tzinfo=UTC)
    slots = slots_after(cadence, after, 40)
    tz = ZoneInfo(zone)
    assert slots[0] > after and slots == sorted(set(slots))
    days = [s.astimezone(tz).date() for s in slots]
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:], strict=False))
    for slot, day in zip(slots, days, strict=True):
        wanted = datetime.combine(day, time(hour, minute))
        assert slot == to_instant(wanted, tz)
        local = slot.astimezone(tz).replace(tzinfo=None)
        if local != wanted:  # only a time the clocks skip moves, to the end of the gap
            assert (
                local > wanted
                and (slot - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < wanted
            )


def test_to_instant_takes_the_first_of_a_repeated_time() -> None:
    tz = ZoneInfo("Europe/Berlin")
    instant = to_instant(datetime(2027, 10, 31, 2, 30), tz)
    assert instant == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
