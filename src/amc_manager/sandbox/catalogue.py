"""The sandbox's AMC tables: columns, AMC data types, threshold classes and window semantics.

This module is data. The sandbox's SQL engine and data generator read it, and the SQL linter
may read it as a known schema; the rules that use the classes live with their users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType


class ThresholdClass(StrEnum):
    """AMC's aggregation-threshold classes (amc-api.md 6.4)."""

    NONE = "NONE"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    VERY_HIGH = "VERY_HIGH"
    INTERNAL = "INTERNAL"

    @property
    def min_users(self) -> int:
        """Distinct users an output row carrying such a column must stand for."""
        return _MIN_USERS[self]

    @property
    def rank(self) -> int:
        """Order of strictness, so a row's requirement is the max over its columns."""
        return _RANK[self]

    @property
    def outputtable(self) -> bool:
        """VERY_HIGH and INTERNAL columns may never appear in a result."""
        return self not in (ThresholdClass.VERY_HIGH, ThresholdClass.INTERNAL)


_MIN_USERS = {
    ThresholdClass.NONE: 1,
    ThresholdClass.LOW: 2,
    ThresholdClass.MEDIUM: 100,
    ThresholdClass.HIGH: 100,
    ThresholdClass.VERY_HIGH: 100,
    ThresholdClass.INTERNAL: 100,
}
_RANK = {c: i for i, c in enumerate(ThresholdClass)}


@dataclass(frozen=True)
class Column:
    """One column of an AMC table."""

    name: str
    data_type: str  # AMC data type: STRING LONG INTEGER DOUBLE DECIMAL BOOLEAN DATE TIMESTAMP
    threshold: ThresholdClass
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One AMC table and how a time window selects its rows (amc-api.md 6.1)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    window_column: str
    # How far outside the window the related events of a row may lie: traffic tables keyed on
    # conversions reach back (lookback), tables keyed on traffic reach forward (lookahead).
    lookback: timedelta = timedelta(0)
    lookahead: timedelta = timedelta(0)

    def column(self, name: str) -> Column | None:
        lowered = name.lower()
        for column in self.columns:
            if column.name == lowered:
                return column
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


N, L, M, H, V = (
    ThresholdClass.NONE,
    ThresholdClass.LOW,
    ThresholdClass.MEDIUM,
    ThresholdClass.HIGH,
    ThresholdClass.VERY_HIGH,
)

# Attribution: conversions are credited to traffic up to 14 days earlier (amc-api.md 6.1).
ATTRIBUTION_WINDOW = timedelta(days=14)
# `..._by_traffic_time` keeps conversions up to 30 days after the traffic.
TRAFFIC_TIME_LOOKAHEAD = timedelta(days=30)

_DSP_DIMENSIONS: tuple[Column, ...] = (
    Column("advertiser", "STRING", L, "Advertiser name"),
    Column("advertiser_id", "LONG", L, "Advertiser id"),
    Column("advertiser_timezone", "STRING", L, "Advertiser time zone"),
    Column("campaign", "STRING", L, "Campaign name"),
    Column("campaign_id", "LONG", L, "Campaign id"),
    Column("campaign_id_string", "STRING", L, "Campaign id as text"),
    Column("line_item", "STRING", L, "Line item name"),
    Column("line_item_id", "LONG", L, "Line item id"),
    Column("creative", "STRING", L, "Creative name"),
    Column("creative_id", "LONG", L, "Creative id"),
    Column("creative_type", "STRING", L, "Creative type"),
    Column("device_type", "STRING", L, "Device type"),
    Column("operating_system", "STRING", L, "Operating system"),
    Column("supply_source", "STRING", L, "Supply source"),
    Column("iso_country_code", "STRING", L, "Country code"),
    Column("iso_state_province_code", "STRING", L, "State or province code"),
    Column("dma_code", "STRING", H, "Designated market area"),
    Column("city_name", "STRING", H, "City"),
    Column("postal_code", "STRING", H, "Postal code"),
)

