"""Column values of generated rows, from what each row is about: its user, time and entities.

A generator decides which rows exist (`Rows`: a time, a user or none, a unique key and any
entities it drew, such as the campaign); every column it does not build itself is derived here
from the column's name, type and threshold class, so any catalogued column gets a plausible,
deterministic value:

- names of the population's entities (`advertiser`, `campaign_id`, `line_item`, `tracked_asin`,
  `segment_name`, `postal_code`, `device_type`, ...) take the row's entity, so joins and groups
  across tables agree;
- other columns named after an entity (`campaign_budget_amount`, `creative_size`) are an
  attribute of that entity: one value per campaign or creative, not per row;
- `TIMESTAMP`s are the row's time, `DATE`s its day (entity `*start*`/`*end*` ones its month's
  bounds), `*hour*` numbers its hour;
- `VERY_HIGH`/`INTERNAL` ones are unique per row, other dimensions take few values (`LOW`,
  `NONE`) or many (`MEDIUM`, `HIGH`), metrics are small positive numbers (money larger);
- `array=True` columns hold zero to three such values.

Every value is a stable hash of (seed, rows family, column, row key): the same in every process.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from amc_manager.catalogue import Column, ColumnRole, DataType, Table, ThresholdClass
from amc_manager.sandbox.daily import DAY_SECONDS, Frame, World
from amc_manager.sandbox.entities import (
    PLACEMENT_BY_KIND,
    PLACEMENTS,
    SEGMENT_KINDS,
    SUPPLY_BY_DEVICE,
    SUPPLY_SOURCES,
    US_MARKETPLACE_ID,
    Kind,
    strings,
)
from amc_manager.sandbox.population import (
    DEVICE_CDF,
    DEVICE_TYPES,
    I64,
    OPERATING_SYSTEMS,
    OS_BY_DEVICE,
    U64,
    Bools,
    Ragged,
    Salt,
    hash64,
    hex_strings,
    unit,
    weighted_pick,
)

ARROW_TYPES: Mapping[DataType, pa.DataType] = {
    DataType.STRING: pa.string(),
    DataType.LONG: pa.int64(),
    DataType.INTEGER: pa.int32(),
    DataType.DOUBLE: pa.float64(),
    DataType.DECIMAL: pa.decimal128(38, 4),
    DataType.BOOLEAN: pa.bool_(),
    DataType.DATE: pa.date32(),
    DataType.TIMESTAMP: pa.timestamp("ms"),
}
NO_USER = -1
_FEW, _MANY = 8, 200  # distinct values of a dimension: few for LOW/NONE, many above
_MAX_ARRAY = 3
_OPAQUE = frozenset({ThresholdClass.VERY_HIGH, ThresholdClass.INTERNAL})
_FEW_CLASSES = frozenset({ThresholdClass.NONE, ThresholdClass.LOW})
_NUMBERS = frozenset({DataType.LONG, DataType.INTEGER, DataType.DOUBLE, DataType.DECIMAL})
_MONEY = re.compile(r"cost|fee|spend|price|sales|revenue|amount|budget|value")
_FAVOURITE_SHARE = 0.75


def column_type(column: Column) -> pa.DataType:
    """The Arrow type of a column as the sandbox serves it (`array` columns as lists)."""
    element = ARROW_TYPES[column.data_type]
    return pa.list_(element) if column.array else element


def stream(*names: str) -> int:
    """A stable salt per table or column (Python's hash() differs between processes)."""
    digest = hashlib.blake2b("\0".join(names).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class Audience:
    """Whose traffic a table records, which decides its users and campaigns."""

    DSP = "dsp"
    SPONSORED = "sponsored"
    ANYONE = "anyone"

    @staticmethod
    def of(table: str) -> str:
        if table.startswith(("dsp_", "adserver_", "ad_server_")):
            return Audience.DSP
        if table.startswith("sponsored_"):
            return Audience.SPONSORED
        return Audience.ANYONE


@dataclass
class Rows:
    """Generated rows of one table and everything their values derive from.

    `frame` holds "ts" (epoch seconds), "user" (NO_USER where none), "key" (unique per row in
    `family`) and whichever entity indices the generator drew ("campaign", "asin", ...); the
    others are derived on first use. `family` salts the hashes: tables sharing rows (the two
    attributed-events tables) share it, so their extra columns agree."""

    world: World
    table: Table
    family: str
    frame: Frame
    _derived: dict[str, I64] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame["key"])

    @property
    def key(self) -> I64:
        return self.frame["key"]

    @property
    def ts(self) -> I64:
        return self.frame["ts"]

    @property
    def user(self) -> I64:
        return self.frame["user"]

    @property
    def has_user(self) -> Bools:
        found: Bools = self.user != NO_USER
        return found

    def hash(self, *salt: str) -> U64:
        return hash64(self.world.config.seed, stream(self.family, *salt), self.key)

    def uniform(self, name: str) -> npt.NDArray[np.float64]:
        return unit(self.hash("#", name))

    def entity(self, name: str) -> I64:
        """Index of the row's entity `name` (advertiser, campaign, ...); -1 where it has none."""
        if name in self.frame:
            return np.asarray(self.frame[name], np.int64)
        if name not in self._derived:
            self._derived[name] = _DERIVE[name](self)
        return self._derived[name]

    def expanded(self, index: I64, slot: I64) -> Rows:
        """One row per array element: element `slot` of row `index`, keyed apart, sharing the
        row's user, time and advertiser but drawing its own other entities."""
        keep = ("ts", "user", "advertiser")
        frame = {k: self.frame[k][index] for k in keep if k in self.frame}
        if "advertiser" not in frame:
            frame["advertiser"] = self.entity("advertiser")[index]
        frame["key"] = self.key[index] * (_MAX_ARRAY + 1) + slot
        return Rows(self.world, self.table, self.family, frame)


# --- entities of a row -------------------------------------------------------------------


def _where(valid: Bools, values: I64) -> I64:
    return np.where(valid, values, -1).astype(np.int64)


def _pick(ragged: Ragged, group: I64, u: npt.NDArray[np.float64]) -> I64:
    """Ragged.pick where the group has items; -1 elsewhere (and for group -1)."""
    safe = np.maximum(group, 0)
    valid = (group >= 0) & (ragged.count[safe] > 0)
    return _where(valid, ragged.pick(np.where(valid, safe, 0), u) if len(group) else group)


def _advertiser(rows: Rows) -> I64:
    e = rows.world.entities
    if "campaign" in rows.frame:
        return e.campaigns.advertiser[rows.frame["campaign"]]
    if "asin" in rows.frame:
        return e.asins.advertiser[rows.frame["asin"]]
    count = len(e.advertisers.names)
    anyone = (rows.uniform("advertiser") * count).astype(np.int64)
    users = rows.user
    if not rows.has_user.any():
        return anyone
    # Mostly one of the advertisers the user likes, as in the modelled tables.
    liked = rows.world.users.likes[np.maximum(users, 0)]
    nth = (rows.uniform("liked") * liked.sum(axis=1)).astype(np.int64)
    favourite = (np.cumsum(liked, axis=1) > nth[:, None]).argmax(axis=1)
    chosen = np.where(rows.uniform("favourite") < _FAVOURITE_SHARE, favourite, anyone)
    return np.where(rows.has_user, chosen, anyone).astype(np.int64)


def _campaign(rows: Rows) -> I64:
    campaigns = rows.world.entities.campaigns
    audience = Audience.of(rows.table.name)
    if audience == Audience.DSP:
        ragged = campaigns.dsp_by_advertiser
    elif audience == Audience.SPONSORED:
        ragged = campaigns.sponsored_by_advertiser
    else:
        ragged = Ragged.of(campaigns.advertiser, len(rows.world.entities.advertisers.names))
    return _pick(ragged, rows.entity("advertiser"), rows.uniform("campaign"))


def _line_item(rows: Rows) -> I64:
    items = rows.world.entities.line_items
    return _pick(items.by_campaign, rows.entity("campaign"), rows.uniform("line_item"))


def _creative(rows: Rows) -> I64:
    items = rows.world.entities.line_items
    return _pick(items.creatives, rows.entity("line_item"), rows.uniform("creative"))


def _ad_group(rows: Rows) -> I64:
    targeting = rows.world.entities.targeting
    return _pick(targeting.ad_groups, rows.entity("campaign"), rows.uniform("ad_group"))


def _target(rows: Rows) -> I64:
    targeting = rows.world.entities.targeting
    return _pick(targeting.by_ad_group, rows.entity("ad_group"), rows.uniform("target"))


def _term(rows: Rows) -> I64:
    target = rows.entity("target")
    return _where(target >= 0, target * 3 + (rows.uniform("term") * 3).astype(np.int64))


def _placement(rows: Rows) -> I64:
    campaign = rows.entity("campaign")
    kind = rows.world.entities.campaigns.kind[np.maximum(campaign, 0)]
    sponsored = (campaign >= 0) & (kind != Kind.DSP)
    return _pick(PLACEMENT_BY_KIND, _where(sponsored, kind), rows.uniform("placement"))


def _asin(rows: Rows) -> I64:
    asins = rows.world.entities.asins
    return _pick(asins.by_advertiser, rows.entity("advertiser"), rows.uniform("asin") ** 2)


def _device(rows: Rows) -> I64:
    users = rows.world.users
    other = weighted_pick(DEVICE_CDF, rows.uniform("device"))
    home = users.device[np.maximum(rows.user, 0)]
    return np.where(rows.has_user & (rows.uniform("home") < 0.8), home, other).astype(np.int64)


def _os(rows: Rows) -> I64:
    device, users = rows.entity("device"), rows.world.users
    home = rows.has_user & (device == users.device[np.maximum(rows.user, 0)])
    other = OS_BY_DEVICE.pick(device, rows.uniform("os"))
    return np.where(home, users.os[np.maximum(rows.user, 0)], other).astype(np.int64)


def _supply(rows: Rows) -> I64:
    return SUPPLY_BY_DEVICE.pick(rows.entity("device"), rows.uniform("supply"))


def _postal(rows: Rows) -> I64:
    world = rows.world
    anywhere = weighted_pick(world.geography.cdf, rows.uniform("postal"))
    home = world.users.postal[np.maximum(rows.user, 0)]
    return np.where(rows.has_user, home, anywhere).astype(np.int64)


def _segment(rows: Rows) -> I64:
    """A segment of the table's kind (in-market or lifestyle), mostly of a liked advertiser."""
    segments = rows.world.entities.segments
    name = rows.table.name
    kind = 0 if "inmarket" in name else 1 if "lifestyle" in name else -1
    liked = _pick(segments.by_advertiser, rows.entity("advertiser"), rows.uniform("segment"))
    if kind < 0:
        return liked
    of_kind = _pick(segments.by_kind, np.full(len(rows), kind), rows.uniform("segment kind"))
    fits = (liked >= 0) & (segments.kind[np.maximum(liked, 0)] == kind)
    return np.where(fits, liked, of_kind).astype(np.int64)


_DERIVE: Mapping[str, Callable[[Rows], I64]] = {
    "advertiser": _advertiser,
    "campaign": _campaign,
    "line_item": _line_item,
    "creative": _creative,
    "ad_group": _ad_group,
    "target": _target,
    "term": _term,
    "placement": _placement,
    "asin": _asin,
    "device": _device,
    "os": _os,
    "supply": _supply,
    "postal": _postal,
    "segment": _segment,
}


# --- arrays from entity indices ------------------------------------------------------------


def _take(values: pa.Array[Any], index: I64) -> pa.Array[Any]:
    """values[index], NULL where index is -1."""
    mask = index < 0
    picked = pa.array(np.where(mask, 0, index), pa.int64(), mask=mask if mask.any() else None)
    return values.take(picked)


def _ints(
    values: npt.NDArray[Any], data_type: DataType, missing: Bools | None = None
) -> pa.Array[Any] | None:
    """Whole numbers as the column's type (text for STRING), NULL where `missing`."""
    mask = missing if missing is not None and missing.any() else None
    if data_type is DataType.STRING:
        text = pa.array(np.asarray(values, np.int64).astype(str), pa.string())
        return _null_where(text, mask)
    if data_type is DataType.DECIMAL:
        return _null_where(decimals(np.asarray(values, np.int64) * 10_000), mask)
    if data_type is DataType.BOOLEAN:
        return pa.array(np.asarray(values) % 2 == 1, pa.bool_(), mask=mask)
    if data_type in (DataType.DATE, DataType.TIMESTAMP):
        return None
    return pa.array(values, ARROW_TYPES[data_type], mask=mask)


def _null_where(values: pa.Array[Any], mask: Bools | None) -> pa.Array[Any]:
    if mask is None:
        return values
    blanked: pa.Array[Any] = pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)
    return blanked


