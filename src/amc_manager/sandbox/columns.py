"""Synthetic AMC sandbox output: numpy event frames as Arrow tables with the catalogue's columns.

The six modelled tables build their documented columns here, each only when a query reads it;
any other catalogued column of theirs (and every column of the other tables) is derived by
`values.py` from the row's user, time and entities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from amc_manager.catalogue import Column, DataType, Table, ThresholdClass
from amc_manager.sandbox.daily import DAY_SECONDS, Frame, World
from amc_manager.sandbox.entities import PLACEMENTS, SUPPLY_SOURCES, strings
from amc_manager.sandbox.population import (
    DEVICE_TYPES,
    I64,
    OPERATING_SYSTEMS,
    Salt,
    hash64,
    hex_strings,
)
from amc_manager.sandbox.tables import USER_KEY_COLUMN
from amc_manager.sandbox.values import (
    ARROW_TYPES,
    NO_USER,
    Rows,
    column_type,
    column_values,
    decimals,
    device_ids,
)

__all__ = ["ARROW_TYPES", "Built", "assemble", "decimals", "schema_of"]

# Column builders of one frame, called only for the columns a query reads.
Lazy = dict[str, Callable[[], "pa.Array[Any]"]]  # quoted: pa.Array is not subscriptable
# What a modelled table's builder gives: the rows (for derived columns) and its own columns.
Built = tuple[Rows, Lazy]

_DEVICES = strings(DEVICE_TYPES)
_SYSTEMS = strings(OPERATING_SYSTEMS)
_SUPPLY = strings(SUPPLY_SOURCES)
_PLACEMENTS = strings(PLACEMENTS)
_TRAFFIC_TYPES = strings(["impression", "click"])
_CATEGORIES = strings(["purchase", "website", "website"])
_SUBTYPES = strings(["order", "detailPageView", "shoppingCart"])
_EVENT_NAMES = strings(["Purchase", "Detail page view", "Add to cart"])
_US = strings(["US"])
_CONVERSION = strings(["Conversion"])
# Rows the two attributed-events tables share keep one family, so their derived columns agree.
ATTRIBUTED_FAMILY = "amazon_attributed_events"


def schema_of(table: Table, names: Iterable[str] | None = None) -> pa.Schema:
    """The Arrow schema of a table: its columns (`names`, in that order, or all the catalogue's
    in order), then the hidden user key."""
    chosen = table.column_names if names is None else tuple(names)
    fields = [pa.field(n, column_type(_column(table, n))) for n in chosen]
    return pa.schema([*fields, pa.field(USER_KEY_COLUMN, pa.int64())])


def _column(table: Table, name: str) -> Column:
    column = table.column(name)
    if column is None:
        raise ValueError(f"table {table.name} has no column {name!r}")
    return column


def assemble(
    rows: Rows, lazy: Lazy, names: Iterable[str] | None = None, *, compact: bool = False
) -> pa.Table:
    """The Arrow table of `rows`: columns `names` (default: all) built by `lazy` where it has
    them, derived from the rows otherwise, then the hidden user key (NULL for no user).

    `compact` dictionary-encodes each text column that repeats values (all but VERY_HIGH and
    INTERNAL ones), one column at a time: a month of a wide table then fits in a fraction of
    the memory, and SQL reads it as the same text (DuckDB sees VARCHAR)."""
    table = rows.table
    chosen = table.column_names if names is None else tuple(names)
    arrays = []
    for name in chosen:
        column = _column(table, name)
        array = lazy[name]() if name in lazy else column_values(rows, column)
        if compact and _repeats(column):
            array = pc.dictionary_encode(array)
        arrays.append(array)
    user = rows.user
    missing = user == NO_USER
    key = pa.array(user, pa.int64(), mask=missing if missing.any() else None)
    if compact:
        return pa.Table.from_arrays([*arrays, key], names=[*chosen, USER_KEY_COLUMN])
    return pa.Table.from_arrays([*arrays, key], schema=schema_of(table, chosen))


def _repeats(column: Column) -> bool:
    """A text column whose values repeat across rows (ids unique per row do not)."""
    opaque = column.threshold in (ThresholdClass.VERY_HIGH, ThresholdClass.INTERNAL)
    return column.data_type is DataType.STRING and not column.array and not opaque


def _take(values: pa.Array[Any], index: npt.NDArray[Any]) -> pa.Array[Any]:
    return values.take(np.asarray(index, np.int64))


def _longs(values: npt.NDArray[Any]) -> pa.Array[Any]:
    return pa.array(np.asarray(values, np.int64), pa.int64())


def _timestamps(seconds: I64) -> pa.Array[Any]:
    return pa.array(seconds * 1000, pa.timestamp("ms"))


def _dates(seconds: I64) -> pa.Array[Any]:
    return pa.array((seconds // DAY_SECONDS).astype(np.int32), pa.date32())


def _constant(value: pa.StringArray, n: int) -> pa.Array[Any]:
    return _take(value, np.zeros(n, np.int64))


def _ones(n: int) -> pa.Array[Any]:
    return _longs(np.ones(n, np.int64))


def _opaque(world: World, key: I64) -> pa.StringArray:
    seed = world.config.seed
    return hex_strings([hash64(seed, Salt.ROW_ID_A, key), hash64(seed, Salt.ROW_ID_B, key)])


def _dsp_dimensions(world: World, f: Frame) -> Lazy:
    e, geo = world.entities, world.geography
    campaign, line_item, creative = f["campaign"], f["line_item"], f["creative"]
    advertiser = e.campaigns.advertiser[campaign]
    postal = world.users.postal[f["user"]]
    return {
        "advertiser": lambda: _take(e.advertisers.name, advertiser),
        "advertiser_id": lambda: _longs(e.advertisers.id[advertiser]),
        "advertiser_timezone": lambda: _take(e.advertisers.timezone, advertiser),
        "campaign": lambda: _take(e.campaigns.name, campaign),
        "campaign_id": lambda: _longs(e.campaigns.id[campaign]),
        "campaign_id_string": lambda: _take(e.campaigns.id_string, campaign),
        "line_item": lambda: _take(e.line_items.name, line_item),
        "line_item_id": lambda: _longs(e.line_items.id[line_item]),
        "creative": lambda: _take(e.line_items.creative_name, creative),
        "creative_id": lambda: _longs(e.line_items.creative_id[creative]),
        "creative_type": lambda: _take(e.line_items.creative_type, creative),
        "device_type": lambda: _take(_DEVICES, f["device"]),
        "operating_system": lambda: _take(_SYSTEMS, f["os"]),
        "supply_source": lambda: _take(_SUPPLY, f["supply"]),
        "iso_country_code": lambda: _constant(_US, len(postal)),
        "iso_state_province_code": lambda: _take(geo.state, postal),
        "dma_code": lambda: _take(geo.dma_code, postal),
        "city_name": lambda: _take(geo.city_name, postal),
        "postal_code": lambda: _take(geo.postal_code, postal),
        "device_id": lambda: device_ids(world, f["user"], f["device"]),
        "user_id": lambda: _take(world.user_ids, f["user"]),
    }


def dsp_impressions(world: World, table: Table, f: Frame) -> Built:
    columns = _dsp_dimensions(world, f)
    columns["impression_dt"] = columns["impression_dt_utc"] = lambda: _timestamps(f["ts"])
    columns["impression_date_utc"] = lambda: _dates(f["ts"])
    columns["impressions"] = lambda: _ones(len(f["ts"]))
    columns["total_cost"] = lambda: pa.array(f["total_cost"], pa.float64())
    columns["impression_cost"] = lambda: _longs(f["cost"])
    columns["bid_price"] = lambda: _longs(f["bid"])
    columns["request_tag"] = lambda: _opaque(world, f["key"])
    return Rows(world, table, table.name, f), columns


def dsp_clicks(world: World, table: Table, f: Frame) -> Built:
    columns = _dsp_dimensions(world, f)
    columns["impression_dt"] = lambda: _timestamps(f["impression_ts"])
    columns["click_dt"] = columns["click_dt_utc"] = lambda: _timestamps(f["ts"])
    columns["click_date_utc"] = lambda: _dates(f["ts"])
    columns["clicks"] = lambda: _ones(len(f["ts"]))
    # DSP buys by the impression: a click costs what its impression cost.
    columns["click_cost"] = lambda: _longs(f["cost"])
    columns["request_tag"] = lambda: _opaque(world, f["impression_key"])
    return Rows(world, table, table.name, f), columns


def sponsored_ads(world: World, table: Table, f: Frame) -> Built:
    e, campaign = world.entities, f["campaign"]
    columns: Lazy = {
        "ad_product_type": lambda: _take(e.campaigns.ad_product_type, campaign),
        "advertiser": lambda: _take(e.advertisers.name, e.campaigns.advertiser[campaign]),
        "campaign": lambda: _take(e.campaigns.name, campaign),
        "campaign_id": lambda: _longs(e.campaigns.id[campaign]),
        "ad_group": lambda: _take(e.targeting.ad_group_name, f["ad_group"]),
        "targeting": lambda: _take(e.targeting.text, f["target"]),
        "customer_search_term": lambda: _take(e.targeting.search_terms, f["term"]),
        "match_type": lambda: _take(e.targeting.match_type, f["target"]),
        "placement_type": lambda: _take(_PLACEMENTS, f["placement"]),
        "device_type": lambda: _take(_DEVICES, f["device"]),
        "event_dt_utc": lambda: _timestamps(f["ts"]),
        "event_date_utc": lambda: _dates(f["ts"]),
        "impressions": lambda: _longs(f["impressions"]),
        "viewable_impressions": lambda: _longs(f["viewable"]),
        "clicks": lambda: _longs(f["clicks"]),
        "spend": lambda: _longs(f["spend"]),
        "event_id": lambda: _opaque(world, f["key"]),
        "user_id": lambda: _take(world.user_ids, f["user"]),
    }
    return Rows(world, table, table.name, f), columns


def attributed(world: World, table: Table, f: Frame) -> Built:
    """Rows of either attributed-events table (they differ only in how a window selects)."""
    e, campaign, asin = world.entities, f["campaign"], f["asin"]
    columns: Lazy = {
        "ad_product_type": lambda: _take(e.campaigns.ad_product_type, campaign),
        "advertiser": lambda: _take(e.advertisers.name, f["advertiser"]),
        "advertiser_id": lambda: _longs(e.advertisers.id[f["advertiser"]]),
        "campaign": lambda: _take(e.campaigns.name, campaign),
        "campaign_id": lambda: _longs(e.campaigns.id[campaign]),
        "tracked_asin": lambda: _take(e.asins.code, asin),
        "tracked_item": lambda: _take(e.asins.item, asin),
        "traffic_event_type": lambda: _take(_TRAFFIC_TYPES, f["event"]),
        "conversion_event_category": lambda: _take(_CATEGORIES, f["category"]),
        "conversion_event_subtype": lambda: _take(_SUBTYPES, f["category"]),
        "new_to_brand": lambda: pa.array(f["new_to_brand"], pa.bool_()),
        "traffic_event_dt_utc": lambda: _timestamps(f["traffic_ts"]),
        "conversion_event_dt_utc": lambda: _timestamps(f["ts"]),
        "conversion_event_date_utc": lambda: _dates(f["ts"]),
        "impressions": lambda: _longs(f["event"] == 0),
        "clicks": lambda: _longs(f["event"] == 1),
        "conversions": lambda: _ones(len(asin)),
        "purchases": lambda: _longs(f["purchases"]),
        "total_purchases": lambda: _longs(f["total_purchases"]),
        "units_sold": lambda: _longs(f["units"]),
        "total_units_sold": lambda: _longs(f["total_units"]),
        "product_sales": lambda: decimals(f["sales"]),
        "total_product_sales": lambda: decimals(f["total_sales"]),
        "user_id": lambda: _take(world.user_ids, f["user"]),
    }
    return Rows(world, table, ATTRIBUTED_FAMILY, f), columns


def conversions(world: World, table: Table, f: Frame) -> Built:
    """Conversion events: the tracked ASIN's own units and sales (halo items are not in them)."""
    e, category = world.entities, f["category"]
    columns: Lazy = {
        "advertiser": lambda: _take(e.advertisers.name, f["advertiser"]),
        "event_type": lambda: _constant(_CONVERSION, len(category)),
        "event_category": lambda: _take(_CATEGORIES, category),
        "event_subtype": lambda: _take(_SUBTYPES, category),
        "conversion_event_name": lambda: _take(_EVENT_NAMES, category),
        "tracked_asin": lambda: _take(e.asins.code, f["asin"]),
        "new_to_brand": lambda: pa.array(f["new_to_brand"], pa.bool_()),
        "event_dt_utc": lambda: _timestamps(f["ts"]),
        "event_date_utc": lambda: _dates(f["ts"]),
        "conversions": lambda: _ones(len(category)),
        "total_units_sold": lambda: _longs(f["units"]),
        "total_product_sales": lambda: decimals(f["sales"]),
        "conversion_id": lambda: _opaque(world, f["key"]),
        "user_id": lambda: _take(world.user_ids, f["user"]),
    }
    return Rows(world, table, table.name, f), columns