_DSP_IMPRESSIONS = Table(
    name="dsp_impressions",
    description="Amazon DSP impressions, one row per impression.",
    window_column="impression_dt",
    columns=(
        *_DSP_DIMENSIONS,
        Column("impression_dt", "TIMESTAMP", M, "Impression time (UTC)"),
        Column("impression_dt_utc", "TIMESTAMP", M, "Impression time (UTC)"),
        Column("impression_date_utc", "DATE", L, "Impression date (UTC)"),
        Column("impressions", "LONG", N, "Impression count"),
        Column("total_cost", "DOUBLE", N, "Total cost in millicents, fees included"),
        Column("impression_cost", "LONG", N, "Impression cost in millicents"),
        Column("bid_price", "LONG", M, "Bid price in millicents"),
        Column("request_tag", "STRING", V, "Ad request identifier"),
        Column("device_id", "STRING", V, "Device identifier"),
        Column("user_id", "STRING", V, "Pseudonymous user identifier"),
    ),
)

_DSP_CLICKS = Table(
    name="dsp_clicks",
    description="Amazon DSP clicks, one row per click.",
    window_column="click_dt",
    columns=(
        *_DSP_DIMENSIONS,
        Column("impression_dt", "TIMESTAMP", M, "Time of the clicked impression (UTC)"),
        Column("click_dt", "TIMESTAMP", M, "Click time (UTC)"),
        Column("click_dt_utc", "TIMESTAMP", M, "Click time (UTC)"),
        Column("click_date_utc", "DATE", L, "Click date (UTC)"),
        Column("clicks", "LONG", N, "Click count"),
        Column("click_cost", "LONG", M, "Click cost in millicents"),
        Column("request_tag", "STRING", V, "Ad request identifier"),
        Column("device_id", "STRING", V, "Device identifier"),
        Column("user_id", "STRING", V, "Pseudonymous user identifier"),
    ),
)

_SPONSORED_ADS_TRAFFIC = Table(
    name="sponsored_ads_traffic",
    description="Sponsored ads impressions and clicks, one row per event.",
    window_column="event_dt_utc",
    columns=(
        Column("ad_product_type", "STRING", L, "sponsored_products, sponsored_brands, ..."),
        Column("advertiser", "STRING", L, "Advertiser name"),
        Column("campaign", "STRING", L, "Campaign name"),
        Column("campaign_id", "LONG", L, "Campaign id"),
        Column("ad_group", "STRING", L, "Ad group name"),
        Column("targeting", "STRING", L, "Keyword or product target"),
        Column("customer_search_term", "STRING", L, "Shopper search term"),
        Column("match_type", "STRING", L, "Keyword match type"),
        Column("placement_type", "STRING", L, "Placement"),
        Column("device_type", "STRING", L, "Device type"),
        Column("event_dt_utc", "TIMESTAMP", M, "Event time (UTC)"),
        Column("event_date_utc", "DATE", L, "Event date (UTC)"),
        Column("impressions", "LONG", N, "Impression count"),
        Column("viewable_impressions", "LONG", N, "Viewable impression count"),
        Column("clicks", "LONG", N, "Click count"),
        Column("spend", "LONG", N, "Spend in microcents"),
        Column("event_id", "STRING", V, "Event identifier"),
        Column("user_id", "STRING", V, "Pseudonymous user identifier"),
    ),
)