def decimals(scaled: I64) -> pa.Array[Any]:
    """DECIMAL(38, 4) from integers counting 1/10000: 128-bit little-endian words, exact."""
    words = np.empty((len(scaled), 2), np.int64)
    words[:, 0] = scaled
    words[:, 1] = scaled >> 63  # sign extension into the high word
    return pa.Array.from_buffers(
        pa.decimal128(38, 4), len(scaled), [None, pa.py_buffer(words.tobytes())]
    )


def device_ids(world: World, user: I64, device: I64) -> pa.StringArray:
    """One id per (user, device type): the same phone shows up again and again."""
    key, seed = user * 8 + device, world.config.seed
    return hex_strings([hash64(seed, Salt.DEVICE_ID, key), hash64(seed, Salt.DEVICE_ID, ~key)])


_DEVICES = strings(DEVICE_TYPES)
_SYSTEMS = strings(OPERATING_SYSTEMS)
_SUPPLY = strings(SUPPLY_SOURCES)
_PLACEMENTS = strings(PLACEMENTS)


# --- named columns -------------------------------------------------------------------------

# A named rule: the entity it reads and how an entity index becomes a value of the column's
# type (None: the type does not fit, so the column falls back to the generic rules).
_Rule = Callable[[World, I64, DataType], "pa.Array[Any] | None"]
_Named = tuple[str, _Rule]


