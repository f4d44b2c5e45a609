"""Synthetic AMC sandbox output: numpy event frames as Arrow tables with the catalogue's columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from amc_manager.catalogue import Table
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

ARROW_TYPES: Mapping[str, pa.DataType] = {
    "STRING": pa.string(),
    "LONG": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "DECIMAL": pa.decimal128(38, 4),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("ms"),
}
Columns = dict[str, "pa.Array[Any]"]  # quoted: pa.Array is not subscriptable at runtime

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


def schema_of(table: Table) -> pa.Schema:
    """The Arrow schema of a table: catalogue columns in order, then the hidden user key."""
    fields = [pa.field(c.name, ARROW_TYPES[c.data_type]) for c in table.columns]
    return pa.schema([*fields, pa.field(USER_KEY_COLUMN, pa.int64())])


def assemble(table: Table, columns: Columns, user: I64) -> pa.Table:
    arrays = [columns[name] for name in table.column_names]
    return pa.Table.from_arrays([*arrays, _longs(user)], schema=schema_of(table))


def _take(values: pa.Array[Any], index: npt.NDArray[Any]) -> pa.Array[Any]:
    return values.take(np.asarray(index, np.int64))


def _longs(values: npt.NDArray[Any]) -> pa.Array[Any]:
    return pa.array(np.asarray(values, np.int64), pa.int64())


def _timestamps(seconds: I64) -> pa.Array[Any]:
    return pa.array(seconds * 1000, pa.timestamp("ms"))


def _dates(seconds: I64) -> pa.Array[Any]:
    return pa.array((seconds // DAY_SECONDS).astype(np.int32), pa.date32())


def decimals(scaled: I64) -> pa.Array[Any]:
    """DECIMAL(38, 4) from integers counting 1/10000: 128-bit little-endian words, exact."""
    words = np.empty((len(scaled), 2), np.int64)
    words[:, 0] = scaled
    words[:, 1] = scaled >> 63  # sign extension into the high word
    return pa.Array.from_buffers(
        pa.decimal128(38, 4), len(scaled), [None, pa.py_buffer(words.tobytes())]
    )


def _constant(value: pa.StringArray, n: int) -> pa.Array[Any]:
    return _take(value, np.zeros(n, np.int64))


def _opaque(world: World, key: I64) -> pa.StringArray:
    seed = world.config.seed
    return hex_strings([hash64(seed, Salt.ROW_ID_A, key), hash64(seed, Salt.ROW_ID_B, key)])


def _device_ids(world: World, user: I64, device: I64) -> pa.StringArray:
    """One id per (user, device type): the same phone shows up again and again."""
    key, seed = user * 8 + device, world.config.seed
    return hex_strings([hash64(seed, Salt.DEVICE_ID, key), hash64(seed, Salt.DEVICE_ID, ~key)])


def _dsp_dimensions(world: World, f: Frame) -> Columns:
    e, geo = world.entities, world.geography
    campaign, line_item, creative = f["campaign"], f["line_item"], f["creative"]
    advertiser = e.campaigns.advertiser[campaign]
    postal = world.users.postal[f["user"]]
    return {
        "advertiser": _take(e.advertisers.name, advertiser),
        "advertiser_id": _longs(e.advertisers.id[advertiser]),
        "advertiser_timezone": _take(e.advertisers.timezone, advertiser),
        "campaign": _take(e.campaigns.name, campaign),
        "campaign_id": _longs(e.campaigns.id[campaign]),
        "campaign_id_string": _take(e.campaigns.id_string, campaign),
        "line_item": _take(e.line_items.name, line_item),
        "line_item_id": _longs(e.line_items.id[line_item]),
        "creative": _take(e.line_items.creative_name, creative),
        "creative_id": _longs(e.line_items.creative_id[creative]),
        "creative_type": _take(e.line_items.creative_type, creative),
        "device_type": _take(_DEVICES, f["device"]),
        "operating_system": _take(_SYSTEMS, f["os"]),
        "supply_source": _take(_SUPPLY, f["supply"]),
        "iso_country_code": _constant(_US, len(postal)),
        "iso_state_province_code": _take(geo.state, postal),
        "dma_code": _take(geo.dma_code, postal),
        "city_name": _take(geo.city_name, postal),
        "postal_code": _take(geo.postal_code, postal),
        "device_id": _device_ids(world, f["user"], f["device"]),
        "user_id": _take(world.user_ids, f["user"]),
    }


def dsp_impressions(world: World, table: Table, f: Frame) -> pa.Table:
    columns = _dsp_dimensions(world, f)
    columns["impression_dt"] = columns["impression_dt_utc"] = _timestamps(f["ts"])
    columns["impression_date_utc"] = _dates(f["ts"])
    columns["impressions"] = _longs(np.ones(len(f["ts"]), np.int64))
    columns["total_cost"] = pa.array(f["total_cost"], pa.float64())
    columns["impression_cost"] = _longs(f["cost"])
    columns["bid_price"] = _longs(f["bid"])
    columns["request_tag"] = _opaque(world, f["key"])
    return assemble(table, columns, f["user"])


def dsp_clicks(world: World, table: Table, f: Frame) -> pa.Table:
    columns = _dsp_dimensions(world, f)
    columns["impression_dt"] = _timestamps(f["impression_ts"])
    columns["click_dt"] = columns["click_dt_utc"] = _timestamps(f["ts"])
    columns["click_date_utc"] = _dates(f["ts"])
    columns["clicks"] = _longs(np.ones(len(f["ts"]), np.int64))
    # DSP buys by the impression: a click costs what its impression cost.
    columns["click_cost"] = _longs(f["cost"])
    columns["request_tag"] = _opaque(world, f["impression_key"])
    return assemble(table, columns, f["user"])


def sponsored_ads(world: World, table: Table, f: Frame) -> pa.Table:
    e, campaign = world.entities, f["campaign"]
    columns = {
        "ad_product_type": _take(e.campaigns.ad_product_type, campaign),
        "advertiser": _take(e.advertisers.name, e.campaigns.advertiser[campaign]),
        "campaign": _take(e.campaigns.name, campaign),
        "campaign_id": _longs(e.campaigns.id[campaign]),
        "ad_group": _take(e.targeting.ad_group_name, f["ad_group"]),
        "targeting": _take(e.targeting.text, f["target"]),
        "customer_search_term": _take(e.targeting.search_terms, f["term"]),
        "match_type": _take(e.targeting.match_type, f["target"]),
        "placement_type": _take(_PLACEMENTS, f["placement"]),
        "device_type": _take(_DEVICES, f["device"]),
        "event_dt_utc": _timestamps(f["ts"]),
        "event_date_utc": _dates(f["ts"]),
        "impressions": _longs(f["impressions"]),
        "viewable_impressions": _longs(f["viewable"]),
        "clicks": _longs(f["clicks"]),
        "spend": _longs(f["spend"]),
        "event_id": _opaque(world, f["key"]),
        "user_id": _take(world.user_ids, f["user"]),
    }
    return assemble(table, columns, f["user"])


def attributed(world: World, table: Table, f: Frame) -> pa.Table:
    """Rows of either attributed-events table (they differ only in how a window selects)."""
    e, campaign, asin = world.entities, f["campaign"], f["asin"]
    columns = {
        "ad_product_type": _take(e.campaigns.ad_product_type, campaign),
        "advertiser": _take(e.advertisers.name, f["advertiser"]),
        "advertiser_id": _longs(e.advertisers.id[f["advertiser"]]),
        "campaign": _take(e.campaigns.name, campaign),
        "campaign_id": _longs(e.campaigns.id[campaign]),
        "tracked_asin": _take(e.asins.code, asin),
        "tracked_item": _take(e.asins.item, asin),
        "traffic_event_type": _take(_TRAFFIC_TYPES, f["event"]),
        "conversion_event_category": _take(_CATEGORIES, f["category"]),
        "conversion_event_subtype": _take(_SUBTYPES, f["category"]),
        "new_to_brand": pa.array(f["new_to_brand"], pa.bool_()),
        "traffic_event_dt_utc": _timestamps(f["traffic_ts"]),
        "conversion_event_dt_utc": _timestamps(f["ts"]),
        "conversion_event_date_utc": _dates(f["ts"]),
        "impressions": _longs(f["event"] == 0),
        "clicks": _longs(f["event"] == 1),
        "conversions": _longs(np.ones(len(asin), np.int64)),
        "purchases": _longs(f["purchases"]),
        "total_purchases": _longs(f["total_purchases"]),
        "units_sold": _longs(f["units"]),
        "total_units_sold": _longs(f["total_units"]),
        "product_sales": decimals(f["sales"]),
        "total_product_sales": decimals(f["total_sales"]),
        "user_id": _take(world.user_ids, f["user"]),
    }
    return assemble(table, columns, f["user"])


def conversions(world: World, table: Table, f: Frame) -> pa.Table:
    """Conversion events: the tracked ASIN's own units and sales (halo items are not in them)."""
    e, category = world.entities, f["category"]
    columns = {
        "advertiser": _take(e.advertisers.name, f["advertiser"]),
        "event_type": _constant(_CONVERSION, len(category)),
        "event_category": _take(_CATEGORIES, category),
        "event_subtype": _take(_SUBTYPES, category),
        "conversion_event_name": _take(_EVENT_NAMES, category),
        "tracked_asin": _take(e.asins.code, f["asin"]),
        "new_to_brand": pa.array(f["new_to_brand"], pa.bool_()),
        "event_dt_utc": _timestamps(f["ts"]),
        "event_date_utc": _dates(f["ts"]),
        "conversions": _longs(np.ones(len(category), np.int64)),
        "total_units_sold": _longs(f["units"]),
        "total_product_sales": decimals(f["sales"]),
        "conversion_id": _opaque(world, f["key"]),
        "user_id": _take(world.user_ids, f["user"]),
    }
    return assemble(table, columns, f["user"])
