"""AMC's traffic tables (Amazon DSP, sponsored ads, ad server): one entry per table."""

from __future__ import annotations

from amc_manager.catalogue.common import (
    DATE,
    DOUBLE,
    LONG,
    STRING,
    TIMESTAMP,
    H,
    L,
    M,
    N,
    V,
    documented,
)
from amc_manager.catalogue.model import Column, Table

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
    provenance=documented("dsp_impressions"),
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
    provenance=documented("dsp_clicks"),
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
    provenance=documented("sponsored_ads_traffic"),
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

TABLES: tuple[Table, ...] = (_DSP_IMPRESSIONS, _DSP_CLICKS, _SPONSORED_ADS_TRAFFIC)