def _text(pick: Callable[[World], pa.Array[Any]]) -> _Rule:
    def values(world: World, index: I64, data_type: DataType) -> pa.Array[Any] | None:
        return _take(pick(world), index) if data_type is DataType.STRING else None

    return values


def _number(pick: Callable[[World], I64]) -> _Rule:
    def values(world: World, index: I64, data_type: DataType) -> pa.Array[Any] | None:
        return _ints(pick(world)[np.maximum(index, 0)], data_type, index < 0)

    return values


def _constant(value: str | int) -> _Rule:
    def values(_world: World, index: I64, data_type: DataType) -> pa.Array[Any] | None:
        if isinstance(value, int):
            return _ints(np.full(len(index), value, np.int64), data_type)
        if data_type is DataType.STRING:
            return pa.array([value] * len(index), pa.string())
        return None

    return values


def _segment_kind(world: World) -> pa.Array[Any]:
    return strings(SEGMENT_KINDS).take(world.entities.segments.kind)


_ASIN_CODE = _text(lambda w: w.entities.asins.code)
_ASIN_ITEM = _text(lambda w: w.entities.asins.item)
_NAMED: Mapping[str, _Named] = {
    "advertiser": ("advertiser", _text(lambda w: w.entities.advertisers.name)),
    "advertiser_name": ("advertiser", _text(lambda w: w.entities.advertisers.name)),
    "brand": ("advertiser", _text(lambda w: w.entities.advertisers.name)),
    "brand_name": ("advertiser", _text(lambda w: w.entities.advertisers.name)),
    "advertiser_id": ("advertiser", _number(lambda w: w.entities.advertisers.id)),
    "advertiser_timezone": ("advertiser", _text(lambda w: w.entities.advertisers.timezone)),
    "campaign": ("campaign", _text(lambda w: w.entities.campaigns.name)),
    "campaign_name": ("campaign", _text(lambda w: w.entities.campaigns.name)),
    "campaign_id": ("campaign", _number(lambda w: w.entities.campaigns.id)),
    "campaign_id_string": ("campaign", _text(lambda w: w.entities.campaigns.id_string)),
    "ad_product_type": ("campaign", _text(lambda w: w.entities.campaigns.ad_product_type)),
    "line_item": ("line_item", _text(lambda w: w.entities.line_items.name)),
    "line_item_name": ("line_item", _text(lambda w: w.entities.line_items.name)),
    "line_item_id": ("line_item", _number(lambda w: w.entities.line_items.id)),
    "creative": ("creative", _text(lambda w: w.entities.line_items.creative_name)),
    "creative_name": ("creative", _text(lambda w: w.entities.line_items.creative_name)),
    "creative_id": ("creative", _number(lambda w: w.entities.line_items.creative_id)),
    "creative_type": ("creative", _text(lambda w: w.entities.line_items.creative_type)),
    "ad_group": ("ad_group", _text(lambda w: w.entities.targeting.ad_group_name)),
    "ad_group_name": ("ad_group", _text(lambda w: w.entities.targeting.ad_group_name)),
    "targeting": ("target", _text(lambda w: w.entities.targeting.text)),
    "keyword": ("target", _text(lambda w: w.entities.targeting.text)),
    "keyword_text": ("target", _text(lambda w: w.entities.targeting.text)),
    "match_type": ("target", _text(lambda w: w.entities.targeting.match_type)),
    "customer_search_term": ("term", _text(lambda w: w.entities.targeting.search_terms)),
    "search_term": ("term", _text(lambda w: w.entities.targeting.search_terms)),
    "placement_type": ("placement", _text(lambda _: _PLACEMENTS)),
    "asin": ("asin", _ASIN_CODE),
    "tracked_asin": ("asin", _ASIN_CODE),
    "tracked_item": ("asin", _ASIN_ITEM),
    "product_name": ("asin", _ASIN_ITEM),
    "asin_name": ("asin", _ASIN_ITEM),
    "asin_brand": ("advertiser", _text(lambda w: w.entities.advertisers.name)),
    "device_type": ("device", _text(lambda _: _DEVICES)),
    "operating_system": ("os", _text(lambda _: _SYSTEMS)),
    "supply_source": ("supply", _text(lambda _: _SUPPLY)),
    "postal_code": ("postal", _text(lambda w: w.geography.postal_code)),
    "city_name": ("postal", _text(lambda w: w.geography.city_name)),
    "dma_code": ("postal", _text(lambda w: w.geography.dma_code)),
    "iso_state_province_code": ("postal", _text(lambda w: w.geography.state)),
    "iso_country_code": ("postal", _constant("US")),
    "country_code": ("postal", _constant("US")),
    "segment_id": ("segment", _number(lambda w: w.entities.segments.id)),
    "segment_name": ("segment", _text(lambda w: w.entities.segments.name)),
    "segment_description": ("segment", _text(lambda w: w.entities.segments.description)),
    "segment_marketplace_id": ("segment", _constant(US_MARKETPLACE_ID)),
    "category_level_1": ("segment", _text(_segment_kind)),
    "category_level_2": ("segment", _text(lambda w: w.entities.segments.level_2)),
    "category_path": ("segment", _text(lambda w: w.entities.segments.path)),
    "marketplace_id": ("postal", _constant(US_MARKETPLACE_ID)),
    "marketplace_name": ("postal", _constant("AMAZON.COM")),
    "currency_name": ("postal", _constant("USD")),
    "currency_iso_code": ("postal", _constant("USD")),
    "currency_code": ("postal", _constant("USD")),
}
# Other columns whose name starts so are attributes of that entity (one value per entity).
_PREFIXES = (
    ("line_item_", "line_item"),
    ("creative_", "creative"),
    ("campaign_", "campaign"),
    ("advertiser_", "advertiser"),
    ("ad_group_", "ad_group"),
    ("segment_", "segment"),
    ("tracked_asin_", "asin"),
    ("asin_", "asin"),
)
# Conversion tables' event columns, as the modelled `conversions` table has them.
_CONVERSION_VOCABULARY: Mapping[str, tuple[str, ...]] = {
    "event_type": ("Conversion",),
    "event_category": ("purchase", "website"),
    "event_subtype": ("order", "detailPageView", "shoppingCart"),
}
# Small vocabularies for common AMC dimensions, so groups read like AMC's.
_VOCABULARY: Mapping[str, tuple[str, ...]] = {
    "browser_family": ("Chrome", "Safari", "Mobile Safari", "Edge", "Firefox", "Android App"),
    "ad_slot_size": ("300x250", "728x90", "320x50", "160x600", "300x600", "970x250"),
    "environment_type": ("Web", "App", "Streaming TV"),
    "user_id_type": ("adUserId",),
    "campaign_primary_goal": ("ROAS", "REACH", "CPVC", "CTR", "DPVR", "CPA"),
    "campaign_country": ("US",),
    "site": ("amazon.com", "imdb.com", "twitch.tv", "fire tv", "news site", "recipe site"),
    "page_type": ("Home", "Search", "Detail", "Browse", "Checkout"),
    "conversion_event_name": ("Purchase", "Detail page view", "Add to cart"),
    "video_quartile": ("start", "first quartile", "midpoint", "third quartile", "complete"),
    "video_creative_duration": ("15s", "30s", "60s"),
}


