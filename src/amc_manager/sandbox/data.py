"""Synthetic AMC sandbox data: deterministic rows of the served tables, read by time window."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from amc_manager.catalogue import (
    ATTRIBUTION_WINDOW,
    CATALOGUE,
    DATA_LAG,
    RETENTION_MONTHS,
    Cadence,
    Catalogue,
    Table,
)
from amc_manager.sandbox import columns as columns_module
from amc_manager.sandbox import daily, synthetic
from amc_manager.sandbox.daily import DAY_SECONDS, EPOCH_ORDINAL, Code, Frame, World
from amc_manager.sandbox.entities import strings
from amc_manager.sandbox.population import (
    DEVICE_TYPES,
    I64,
    OPERATING_SYSTEMS,
    Bools,
    DataConfig,
)

__all__ = ["DataConfig", "SyntheticData"]

# AMC's 48 h availability lag and 13 months of retention (amc-api.md 6.1); a table may document
# a longer retention (Amazon Retail Purchases: 60 months).
AVAILABILITY_LAG = DATA_LAG
RETENTION = timedelta(days=synthetic.retention_days(RETENTION_MONTHS))  # 396 days
_EPOCH = datetime(1970, 1, 1)
# A click's traffic day may be the day after its impression's, so click-keyed reads start a day
# early; conversion-keyed reads also reach back over the attribution window.
_CLICK_SPILL_DAYS = 1
_LOOKBACK_DAYS = ATTRIBUTION_WINDOW.days + _CLICK_SPILL_DAYS
_CONVERSION_COLUMNS = (
    "ts", "user", "advertiser", "asin", "category", "new_to_brand", "units", "sales", "key"
)  # fmt: skip
_Key = tuple[Code | str, int]
_Builder = Callable[[World, Table, Frame], columns_module.Built]
_BUILDERS: Mapping[str, _Builder] = {
    "dsp_impressions": columns_module.dsp_impressions,
    "dsp_clicks": columns_module.dsp_clicks,
    "sponsored_ads_traffic": columns_module.sponsored_ads,
    "amazon_attributed_events_by_traffic_time": columns_module.attributed,
    "amazon_attributed_events_by_conversion_time": columns_module.attributed,
    "conversions": columns_module.conversions,
}


class _Lru:
    """A small least-recently-used cache of generated day frames."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[_Key, Frame] = OrderedDict()

    def get(self, key: _Key) -> Frame | None:
        frame = self._items.get(key)
        if frame is not None:
            self._items.move_to_end(key)
        return frame

    def put(self, key: _Key, frame: Frame) -> None:
        self._items[key] = frame
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)


