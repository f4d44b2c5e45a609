"""Which rows a table without a bespoke model has: events per day, snapshots, entity lists.

Event tables hold a fixed number of rows a day, each standing for one user of the population
(drawn by activity, from the audience the table records: DSP tables DSP users, sponsored-ads
tables shoppers, others anyone), so user counts, joins and aggregation thresholds behave as on
the modelled tables. Periodic tables (`Cadence.SNAPSHOT`, and event tables stamped with a
period's date: AMC's monthly segment snapshots, weekly purchase batches) hold one batch per
refresh period, all its rows stamped with its midnight; most of a snapshot's rows carry over to
the next, as memberships do, while a batch of events is new. A table without `user_id` that
describes segments lists each segment once per snapshot. Column values come from `values.py`;
this module only draws the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pyarrow as pa

from amc_manager.catalogue import Cadence, DataType, Table
from amc_manager.sandbox import values
from amc_manager.sandbox.columns import assemble
from amc_manager.sandbox.daily import DAY_SECONDS, EPOCH_ORDINAL, Frame, World, day_start, freeze
from amc_manager.sandbox.population import UserSampler, hash64, unit
from amc_manager.sandbox.values import NO_USER, Audience, Rows

USER_ID = "user_id"
DEFAULT_ROWS_PER_DAY = 500  # extra tables (the config's default)
CATALOGUE_ROWS_PER_DAY = 1_000  # catalogued tables without a bespoke model
SNAPSHOT_ROWS = 2_000  # user rows of one snapshot
_CHURN = 0.1  # share of a snapshot's rows that differ from the previous snapshot's
_ROW_BITS = 20  # rows per day stay below 2**20 (the config caps them at a million)
_STABLE_DAY = 0  # the "day" in the keys of snapshot rows that carry over
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def lists_segments(table: Table) -> bool:
    """A table describing segments (segment_metadata): one row per segment, no user."""
    return table.column(USER_ID) is None and table.column("segment_id") is not None


def stands_for_users(table: Table) -> bool:
    """Whether each row is one user's (even without a `user_id` column, as in an extra table,
    so that aggregation thresholds apply to it)."""
    return not lists_segments(table)


def periodic(table: Table) -> bool:
    """Whether rows come in batches rather than day by day: snapshot tables, and event tables
    whose window column is a date naming a period (a snapshot's date, a week's end)."""
    if table.cadence is Cadence.SNAPSHOT:
        return True
    stamp = table.column(table.window_column) if table.window_column else None
    named = stamp is not None and any(word in stamp.name for word in ("snapshot", "week"))
    return named and stamp is not None and stamp.data_type is DataType.DATE


def carries_over(table: Table) -> bool:
    """Whether each batch mostly repeats the last (memberships) or is new (purchases)."""
    return table.cadence is Cadence.SNAPSHOT or "snapshot" in (table.window_column or "")


def schedule(table: Table) -> str:
    """What says when a periodic table's batches come: its refresh, and the weekday its pages
    name ("the first Thursday of each month", "weeks ending on Saturdays")."""
    stamp = table.column(table.window_column) if table.window_column else None
    return " ".join([table.refresh, table.description, stamp.description if stamp else ""])


def period_days(table: Table) -> int:
    """Days one batch of a periodic table covers."""
    text = table.refresh.lower()
    return 30 if "month" in text else 7 if "week" in text else 1


def sampler(world: World, table: Table) -> UserSampler:
    audience = Audience.of(table.name)
    if audience == Audience.DSP:
        return world.dsp_users
    if audience == Audience.SPONSORED:
        return world.shoppers
    return world.everyone


def day_frame(world: World, table: Table, day: int, rows: int) -> Frame:
    """One day's rows of an event table: their time (epoch seconds), user and row key."""
    seed = world.config.seed
    key = (np.int64(day) << _ROW_BITS) + np.arange(rows, dtype=np.int64)
    stream = values.stream
    seconds = (unit(hash64(seed, stream(table.name, "#time"), key)) * DAY_SECONDS).astype(np.int64)
    if stands_for_users(table):
        user = sampler(world, table).draw(unit(hash64(seed, stream(table.name, "#user"), key)))
    else:
        user = np.full(rows, NO_USER, np.int64)
    order = np.argsort(seconds, kind="stable")
    return freeze({"ts": day_start(day) + seconds[order], "user": user[order], "key": key[order]})