def column_values(rows: Rows, column: Column) -> pa.Array[Any]:
    """The values of `column` for `rows`."""
    if column.array:
        return _array(rows, column)
    return _scalar(rows, column)


def _scalar(rows: Rows, column: Column) -> pa.Array[Any]:
    if column.name == "user_id" and column.data_type is DataType.STRING:
        return _take(rows.world.user_ids, rows.user)
    if column.name == "device_id" and column.data_type is DataType.STRING:
        ids = device_ids(rows.world, np.maximum(rows.user, 0), rows.entity("device"))
        return _null_where(ids, ~rows.has_user if not rows.has_user.all() else None)
    named = _NAMED.get(column.name)
    if named is not None:
        entity, rule = named
        found = rule(rows.world, rows.entity(entity), column.data_type)
        if found is not None:
            return found
    if column.threshold not in _OPAQUE:
        if column.name.endswith("_asin") and column.data_type is DataType.STRING:
            return _take(rows.world.entities.asins.code, rows.entity("asin"))
        for prefix, entity in _PREFIXES:
            if column.name.startswith(prefix):
                return _attribute(rows, column, entity)
    return _generic(rows, column, rows.hash(column.name), None)


def _attribute(rows: Rows, column: Column, entity: str) -> pa.Array[Any]:
    """A column describing an entity: hashed on the entity, so each entity has one value."""
    index = rows.entity(entity)
    seed = rows.world.config.seed
    h = hash64(seed, stream("entity", entity, column.name), np.maximum(index, 0))
    return _generic(rows, column, h, index < 0)


