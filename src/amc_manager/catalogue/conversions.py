"""AMC's conversion tables (attributed events, conversions): one entry per table."""

from __future__ import annotations

from amc_manager.catalogue.common import (
    ATTRIBUTION_WINDOW,
    BOOLEAN,
    DATE,
    DECIMAL,
    LONG,
    STRING,
    TIMESTAMP,
    TRAFFIC_TIME_LOOKAHEAD,
    L,
    M,
    N,
    V,
    documented,
)
from amc_manager.catalogue.model import Column, Table

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
    provenance=documented("amazon_attributed_events_by_traffic_time"),
    description="Conversions attributed to traffic; traffic in the window, conversions up to "
    "30 days later.",
    window_column="traffic_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookahead=TRAFFIC_TIME_LOOKAHEAD,
)

_BY_CONVERSION_TIME = Table(
    name="amazon_attributed_events_by_conversion_time",
    provenance=documented("amazon_attributed_events_by_conversion_time"),
    description="Conversions attributed to traffic; conversions in the window, traffic up to "
    "14 days earlier.",
    window_column="conversion_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookback=ATTRIBUTION_WINDOW,
)

_CONVERSIONS = Table(
    name="conversions",
    provenance=documented("conversions"),
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

TABLES: tuple[Table, ...] = (_BY_TRAFFIC_TIME, _BY_CONVERSION_TIME, _CONVERSIONS)