def snapshot_frame(world: World, table: Table, day: int, rows: int) -> Frame:
    """The snapshot (or batch) of `table` taken at midnight starting date ordinal `day`."""
    if lists_segments(table):
        count = len(world.entities.segments.name)
        return freeze(
            {
                "ts": np.full(count, day_start(day), np.int64),
                "user": np.full(count, NO_USER, np.int64),
                "key": np.arange(count, dtype=np.int64),
                "segment": np.arange(count, dtype=np.int64),
            }
        )
    seed, index = world.config.seed, np.arange(rows, dtype=np.int64)
    fresh = unit(hash64(seed, values.stream(table.name, "#churn"), (day << _ROW_BITS) + index))
    churn = _CHURN if carries_over(table) else 1.0
    period = np.where(fresh < churn, day, _STABLE_DAY).astype(np.int64)
    key = (period << _ROW_BITS) + index
    user = sampler(world, table).draw(unit(hash64(seed, values.stream(table.name, "#user"), key)))
    return freeze({"ts": np.full(rows, day_start(day), np.int64), "user": user, "key": key})


def snapshot_days(refresh: str, first: int, last: int) -> list[int]:
    """Date ordinals in [first, last] on which a table refreshed `refresh` takes a snapshot.

    "monthly ... first Thursday" (AMC's historical segment snapshots) is the first Thursday of
    each month; other monthly tables the 1st; weekly ones a named weekday (Monday if none);
    anything else daily."""
    text = refresh.lower()
    if "month" in text:
        weekday = _weekday(text)
        return [d for d in range(first, last + 1) if _monthly(d, weekday)]
    if "week" in text:
        weekday = _weekday(text)
        wanted = 0 if weekday is None else weekday
        return [d for d in range(first, last + 1) if date.fromordinal(d).weekday() == wanted]
    return list(range(first, last + 1))


def _weekday(text: str) -> int | None:
    for number, name in enumerate(_WEEKDAYS):
        if name in text:
            return number
    return None


def _monthly(day: int, weekday: int | None) -> bool:
    moment = date.fromordinal(day)
    if weekday is None:
        return moment.day == 1
    return moment.weekday() == weekday and moment.day <= 7


def latest_snapshot(refresh: str, before: int) -> int:
    """The last snapshot day strictly before date ordinal `before` (at most ~2 months back)."""
    days = snapshot_days(refresh, before - 62, before - 1)
    return days[-1] if days else before - 1


def epoch_day(seconds: int) -> int:
    """Date ordinal of an epoch second."""
    return seconds // DAY_SECONDS + EPOCH_ORDINAL


def build(
    world: World, table: Table, frame: Frame, names: Iterable[str] | None, *, compact: bool
) -> pa.Table:
    """The Arrow rows of `table` for generated rows `frame`: columns `names`, then the hidden
    user key (`compact`: see columns.assemble)."""
    return assemble(Rows(world, table, table.name, frame), {}, names, compact=compact)


def retention_days(months: int) -> int:
    """A retention in months as whole days (13 months: 396, as every process counts them)."""
    return round(months * 365.25 / 12)


__all__ = [
    "CATALOGUE_ROWS_PER_DAY",
    "DEFAULT_ROWS_PER_DAY",
    "SNAPSHOT_ROWS",
    "build",
    "day_frame",
    "epoch_day",
    "latest_snapshot",
    "retention_days",
    "snapshot_days",
    "snapshot_frame",
]
