"""AMC's tables as documented: one entry per table, each noting where its facts come from.

Only documented facts live here (names, columns, data types, threshold classes, how a window
selects rows, retention); how the sandbox synthesises rows for them lives in the sandbox.
"""

from __future__ import annotations

from datetime import timedelta

from amc_manager.catalogue.model import (
    Catalogue,
    Column,
    DataType,
    Provenance,
    Table,
    ThresholdClass,
)

STRING, LONG, DOUBLE, DECIMAL, BOOLEAN, DATE, TIMESTAMP = (
    DataType.STRING,
    DataType.LONG,
    DataType.DOUBLE,
    DataType.DECIMAL,
    DataType.BOOLEAN,
    DataType.DATE,
    DataType.TIMESTAMP,
)


N, L, M, H, V = (
    ThresholdClass.NONE,
    ThresholdClass.LOW,
    ThresholdClass.MEDIUM,
    ThresholdClass.HIGH,
    ThresholdClass.VERY_HIGH,
)

# An instance holds 13 months of data and completes a day's data within 48 hours (amc-api.md 6.1).
RETENTION_MONTHS = 13
DATA_LAG = timedelta(hours=48)
# Attribution: conversions are credited to traffic up to 14 days earlier (amc-api.md 6.1).
ATTRIBUTION_WINDOW = timedelta(days=14)
# `..._by_traffic_time` keeps conversions up to 30 days after the traffic.
TRAFFIC_TIME_LOOKAHEAD = timedelta(days=30)


# The date the facts below were read from amc-api.md 6.1, 6.4 and 6.5 (which cites AMC's data
# source pages); re-check against the pages when this date gets old.
_READ_ON = "2026-11-26"


def _documented(table: str) -> Provenance:
    return Provenance(f"amc-api.md 6.5; DOCS/amc/datasources/{table}", _READ_ON)


_DSP_DIMENSIONS: tuple[Column, ...] = (
    Column("advertiser", STRING, L, "Advertiser name"),
    Column("advertiser_id", LONG, L, "Advertiser id"),
    Column("advertiser_timezone", STRING, L, "Advertiser time zone"),
    Column("campaign", STRING, L, "Campaign name"),
    Column("campaign_id", LONG, L, "Campaign id"),
    Column("campaign_id_string", STRING, L, "Campaign id as text"),
    Column("line_item", STRING, L, "Line item name"),
    Column("line_item_id", LONG, L, "Line item id"),
    Column("creative", STRING, L, "Creative name"),
    Column("creative_id", LONG, L, "Creative id"),
    Column("creative_type", STRING, L, "Creative type"),
    Column("device_type", STRING, L, "Device type"),
    Column("operating_system", STRING, L, "Operating system"),
    Column("supply_source", STRING, L, "Supply source"),
    Column("iso_country_code", STRING, L, "Country code"),
    Column("iso_state_province_code", STRING, L, "State or province code"),
    Column("dma_code", STRING, H, "Designated market area"),
    Column("city_name", STRING, H, "City"),
    Column("postal_code", STRING, H, "Postal code"),
)