_ATTRIBUTED_COLUMNS: tuple[Column, ...] = (
    Column("ad_product_type", "STRING", L, "Sponsored ads product; NULL for DSP traffic"),
    Column("advertiser", "STRING", L, "Advertiser name"),
    Column("advertiser_id", "LONG", L, "Advertiser id"),
    Column("campaign", "STRING", L, "Campaign name"),
    Column("campaign_id", "LONG", L, "Campaign id"),
    Column("tracked_asin", "STRING", L, "ASIN the conversion is credited to"),
    Column("tracked_item", "STRING", L, "Item the conversion is credited to"),
    Column(
        "traffic_event_type", "STRING", L, "Traffic that earned the credit: impression or click"
    ),
    Column("conversion_event_category", "STRING", L, "Conversion category"),
    Column("conversion_event_subtype", "STRING", L, "Conversion subtype"),
    Column("new_to_brand", "BOOLEAN", L, "First purchase of the brand in a year"),
    Column("traffic_event_dt_utc", "TIMESTAMP", M, "Traffic time (UTC)"),
    Column("conversion_event_dt_utc", "TIMESTAMP", M, "Conversion time (UTC)"),
    Column("conversion_event_date_utc", "DATE", L, "Conversion date (UTC)"),
    Column("impressions", "LONG", N, "Attributed impressions"),
    Column("clicks", "LONG", N, "Attributed clicks"),
    Column("conversions", "LONG", N, "Conversions"),
    Column("purchases", "LONG", N, "Purchases of promoted products"),
    Column("total_purchases", "LONG", N, "Purchases of the brand's products"),
    Column("units_sold", "LONG", N, "Units of promoted products"),
    Column("total_units_sold", "LONG", N, "Units of the brand's products"),
    Column("product_sales", "DECIMAL", N, "Sales of promoted products"),
    Column("total_product_sales", "DECIMAL", N, "Sales of the brand's products"),
    Column("user_id", "STRING", V, "Pseudonymous user identifier"),
)

_BY_TRAFFIC_TIME = Table(
    name="amazon_attributed_events_by_traffic_time",
    description="Conversions attributed to traffic; traffic in the window, conversions up to "
    "30 days later.",
    window_column="traffic_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookahead=TRAFFIC_TIME_LOOKAHEAD,
)

_BY_CONVERSION_TIME = Table(
    name="amazon_attributed_events_by_conversion_time",
    description="Conversions attributed to traffic; conversions in the window, traffic up to "
    "14 days earlier.",
    window_column="conversion_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookback=ATTRIBUTION_WINDOW,
)

_CONVERSIONS = Table(
    name="conversions",
    description="All conversion events of the advertisers' products, attributed or not.",
    window_column="event_dt_utc",
    columns=(
        Column("advertiser", "STRING", L, "Advertiser (brand owner) name"),
        Column("event_type", "STRING", L, "Event type"),
        Column("event_category", "STRING", L, "Event category"),
        Column("event_subtype", "STRING", L, "Event subtype"),
        Column("conversion_event_name", "STRING", L, "Conversion event name"),
        Column("tracked_asin", "STRING", L, "ASIN"),
        Column("new_to_brand", "BOOLEAN", L, "First purchase of the brand in a year"),
        Column("event_dt_utc", "TIMESTAMP", M, "Event time (UTC)"),
        Column("event_date_utc", "DATE", L, "Event date (UTC)"),
        Column("conversions", "LONG", N, "Conversion count"),
        Column("total_units_sold", "LONG", N, "Units sold"),
        Column("total_product_sales", "DECIMAL", N, "Sales"),
        Column("conversion_id", "STRING", V, "Conversion identifier"),
        Column("user_id", "STRING", V, "Pseudonymous user identifier"),
    ),
)

TABLES: Mapping[str, Table] = MappingProxyType(
    {
        t.name: t
        for t in (
            _DSP_IMPRESSIONS,
            _DSP_CLICKS,
            _SPONSORED_ADS_TRAFFIC,
            _BY_TRAFFIC_TIME,
            _BY_CONVERSION_TIME,
            _CONVERSIONS,
        )
    }
)

# Hidden column every generated table carries: an integer user key (NULL where no user is
# involved). The privacy engine counts distinct users with it; user SQL cannot name it because
# it is not in the catalogue.
USER_KEY_COLUMN = "__user_key"


def get_table(name: str) -> Table | None:
    """The table called `name` (case-insensitive), or None."""
    return TABLES.get(name.lower())
