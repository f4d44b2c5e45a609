"""Tests of the synthetic AMC data: determinism, schema, time windows and the data's shape."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest

from amc_manager.catalogue import ATTRIBUTION_WINDOW, CATALOGUE, Cadence
from amc_manager.sandbox.data import DataConfig, SyntheticData
from amc_manager.sandbox.synthetic import periodic
from amc_manager.sandbox.tables import USER_KEY_COLUMN

TABLES = CATALOGUE.tables

NOW = datetime(2026, 11, 26, 12)
AVAILABLE = datetime(2026, 11, 24, 12)  # NOW - 48 h
RETAINED = datetime(2025, 10, 24)  # 396 days before AVAILABLE's day
DAY = (datetime(2026, 10, 5), datetime(2026, 10, 6))
WEEK = (datetime(2026, 10, 5), datetime(2026, 10, 12))
HEX32 = re.compile(r"^[0-9a-f]{32}$")
ENTITY_PREFIXES = ("campaign_", "line_item_", "creative_", "advertiser_", "ad_group_", "segment_")
ARROW_TYPES = {
    "STRING": pa.string(),
    "LONG": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "DECIMAL": pa.decimal128(38, 4),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("ms"),
}
_DIGEST_SCRIPT = """
import hashlib, sys
from datetime import datetime
import pyarrow as pa
from amc_manager.sandbox.data import SyntheticData
t = SyntheticData().window(sys.argv[1], datetime(2026, 10, 5), datetime(2026, 10, 6),
                           now=datetime(2026, 11, 26, 12))
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, t.schema) as writer:
    writer.write_table(t)