_DSP_IMPRESSIONS = Table(
    name="dsp_impressions",
    provenance=_documented("dsp_impressions"),
    description="Amazon DSP impressions, one row per impression.",
    window_column="impression_dt",
    columns=(
        *_DSP_DIMENSIONS,
        Column("impression_dt", TIMESTAMP, M, "Impression time (UTC)"),
        Column("impression_dt_utc", TIMESTAMP, M, "Impression time (UTC)"),
        Column("impression_date_utc", DATE, L, "Impression date (UTC)"),
        Column("impressions", LONG, N, "Impression count"),
        Column("total_cost", DOUBLE, N, "Total cost in millicents, fees included"),
        Column("impression_cost", LONG, N, "Impression cost in millicents"),
        Column("bid_price", LONG, M, "Bid price in millicents"),
        Column("request_tag", STRING, V, "Ad request identifier"),
        Column("device_id", STRING, V, "Device identifier"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
    ),
)

_DSP_CLICKS = Table(
    name="dsp_clicks",
    provenance=_documented("dsp_clicks"),
    description="Amazon DSP clicks, one row per click.",
    window_column="click_dt",
    columns=(
        *_DSP_DIMENSIONS,
        Column("impression_dt", TIMESTAMP, M, "Time of the clicked impression (UTC)"),
        Column("click_dt", TIMESTAMP, M, "Click time (UTC)"),
        Column("click_dt_utc", TIMESTAMP, M, "Click time (UTC)"),
        Column("click_date_utc", DATE, L, "Click date (UTC)"),
        Column("clicks", LONG, N, "Click count"),
        Column("click_cost", LONG, M, "Click cost in millicents"),
        Column("request_tag", STRING, V, "Ad request identifier"),
        Column("device_id", STRING, V, "Device identifier"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
    ),
)

_SPONSORED_ADS_TRAFFIC = Table(
    name="sponsored_ads_traffic",
    provenance=_documented("sponsored_ads_traffic"),
    description="Sponsored ads impressions and clicks, one row per event.",
    window_column="event_dt_utc",
    columns=(
        Column("ad_product_type", STRING, L, "sponsored_products, sponsored_brands, ..."),
        Column("advertiser", STRING, L, "Advertiser name"),
        Column("campaign", STRING, L, "Campaign name"),
        Column("campaign_id", LONG, L, "Campaign id"),
        Column("ad_group", STRING, L, "Ad group name"),
        Column("targeting", STRING, L, "Keyword or product target"),
        Column("customer_search_term", STRING, L, "Shopper search term"),
        Column("match_type", STRING, L, "Keyword match type"),
        Column("placement_type", STRING, L, "Placement"),
        Column("device_type", STRING, L, "Device type"),
        Column("event_dt_utc", TIMESTAMP, M, "Event time (UTC)"),
        Column("event_date_utc", DATE, L, "Event date (UTC)"),
        Column("impressions", LONG, N, "Impression count"),
        Column("viewable_impressions", LONG, N, "Viewable impression count"),
        Column("clicks", LONG, N, "Click count"),
        Column("spend", LONG, N, "Spend in microcents"),
        Column("event_id", STRING, V, "Event identifier"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
    ),
)

_ATTRIBUTED_COLUMNS: tuple[Column, ...] = (
    Column("ad_product_type", STRING, L, "Sponsored ads product; NULL for DSP traffic"),
    Column("advertiser", STRING, L, "Advertiser name"),
    Column("advertiser_id", LONG, L, "Advertiser id"),
    Column("campaign", STRING, L, "Campaign name"),
    Column("campaign_id", LONG, L, "Campaign id"),
    Column("tracked_asin", STRING, L, "ASIN the conversion is credited to"),
    Column("tracked_item", STRING, L, "Item the conversion is credited to"),
    Column("traffic_event_type", STRING, L, "Traffic that earned the credit: impression or click"),
    Column("conversion_event_category", STRING, L, "Conversion category"),
    Column("conversion_event_subtype", STRING, L, "Conversion subtype"),
    Column("new_to_brand", BOOLEAN, L, "First purchase of the brand in a year"),
    Column("traffic_event_dt_utc", TIMESTAMP, M, "Traffic time (UTC)"),
    Column("conversion_event_dt_utc", TIMESTAMP, M, "Conversion time (UTC)"),
    Column("conversion_event_date_utc", DATE, L, "Conversion date (UTC)"),
    Column("impressions", LONG, N, "Attributed impressions"),
    Column("clicks", LONG, N, "Attributed clicks"),
    Column("conversions", LONG, N, "Conversions"),
    Column("purchases", LONG, N, "Purchases of promoted products"),
    Column("total_purchases", LONG, N, "Purchases of the brand's products"),
    Column("units_sold", LONG, N, "Units of promoted products"),
    Column("total_units_sold", LONG, N, "Units of the brand's products"),
    Column("product_sales", DECIMAL, N, "Sales of promoted products"),
    Column("total_product_sales", DECIMAL, N, "Sales of the brand's products"),
    Column("user_id", STRING, V, "Pseudonymous user identifier"),
)

_BY_TRAFFIC_TIME = Table(
    name="amazon_attributed_events_by_traffic_time",
    provenance=_documented("amazon_attributed_events_by_traffic_time"),
    description="Conversions attributed to traffic; traffic in the window, conversions up to "
    "30 days later.",
    window_column="traffic_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookahead=TRAFFIC_TIME_LOOKAHEAD,
)

_BY_CONVERSION_TIME = Table(
    name="amazon_attributed_events_by_conversion_time",
    provenance=_documented("amazon_attributed_events_by_conversion_time"),
    description="Conversions attributed to traffic; conversions in the window, traffic up to "
    "14 days earlier.",
    window_column="conversion_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookback=ATTRIBUTION_WINDOW,
)

_CONVERSIONS = Table(
    name="conversions",
    provenance=_documented("conversions"),
    description="All conversion events of the advertisers' products, attributed or not.",
    window_column="event_dt_utc",
    columns=(
        Column("advertiser", STRING, L, "Advertiser (brand owner) name"),
        Column("event_type", STRING, L, "Event type"),
        Column("event_category", STRING, L, "Event category"),
        Column("event_subtype", STRING, L, "Event subtype"),
        Column("conversion_event_name", STRING, L, "Conversion event name"),
        Column("tracked_asin", STRING, L, "ASIN"),
        Column("new_to_brand", BOOLEAN, L, "First purchase of the brand in a year"),
        Column("event_dt_utc", TIMESTAMP, M, "Event time (UTC)"),
        Column("event_date_utc", DATE, L, "Event date (UTC)"),
        Column("conversions", LONG, N, "Conversion count"),
        Column("total_units_sold", LONG, N, "Units sold"),
        Column("total_product_sales", DECIMAL, N, "Sales"),
        Column("conversion_id", STRING, V, "Conversion identifier"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
    ),
)

CATALOGUE = Catalogue(
    (
        _DSP_IMPRESSIONS,
        _DSP_CLICKS,
        _SPONSORED_ADS_TRAFFIC,
        _BY_TRAFFIC_TIME,
        _BY_CONVERSION_TIME,
        _CONVERSIONS,
    )
)