@dataclass(frozen=True)
class _Span:
    """A window already clipped to the data the instance holds, in epoch seconds."""

    start: int
    end: int
    available: int

    def days(self, back: int = 0) -> range:
        """Date ordinals of the generated days that may hold rows for this span."""
        first = self.start // DAY_SECONDS + EPOCH_ORDINAL - back
        return range(first, (self.end - 1) // DAY_SECONDS + EPOCH_ORDINAL + 1)

    def contains(self, seconds: I64) -> Bools:
        return (seconds >= self.start) & (seconds < self.end)


def _naive_utc(moment: datetime) -> datetime:
    """Naive UTC as everywhere here; an aware datetime is converted rather than misread."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _ceil_seconds(moment: datetime) -> int:
    """Epoch seconds rounded up: for whole-second data, t >= x iff t >= ceil(x)."""
    return -((_EPOCH - moment) // timedelta(seconds=1))


def _concat(frames: list[Frame], names: tuple[str, ...] | None = None) -> Frame:
    keys = names if names is not None else tuple(frames[0])
    return {k: np.concatenate([f[k] for f in frames]) for k in keys}


def _empty_frame() -> Frame:
    return {name: np.zeros(0, np.int64) for name in ("ts", "user", "key")}


def _select(frame: Frame, rows: npt.NDArray[Any]) -> Frame:
    """The rows picked by a boolean mask or an index array."""
    return {name: column[rows] for name, column in frame.items()}


class SyntheticData:
    """The sandbox's data: every table's rows are a pure function of (config, date).

    `catalogue` is the tables served: the six modelled ones have bespoke generators; any other
    gets generic synthetic rows (`synthetic.py`), `rows_per_day[name]` of them a day (or per
    snapshot for snapshot tables). Nothing is generated until asked for; generated days are kept
    in bounded LRU caches. Safe to share between threads (at worst two threads generate the same
    day twice).
    """

    def __init__(
        self,
        config: DataConfig | None = None,
        catalogue: Catalogue = CATALOGUE,
        rows_per_day: Mapping[str, int] | None = None,
        *,
        compact: bool = False,
    ) -> None:
        self._config = config if config is not None else DataConfig()
        # Dictionary-encoded text columns (columns.assemble): what the SQL engine reads.
        self._compact = compact
        self._catalogue = catalogue
        self._rows_per_day = dict(rows_per_day or {})
        self._lock = threading.Lock()
        # Traffic days are large (tens of thousands of rows); attributed and organic days small.
        self._traffic = _Lru(self._config.cache_days)
        self._derived = _Lru(8 * self._config.cache_days)
        # Days (or snapshots) of the tables without a bespoke model: small, many tables.
        self._generic_days = _Lru(32 * self._config.cache_days)

    @property
    def config(self) -> DataConfig:
        return self._config

    @cached_property
    def _world(self) -> World:
        return World.build(self._config)

    @property
    def world(self) -> World:
        """The population every table draws from: users, geography, ad entities, segments."""
        return self._world

    @staticmethod
    def available_until(now: datetime) -> datetime:
        """No data at or after this: now minus 48 hours, floored to the hour."""
        lagged = _naive_utc(now) - AVAILABILITY_LAG
        return lagged.replace(minute=0, second=0, microsecond=0)

    @staticmethod
    def retention_start(now: datetime, months: int = RETENTION_MONTHS) -> datetime:
        """No data before this: midnight `months` (13: 396 days) before available_until's day."""
        retention = timedelta(days=synthetic.retention_days(months))
        day = SyntheticData.available_until(now).date() - retention
        return datetime.combine(day, time())

    def window(
        self,
        table: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        columns: Iterable[str] | None = None,
    ) -> pa.Table:
        """The rows a query over [start, end) may read from `table`, as AMC would select them.

        The window column must lie in the window and within [retention_start, available_until)
        (the table's own retention); by_traffic_time also drops conversions at or after
        available_until. A snapshot table without a window column answers its latest snapshot
        whatever the window. Columns are `columns` (default: the catalogue's, in order), plus
        the hidden `__user_key`; only those are built.
        """
        spec = self._catalogue.table(table)
        if spec is None:
            raise ValueError(f"unknown table: {table!r}")
        names = None if columns is None else tuple(columns)
        available = _ceil_seconds(self.available_until(now))
        retained = self.retention_start(now, spec.retention_months)
        if spec.cadence is Cadence.SNAPSHOT and spec.window_column is None:
            frame = self._latest_snapshot(spec, available)
            return synthetic.build(self._world, spec, frame, names, compact=self._compact)
        low = max(_naive_utc(start), retained)
        high = min(_naive_utc(end), self.available_until(now))
        if low >= high:
            return columns_module.schema_of(spec, names).empty_table()
        span = _Span(_ceil_seconds(low), _ceil_seconds(high), available)
        builder = _BUILDERS.get(spec.name)
        if builder is None:
            frame = self._generic(spec, span)
            return synthetic.build(self._world, spec, frame, names, compact=self._compact)
        rows, lazy = builder(self._world, spec, self._read(spec.name, span))
        return columns_module.assemble(rows, lazy, names, compact=self._compact)

    def users_frame(self) -> pa.Table:
        """The user pool with each user's stable attributes (for tests and curiosity)."""
        world = self._world
        users, geo = world.users, world.geography
        liked = world.entities.advertisers.name.take(np.nonzero(users.likes)[1])
        offsets = pa.array(np.concatenate([[0], np.cumsum(users.likes.sum(axis=1))]), pa.int32())
        assert isinstance(offsets, pa.Int32Array)
        return pa.table(
            {
                "user_key": pa.array(np.arange(len(users.postal)), pa.int64()),
                "user_id": world.user_ids,
                "postal_code": geo.postal_code.take(users.postal),
                "city_name": geo.city_name.take(users.postal),
                "iso_state_province_code": geo.state.take(users.postal),
                "dma_code": geo.dma_code.take(users.postal),
                "home_device_type": strings(DEVICE_TYPES).take(users.device),
                "home_operating_system": strings(OPERATING_SYSTEMS).take(users.os),
                "liked_advertisers": pa.ListArray.from_arrays(offsets, liked),
                "dsp_reachable": pa.array(users.dsp),
                "sponsored_ads_shopper": pa.array(users.shopper),
                "activity": pa.array(users.activity),
            }
        )

    def _read(self, table: str, span: _Span) -> Frame:
        """The generated rows of `table` whose window column lies in the span."""
        if table == "dsp_impressions":
            return self._days(Code.DSP_IMPRESSIONS, span, 0, "ts")
        if table == "dsp_clicks":
            return self._days(Code.DSP_CLICKS, span, _CLICK_SPILL_DAYS, "ts")
        if table == "sponsored_ads_traffic":
            return self._days(Code.SPONSORED_ADS, span, _CLICK_SPILL_DAYS, "ts")
        if table == "amazon_attributed_events_by_traffic_time":
            # Conversions come at most 14 days after traffic, inside the 30-day lookahead, so
            # only the availability cut applies to them.
            rows = self._days(Code.ATTRIBUTED, span, _CLICK_SPILL_DAYS, "traffic_ts")
            return _select(rows, rows["ts"] < span.available)
        if table == "amazon_attributed_events_by_conversion_time":
            return self._days(Code.ATTRIBUTED, span, _LOOKBACK_DAYS, "ts")
        return self._conversions(span)

    def _generic(self, spec: Table, span: _Span) -> Frame:
        """Rows of a table without a bespoke model whose (hidden) time lies in the span: events
        by their time, snapshots by the time they were taken."""
        if synthetic.periodic(spec):
            first, last = synthetic.epoch_day(span.start), synthetic.epoch_day(span.end - 1)
            taken = synthetic.snapshot_days(synthetic.schedule(spec), first, last)
            frames = [self._generic_day(spec, day, snapshot=True) for day in taken]
        else:
            frames = [self._generic_day(spec, day, snapshot=False) for day in span.days()]
        if not frames:
            return _empty_frame()
        rows = _concat(frames)
        return _select(rows, span.contains(rows["ts"]))

    def _latest_snapshot(self, spec: Table, available: int) -> Frame:
        """The last snapshot taken before `available` (epoch seconds: no data from then on)."""
        before = synthetic.epoch_day(available - 1) + 1
        latest = synthetic.latest_snapshot(synthetic.schedule(spec), before)
        return self._generic_day(spec, latest, True)

    def _rows_of(self, spec: Table, snapshot: bool) -> int:
        """Rows of one day, or of one snapshot (a batch: the days it covers)."""
        configured = self._rows_per_day.get(spec.name)
        if configured is not None:
            return configured
        if snapshot and synthetic.carries_over(spec):
            return synthetic.SNAPSHOT_ROWS
        days = synthetic.period_days(spec) if snapshot else 1
        return synthetic.CATALOGUE_ROWS_PER_DAY * days

    def _generic_day(self, spec: Table, day: int, snapshot: bool) -> Frame:
        """One generated day (or snapshot) of a table without a bespoke model, cached."""
        key = (spec.name, day)
        with self._lock:
            cached = self._generic_days.get(key)
        if cached is not None:
            return cached
        count = self._rows_of(spec, snapshot)
        make = synthetic.snapshot_frame if snapshot else synthetic.day_frame
        frame = make(self._world, spec, day, count)
        with self._lock:
            self._generic_days.put(key, frame)
        return frame

    def _conversions(self, span: _Span) -> Frame:
        attributed = self._days(Code.ATTRIBUTED, span, _LOOKBACK_DAYS, "ts")
        organic = self._days(Code.ORGANIC, span, 0, "ts")
        rows = _concat([attributed, organic], _CONVERSION_COLUMNS)
        return _select(rows, np.argsort(rows["ts"], kind="stable"))

    def _days(self, code: Code, span: _Span, back: int, column: str) -> Frame:
        rows = _concat([self._frame(code, day) for day in span.days(back)])
        return _select(rows, span.contains(rows[column]))

    def _frame(self, code: Code, day: int) -> Frame:
        """One generated day of one event kind, from the cache when possible."""
        cache = self._traffic if code <= Code.SPONSORED_ADS else self._derived
        with self._lock:
            cached = cache.get((code, day))
        if cached is not None:
            return cached
        frame = self._generate(code, day)
        with self._lock:
            cache.put((code, day), frame)
        return frame

    def _generate(self, code: Code, day: int) -> Frame:
        world = self._world
        if code == Code.DSP_IMPRESSIONS:
            return daily.dsp_impressions(world, day)
        if code == Code.DSP_CLICKS:
            return daily.dsp_clicks(world, day, self._frame(Code.DSP_IMPRESSIONS, day))
        if code == Code.SPONSORED_ADS:
            return daily.sponsored_ads(world, day)
        if code == Code.ORGANIC:
            return daily.organic(world, day)
        impressions = self._frame(Code.DSP_IMPRESSIONS, day)
        clicks = self._frame(Code.DSP_CLICKS, day)
        return daily.attributed(
            world, day, impressions, clicks, self._frame(Code.SPONSORED_ADS, day)
        )