def _generic(rows: Rows, column: Column, h: U64, missing: Bools | None) -> pa.Array[Any]:
    kind, name = column.data_type, column.name
    if kind is DataType.TIMESTAMP:
        return pa.array(_moment(rows, name, missing) * 1000, pa.timestamp("ms"), mask=missing)
    if kind is DataType.DATE:
        days = (_moment(rows, name, missing) // DAY_SECONDS).astype(np.int32)
        return pa.array(days, pa.date32(), mask=missing)
    if kind is DataType.BOOLEAN:
        return pa.array((h % np.uint64(10)) < np.uint64(3), pa.bool_(), mask=missing)
    if kind is DataType.STRING:
        return _null_where(_strings(rows, column, h), missing)
    values = _numbers(rows, column, h)
    if kind is DataType.DOUBLE:
        return pa.array(values / 100.0, pa.float64(), mask=missing)
    if kind is DataType.DECIMAL:
        return _null_where(decimals(values * 100), missing)
    return pa.array(values, ARROW_TYPES[kind], mask=missing)


def _moment(rows: Rows, name: str, missing: Bools | None) -> I64:
    """Epoch seconds for a time column: the row's time; an entity's start or end date the
    bounds of the row's month (so each entity has one flight per month)."""
    ts = rows.ts
    if missing is None or not ("start" in name or "end" in name):
        # `..._dt_hour_utc` and the like: the time truncated to its hour.
        return ts - ts % 3600 if "hour" in name else ts
    days = ts // DAY_SECONDS
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    if "start" in name:
        return months.astype("datetime64[D]").astype(np.int64) * DAY_SECONDS
    following = (months + 1).astype("datetime64[D]").astype(np.int64)
    return following * DAY_SECONDS - 1


def _numbers(rows: Rows, column: Column, h: U64) -> I64:
    """Whole numbers (cents for DOUBLE and DECIMAL)."""
    name, cls = column.name, column.threshold
    metric = column.role is ColumnRole.METRIC or cls is ThresholdClass.NONE
    whole = column.data_type in (DataType.LONG, DataType.INTEGER)
    if whole and not metric:
        calendar = _calendar(rows, name, h)
        if calendar is not None:
            return calendar
    if _MONEY.search(name):
        if whole:  # AMC's money columns in whole numbers count micro- or millicents
            return 100 + (h % np.uint64(100_000)).astype(np.int64)
        return 1 + (h % np.uint64(9_999)).astype(np.int64)
    if cls in _OPAQUE:
        return (h >> np.uint64(34)).astype(np.int64)
    if metric:
        if column.data_type in (DataType.DOUBLE, DataType.DECIMAL):
            return (h % np.uint64(10_000)).astype(np.int64)
        return 1 + (h % np.uint64(5)).astype(np.int64)
    count = _FEW if cls in _FEW_CLASSES else _MANY
    if name.endswith("_id"):
        return 100_000_000 + (h % np.uint64(count)).astype(np.int64) * 7_919
    return 1_000 + (h % np.uint64(count)).astype(np.int64)


def _calendar(rows: Rows, name: str, h: U64) -> I64 | None:
    """Hour, day of month, month or year of the row's time for columns named so; a model year
    (2008 to 2024) for a year that is not an event's."""
    moment = rows.ts.astype("datetime64[s]")
    if "hour" in name:
        return ((rows.ts // 3600) % 24).astype(np.int64)
    if "month" in name:
        return (moment.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int64)
    if "year" in name:
        if any(word in name for word in ("_utc", "date", "event", "purchase")):
            return (moment.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int64)
        return 2008 + (h % np.uint64(17)).astype(np.int64)
    if name.endswith(("_day", "_day_utc")):
        first = moment.astype("datetime64[M]").astype("datetime64[s]")
        day: I64 = ((moment - first).astype(np.int64) // DAY_SECONDS + 1).astype(np.int64)
        return day
    return None


def _strings(rows: Rows, column: Column, h: U64) -> pa.Array[Any]:
    if column.threshold in _OPAQUE:
        seed = rows.world.config.seed
        return hex_strings([h, hash64(seed, stream(column.name, "#b"), h.astype(np.int64))])
    words = _VOCABULARY.get(column.name)
    if words is None and "conversion" in rows.table.name:
        words = _CONVERSION_VOCABULARY.get(column.name)
    if words is None and "year" in column.name:
        words = tuple(str(year) for year in range(2008, 2025))
    if words is None:
        count = _FEW if column.threshold in _FEW_CLASSES else _MANY
        words = tuple(f"{column.name} {i + 1}" for i in range(count))
    labels = pa.array(words, pa.string())
    return labels.take((h % np.uint64(len(words))).astype(np.int64))


def _array(rows: Rows, column: Column) -> pa.Array[Any]:
    """Zero to three elements per row, each valued like a scalar of the element type."""
    lengths = (rows.hash(column.name, "#len") % np.uint64(_MAX_ARRAY + 1)).astype(np.int64)
    index = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    slot = np.arange(len(index), dtype=np.int64) - np.repeat(starts, lengths)
    elements = rows.expanded(index, slot)
    scalar = Column(_element_name(column), column.data_type, column.threshold)
    if scalar.name in _NAMED:
        values = _scalar(elements, scalar)
    else:  # one value per element, not an attribute of the row's entity
        values = _generic(elements, scalar, elements.hash(column.name), None)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32), pa.int32())
    return pa.ListArray.from_arrays(offsets, values, type=column_type(column))


def _element_name(column: Column) -> str:
    """The name an array's elements are valued by: segment and ASIN lists hold the population's
    segments and ASINs; other lists are valued as their singular."""
    numeric = column.data_type in _NUMBERS
    if "segment" in column.name:
        return "segment_id" if numeric else "segment_name"
    if "asin" in column.name and not numeric:
        return "asin"
    return column.name.removesuffix("s")