print(hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest())
"""


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return SyntheticData()


def read(data: SyntheticData, table: str, span: tuple[datetime, datetime]) -> pa.Table:
    return data.window(table, span[0], span[1], now=NOW)


def col(table: pa.Table, name: str) -> npt.NDArray[Any]:
    return table.column(name).to_numpy()


def ms(moment: datetime) -> np.datetime64:
    return np.datetime64(moment, "ms")


def digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def distinct_users_by(table: pa.Table, keys: npt.NDArray[Any]) -> dict[Any, int]:
    """Distinct users (by the hidden user key) per value of `keys`."""
    labels, inverse = np.unique(keys, return_inverse=True)
    pairs = np.unique(np.stack([inverse, col(table, USER_KEY_COLUMN)]), axis=1)
    counts = np.bincount(pairs[0], minlength=len(labels))
    return dict(zip(labels.tolist(), counts.tolist(), strict=True))


# --- configuration, laziness and the static time rules ---------------------------------------


def test_defaults() -> None:
    config = DataConfig()
    assert config.seed == 20240601
    assert config.users >= 50_000
    assert (config.advertisers, config.campaigns, config.asins) == (4, 20, 200)


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        DataConfig(advertisers=4, campaigns=7)
    with pytest.raises(ValueError):
        DataConfig(seed=-1)


def test_construction_generates_nothing() -> None:
    # Building the world or any day takes far longer than this; construction must defer both.
    started = time.perf_counter()
    for _ in range(50):
        SyntheticData()
    assert time.perf_counter() - started < 0.25


def test_available_until_and_retention_start() -> None:
    assert SyntheticData.available_until(datetime(2026, 11, 26, 12, 34, 56)) == AVAILABLE
    assert SyntheticData.available_until(NOW) == AVAILABLE
    assert SyntheticData.available_until(NOW.replace(tzinfo=UTC)) == AVAILABLE
    assert SyntheticData.retention_start(datetime(2026, 11, 26, 12, 34, 56)) == RETAINED


# --- determinism -----------------------------------------------------------------------------


def test_same_day_is_identical_across_instances_and_call_orders(data: SyntheticData) -> None:
    first = read(data, "dsp_impressions", DAY)
    fresh = SyntheticData()
    read(fresh, "conversions", WEEK)  # generates other days and kinds first
    assert read(fresh, "dsp_impressions", DAY).equals(first)
    assert read(fresh, "conversions", DAY).equals(read(data, "conversions", DAY))


def test_a_day_reads_the_same_inside_a_longer_window(data: SyntheticData) -> None:
    week = read(data, "dsp_impressions", WEEK)
    dt = col(week, "impression_dt")
    inside = (dt >= ms(DAY[0])) & (dt < ms(DAY[1]))
    assert week.filter(pa.array(inside)).equals(read(data, "dsp_impressions", DAY))


@pytest.mark.parametrize("table", ["dsp_impressions", "conversions"])
def test_same_rows_in_another_process(data: SyntheticData, table: str) -> None:
    # A different hash seed proves nothing depends on Python's salted hash().
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST_SCRIPT, table],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == digest(read(data, table, DAY))


def test_another_seed_gives_other_rows(data: SyntheticData) -> None:
    other = SyntheticData(DataConfig(seed=7))
    mine, theirs = read(data, "dsp_impressions", DAY), read(other, "dsp_impressions", DAY)
    assert not mine.equals(theirs)
    assert not set(col(mine, "user_id")[:100]) & set(col(theirs, "user_id"))


def test_user_attributes_depend_only_on_seed_and_index(data: SyntheticData) -> None:
    small = SyntheticData(DataConfig(users=2_000)).users_frame()
    assert small.equals(data.users_frame().slice(0, 2_000))


# --- schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLES))
def test_schema_matches_catalogue(data: SyntheticData, name: str) -> None:
    spec = TABLES[name]
    # Tables that come in weekly or monthly batches need a longer window to meet one.
    table = read(data, name, (DAY[0] - timedelta(days=40), DAY[1]) if periodic(spec) else DAY)
    assert table.schema.names == [*spec.column_names, USER_KEY_COLUMN]
    expected = [
        pa.list_(ARROW_TYPES[c.data_type]) if c.array else ARROW_TYPES[c.data_type]
        for c in spec.columns
    ] + [pa.int64()]
    assert table.schema.types == expected
    assert table.num_rows > 0
    later = data.window(name, AVAILABLE, AVAILABLE + timedelta(days=1), now=NOW)
    assert later.schema == table.schema
    if spec.cadence is Cadence.SNAPSHOT and spec.window_column is None:
        assert later.equals(table)  # no window: the latest snapshot, whatever the window
    else:
        assert later.num_rows == 0


def test_unknown_table_is_rejected(data: SyntheticData) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        read(data, "dsp_views_by_hour", DAY)  # no such AMC table
    assert read(data, "DSP_Clicks", DAY).num_rows > 0  # AMC names are case-insensitive


# --- users -----------------------------------------------------------------------------------


def test_user_pool(data: SyntheticData) -> None:
    users = data.users_frame()
    assert users.num_rows == data.config.users >= 50_000
    assert (col(users, "user_key") == np.arange(users.num_rows)).all()
    ids = col(users, "user_id")
    assert len(set(ids)) == len(ids) and all(HEX32.match(i) for i in ids[:1000])


def test_rows_carry_their_users_id(data: SyntheticData) -> None:
    ids = col(data.users_frame(), "user_id")
    for name in ("dsp_impressions", "sponsored_ads_traffic", "conversions"):
        table = read(data, name, DAY)
        assert (col(table, "user_id") == ids[col(table, USER_KEY_COLUMN)]).all()


def test_distinct_users_per_day_are_plausible(data: SyntheticData) -> None:
    for name in ("dsp_impressions", "sponsored_ads_traffic"):
        users = len(np.unique(col(read(data, name, DAY), USER_KEY_COLUMN)))
        assert 5_000 < users < data.config.users // 2


def test_dsp_and_sponsored_ads_audiences_overlap(data: SyntheticData) -> None:
    dsp = set(col(read(data, "dsp_impressions", WEEK), USER_KEY_COLUMN).tolist())
    shoppers = set(col(read(data, "sponsored_ads_traffic", WEEK), USER_KEY_COLUMN).tolist())
    both = len(dsp & shoppers)
    assert 0.3 <= both / len(dsp) <= 0.7
    assert 0.3 <= both / len(shoppers) <= 0.7


def test_postal_codes_are_skewed(data: SyntheticData) -> None:
    day = read(data, "dsp_impressions", DAY)
    users = distinct_users_by(day, col(day, "postal_code"))
    assert max(users.values()) >= 100
    assert sum(n < 100 for n in users.values()) >= 500


def test_every_hour_has_a_hundred_users(data: SyntheticData) -> None:
    day = read(data, "dsp_impressions", DAY)
    hours = col(day, "impression_dt").astype("datetime64[h]")
    users = distinct_users_by(day, hours)
    assert len(users) == 24
    assert min(users.values()) >= 100


def test_geography_agrees_with_postal_code(data: SyntheticData) -> None:
    day = read(data, "dsp_impressions", DAY)
    postal = col(day, "postal_code")
    for name in ("city_name", "dma_code", "iso_state_province_code"):
        pairs = set(zip(postal, col(day, name), strict=True))
        assert len(pairs) == len(set(postal))
    assert set(col(day, "device_type")) == {"Desktop", "Phone", "Tablet", "TV", "Other"}


# --- table semantics -------------------------------------------------------------------------


def test_dsp_impressions(data: SyntheticData) -> None:
    day = read(data, "dsp_impressions", DAY)
    dt = col(day, "impression_dt")
    assert (dt == col(day, "impression_dt_utc")).all()
    assert (dt.astype("datetime64[D]") == col(day, "impression_date_utc")).all()
    assert (col(day, "impressions") == 1).all()
    cost = col(day, "impression_cost")
    assert (cost <= col(day, "bid_price")).all() and (col(day, "total_cost") >= cost).all()
    assert len(set(col(day, "request_tag"))) == day.num_rows
    assert (col(day, "campaign_id_string") == col(day, "campaign_id").astype(str)).all()
    assert all(name.endswith(" DSP") for name in set(col(day, "campaign")))


def test_dsp_clicks_follow_their_impressions(data: SyntheticData) -> None:
    impressions = read(data, "dsp_impressions", DAY)
    clicks = read(data, "dsp_clicks", DAY)
    assert 0.004 < clicks.num_rows / impressions.num_rows < 0.012
    click_dt, impression_dt = col(clicks, "click_dt"), col(clicks, "impression_dt")
    delay = click_dt - impression_dt
    assert (delay > np.timedelta64(0, "s")).all() and (delay <= np.timedelta64(30, "m")).all()
    assert ((click_dt >= ms(DAY[0])) & (click_dt < ms(DAY[1]))).all()
    users = dict(zip(col(impressions, "request_tag"), col(impressions, "user_id"), strict=True))
    same_day = impression_dt >= ms(DAY[0])
    clicked = [users[tag] for tag in col(clicks, "request_tag")[same_day]]
    assert clicked == col(clicks, "user_id")[same_day].tolist()


def test_sponsored_ads_traffic(data: SyntheticData) -> None:
    day = read(data, "sponsored_ads_traffic", DAY)
    impressions, clicks = col(day, "impressions"), col(day, "clicks")
    assert ((impressions + clicks) == 1).all()
    assert ((col(day, "spend") > 0) == (clicks == 1)).all()
    assert (col(day, "viewable_impressions") <= impressions).all()
    product = col(day, "ad_product_type")
    assert set(product) == {"sponsored_products", "sponsored_brands", "sponsored_display"}
    display = product == "sponsored_display"
    assert (
        pa.array(col(day, "match_type")).is_null().to_numpy(zero_copy_only=False) == display
    ).all()
    assert 0.01 < clicks.sum() / impressions.sum() < 0.06


def check_attributed(table: pa.Table, users: pa.Table) -> None:
    """Invariants both attributed-events tables share."""
    traffic, conversion = col(table, "traffic_event_dt_utc"), col(table, "conversion_event_dt_utc")
    assert (conversion >= traffic).all()
    assert (conversion - traffic <= np.timedelta64(ATTRIBUTION_WINDOW)).all()
    assert (conversion.astype("datetime64[D]") == col(table, "conversion_event_date_utc")).all()
    impressions, clicks = col(table, "impressions"), col(table, "clicks")
    assert ((impressions + clicks) == 1).all() and (col(table, "conversions") == 1).all()
    assert (col(table, "traffic_event_type") == np.where(clicks == 1, "click", "impression")).all()
    assert (col(table, "purchases") <= col(table, "total_purchases")).all()
    assert (col(table, "units_sold") <= col(table, "total_units_sold")).all()
    assert (col(table, "product_sales") <= col(table, "total_product_sales")).all()
    assert all(re.match(r"^B0[0-9A-Z]{8}$", a) for a in set(col(table, "tracked_asin")))
    owners = set(zip(col(table, "tracked_asin"), col(table, "advertiser"), strict=True))
    assert len(owners) == len(set(col(table, "tracked_asin")))
    dsp = pa.array(col(table, "ad_product_type")).is_null().to_numpy(zero_copy_only=False)
    assert (dsp == np.char.endswith(col(table, "campaign").astype(str), " DSP")).all()
    key = col(table, USER_KEY_COLUMN)
    assert col(users, "dsp_reachable")[key[dsp]].all()
    assert col(users, "sponsored_ads_shopper")[key[~dsp]].all()


def test_attributed_by_traffic_time(data: SyntheticData) -> None:
    table = read(data, "amazon_attributed_events_by_traffic_time", WEEK)
    traffic = col(table, "traffic_event_dt_utc")
    assert ((traffic >= ms(WEEK[0])) & (traffic < ms(WEEK[1]))).all()
    assert set(col(table, "traffic_event_type")) == {"impression", "click"}
    check_attributed(table, data.users_frame())


def test_attributed_by_conversion_time(data: SyntheticData) -> None:
    table = read(data, "amazon_attributed_events_by_conversion_time", WEEK)
    conversion = col(table, "conversion_event_dt_utc")
    assert ((conversion >= ms(WEEK[0])) & (conversion < ms(WEEK[1]))).all()
    assert (col(table, "traffic_event_dt_utc") < ms(WEEK[0])).any()  # lookback reaches earlier
    check_attributed(table, data.users_frame())
    wider = (WEEK[0] - ATTRIBUTION_WINDOW - timedelta(days=1), WEEK[1])
    by_traffic = read(data, "amazon_attributed_events_by_traffic_time", wider)
    assert _rows(table) <= _rows(by_traffic)


def _rows(table: pa.Table) -> set[tuple[Any, ...]]:
    return set(zip(*(table.column(n).to_pylist() for n in table.schema.names), strict=True))


def test_conversions_contain_every_attributed_conversion(data: SyntheticData) -> None:
    conversions = read(data, "conversions", WEEK)
    attributed = read(data, "amazon_attributed_events_by_conversion_time", WEEK)
    ours = ["user_id", "conversion_event_dt_utc", "tracked_asin", "units_sold", "product_sales"]
    theirs = ["user_id", "event_dt_utc", "tracked_asin", "total_units_sold", "total_product_sales"]
    assert _rows(attributed.select(ours)) <= _rows(conversions.select(theirs))
    assert conversions.num_rows > 2 * attributed.num_rows  # organic conversions too
    assert (col(conversions, "conversions") == 1).all()
    assert len(set(col(conversions, "conversion_id"))) == conversions.num_rows


# --- the window's limits ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLES))
def test_nothing_at_or_after_available_until(data: SyntheticData, name: str) -> None:
    # Monthly snapshots need a longer look back to find one.
    back = 40 if periodic(TABLES[name]) else 3
    table = data.window(
        name, AVAILABLE - timedelta(days=back), AVAILABLE + timedelta(days=3), now=NOW
    )
    assert table.num_rows > 0
    for column in TABLES[name].columns:
        # Entity attributes (a campaign's end date) may lie ahead; event times may not.
        if column.data_type == "TIMESTAMP" and not column.name.startswith(ENTITY_PREFIXES):
            assert (col(table, column.name) < ms(AVAILABLE)).all()


@pytest.mark.parametrize("name", ["dsp_impressions", "amazon_attributed_events_by_conversion_time"])
def test_nothing_before_retention_start(data: SyntheticData, name: str) -> None:
    window_column = TABLES[name].window_column
    assert window_column is not None
    table = data.window(name, RETAINED - timedelta(hours=6), RETAINED + timedelta(hours=6), now=NOW)
    moments = col(table, window_column)
    assert len(moments) > 0 and (moments >= ms(RETAINED)).all()
    assert data.window(name, RETAINED - timedelta(days=2), RETAINED, now=NOW).num_rows == 0


def test_partial_day_windows(data: SyntheticData) -> None:
    start, end = datetime(2026, 10, 5, 10), datetime(2026, 10, 5, 14)
    table = data.window("sponsored_ads_traffic", start, end, now=NOW)
    moments = col(table, "event_dt_utc")
    assert table.num_rows > 0 and ((moments >= ms(start)) & (moments < ms(end))).all()
