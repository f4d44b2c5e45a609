"""AMC's conversion tables: attributed events, conversions, ad server conversions.

Facts (names, data types, metric/dimension, threshold classes) follow Amazon's AMC data source
pages; descriptions are ours. Column families AMC repeats (a metric with its click- and
view-credited parts, an event's clock columns) are written once by the helpers below.
"""

from __future__ import annotations

from amc_manager.catalogue.common import (
    ATTRIBUTION_WINDOW,
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    LONG,
    STRING,
    TIMESTAMP,
    TRAFFIC_TIME_LOOKAHEAD,
    H,
    L,
    M,
    N,
    V,
)
from amc_manager.catalogue.model import (
    Column,
    ColumnRole,
    DataType,
    Provenance,
    Table,
    ThresholdClass,
)

# The pages were read in the public mirror of Amazon's Ads API guides on this date.
READ_ON = "2026-12-06"
_PAGES = "idealerror/amazon-ads-api-docs:en-us/guides/amazon-marketing-cloud/datasources/"


def amazon_page(page: str) -> Provenance:
    """Where a table's facts come from: one of Amazon's AMC data source pages."""
    return Provenance(f"{_PAGES}{page}.md", READ_ON)


def metric(
    name: str, data_type: DataType, description: str, threshold: ThresholdClass = N
) -> Column:
    return Column(name, data_type, threshold, description, ColumnRole.METRIC)


def by_name(*groups: Column | tuple[Column, ...]) -> tuple[Column, ...]:
    """Columns in name order, as AMC's pages list them."""
    flat = [c for g in groups for c in (g if isinstance(g, tuple) else (g,))]
    return tuple(sorted(flat, key=lambda c: c.name))


def _credited(name: str, data_type: DataType, what: str) -> tuple[Column, ...]:
    """A metric and its parts credited to clicks and to views (AMC's `x`, `x_clicks`, `x_views`)."""
    return (
        metric(name, data_type, f"{what}, credited to an ad view or click"),
        metric(f"{name}_clicks", data_type, f"{what}, credited to an ad click"),
        metric(f"{name}_views", data_type, f"{what}, credited to an ad view"),
    )


def clock(
    prefix: str, event: str, zone: str, *, local: bool = True, day: bool = True
) -> tuple[Column, ...]:
    """An event's time columns: `_dt` (MEDIUM), its date, day, hour and hour-truncated time (LOW).

    Each comes in UTC (`_utc`) and, when `local`, in `zone` (the account's time zone)."""
    shapes = [
        ("date", DATE, L, "Date of the {e}"),
        ("dt", TIMESTAMP, M, "Time of the {e}"),
        ("dt_hour", TIMESTAMP, L, "Time of the {e}, truncated to the hour"),
        ("hour", INTEGER, L, "Hour of day (0-23) of the {e}"),
    ]
    if day:
        shapes.append(("day", INTEGER, L, "Day of the month of the {e}"))
    columns: list[Column] = []
    for part, data_type, threshold, text in shapes:
        said = text.format(e=event)
        columns.append(Column(f"{prefix}_{part}_utc", data_type, threshold, f"{said} (UTC)"))
        if local:
            columns.append(Column(f"{prefix}_{part}", data_type, threshold, f"{said} ({zone})"))
    return tuple(columns)


_ADVERTISER_ZONE = "advertiser's time zone"
_PROMOTED = "promoted products"
_HALO = "same-brand (halo) products"
_BOTH = "promoted and halo products"

# Metrics credited to ad views and clicks, one family per line: (name, type, what it counts).
_CREDITED_FAMILIES: tuple[tuple[str, DataType, str], ...] = (
    ("add_to_cart", LONG, f"Add-to-cart events of {_PROMOTED}"),
    ("brand_halo_add_to_cart", LONG, f"Add-to-cart events of {_HALO}"),
    ("brand_halo_detail_page_view", LONG, f"Detail page views of {_HALO}"),
    ("brand_halo_product_sales", DECIMAL, f"Sales of {_HALO}, local currency"),
    ("brand_halo_purchases", LONG, f"Purchases of {_HALO}"),
    ("brand_halo_units_sold", LONG, f"Units of {_HALO} bought"),
    ("detail_page_view", LONG, f"Detail page views of {_PROMOTED}"),
    ("digital_app_subscription_signup_purchases", LONG, "App subscriptions, trial or paid"),
    ("digital_free_trial_app_subscription_signup_purchases", LONG, "Free-trial app subscriptions"),
    ("digital_free_trial_subscription_signup_purchases", LONG, "Free-trial digital subscriptions"),
    ("digital_paid_app_subscription_signup_purchases", LONG, "Paid app subscriptions"),
    ("digital_paid_subscription_signup_purchases", LONG, "Paid digital subscriptions"),
    ("digital_subscription_signup_purchases", LONG, "Digital subscriptions, trial or paid"),
    ("new_to_brand_brand_halo_product_sales", DECIMAL, f"New-to-brand sales of {_HALO}"),
    ("new_to_brand_brand_halo_purchases", LONG, f"New-to-brand purchases of {_HALO}"),
    ("new_to_brand_brand_halo_units_sold", LONG, f"New-to-brand units of {_HALO}"),
    ("new_to_brand_product_sales", DECIMAL, f"New-to-brand sales of {_PROMOTED}"),
    ("new_to_brand_purchases", LONG, f"New-to-brand purchases of {_PROMOTED}"),
    ("new_to_brand_total_product_sales", DECIMAL, f"New-to-brand sales of {_BOTH}"),
    ("new_to_brand_total_purchases", LONG, f"New-to-brand purchases of {_BOTH}"),
    ("new_to_brand_total_units_sold", LONG, f"New-to-brand units of {_BOTH}"),
    ("new_to_brand_units_sold", LONG, f"New-to-brand units of {_PROMOTED}"),
    ("product_sales", DECIMAL, f"Sales of {_PROMOTED}, local currency"),
    ("purchases", LONG, f"Purchases of {_PROMOTED}"),
    ("total_add_to_cart", LONG, f"Add-to-cart events of {_BOTH}"),
    ("total_detail_page_view", LONG, f"Detail page views of {_BOTH}"),
    ("total_product_sales", DECIMAL, f"Sales of {_BOTH}, local currency"),
    ("total_purchases", LONG, f"Purchases of {_BOTH}"),
    ("total_units_sold", LONG, f"Units of {_BOTH} bought"),
    ("units_sold", LONG, f"Units of {_PROMOTED} bought"),
)

_ATTRIBUTED_METRICS: tuple[Column, ...] = (
    *(c for family in _CREDITED_FAMILIES for c in _credited(*family)),
    metric("audience_fee", LONG, "Amazon audience fee of the impression, microcents"),
    metric("bid_price", LONG, "Bid for the impression, microcents", M),
    metric("click_cost", LONG, "Cost of the click, millicents", M),
    metric("clicks", LONG, "1 when a click earned the credit, else 0"),
    metric("combined_sales", DECIMAL, "Amazon sales plus off-Amazon sales"),
    metric("conversions", LONG, "Always 1: the row is one conversion"),
    metric("impressions", LONG, "1 when an ad view earned the credit, else 0"),
    metric("off_amazon_conversion_value", DECIMAL, "Advertiser-set worth of an off-Amazon event"),
    metric("off_amazon_product_sales", DECIMAL, "Sales reported with an off-Amazon conversion"),
    metric("platform_fee", LONG, "Amazon DSP technology fee, microcents"),
    metric("purchase_unit_price", DECIMAL, "Price of one unit bought on Amazon"),
    metric("supply_cost", LONG, "What the impression cost at the publisher, microcents"),
)

_ATTRIBUTED_SETUP: tuple[Column, ...] = (
    Column("ad_product_type", STRING, L, "Ad product of the traffic; NULL for Amazon DSP"),
    Column("advertiser", STRING, L, "Advertiser name"),
    Column("advertiser_id", LONG, L, "Advertiser id (Amazon DSP traffic)"),
    Column("advertiser_timezone", STRING, L, "Advertiser's time zone"),
    Column("campaign", STRING, L, "Campaign name"),
    Column("campaign_budget_amount", LONG, L, "Campaign budget, millicents"),
    Column("campaign_end_date", TIMESTAMP, L, "Campaign end (advertiser's time zone)"),
    Column("campaign_end_date_utc", TIMESTAMP, L, "Campaign end (UTC)"),
    Column("campaign_end_dt", TIMESTAMP, L, "Campaign end time (advertiser's time zone)"),
    Column("campaign_end_dt_utc", TIMESTAMP, L, "Campaign end time (UTC)"),
    Column("campaign_flight_id", LONG, L, "Amazon DSP campaign flight id"),
    Column("campaign_id", LONG, L, "Campaign id (the Ads API id for sponsored ads)"),
    Column("campaign_id_string", STRING, L, "Campaign id as text (the console id)"),
    Column("campaign_insertion_order_id", STRING, L, "Insertion order id"),
    Column("campaign_primary_goal", STRING, L, "Optimisation goal of the DSP campaign"),
    Column("campaign_start_date", TIMESTAMP, L, "Campaign start (advertiser's time zone)"),
    Column("campaign_start_date_utc", TIMESTAMP, L, "Campaign start (UTC)"),
    Column("campaign_status", STRING, L, "Campaign status"),
    Column("entity_id", STRING, L, "Ads entity (seat) id"),
    Column("line_item", STRING, L, "Line item name (ad group name for sponsored ads)"),
    Column("line_item_budget_amount", LONG, L, "Line item budget, millicents"),
    Column("line_item_end_date", TIMESTAMP, L, "Line item end (advertiser's time zone)"),
    Column("line_item_end_date_utc", TIMESTAMP, L, "Line item end (UTC)"),
    Column("line_item_id", LONG, L, "Line item id; NULL for sponsored ads"),
    Column("line_item_start_date", TIMESTAMP, L, "Line item start (advertiser's time zone)"),
    Column("line_item_start_date_utc", TIMESTAMP, L, "Line item start (UTC)"),
    Column("line_item_status", STRING, L, "Line item status"),
    Column("line_item_type", STRING, L, "Line item type"),
    Column("product_line", STRING, L, "Product line of the campaign"),
)

_ATTRIBUTED_DELIVERY: tuple[Column, ...] = (
    Column("ad_slot_size", STRING, L, "Size of the ad slot served, width x height"),
    Column("browser_family", STRING, L, "Browser or app family of the impression"),
    Column("city_name", STRING, H, "City of the impression"),
    Column("creative", STRING, L, "Creative name"),
    Column("creative_category", STRING, L, "Creative format group (display, video)"),
    Column("creative_duration", LONG, L, "Video creative length, seconds"),
    Column("creative_id", LONG, L, "Creative id"),
    Column("creative_is_link_in", STRING, L, "Y when the creative leads to Amazon, N otherwise"),
    Column("creative_size", STRING, L, "Creative size"),
    Column("creative_type", STRING, L, "Creative type"),
    Column("customer_search_term", STRING, L, "What the shopper searched for"),
    Column("deal_id", STRING, L, "Private deal id; NULL for open auction"),
    # Amazon's page calls this a metric, surely by mistake: it is a name.
    Column("deal_name", STRING, L, "Private deal name; NULL for open auction"),
    Column("device_make", STRING, L, "Device maker"),
    Column("device_model", STRING, L, "Device model"),
    Column("device_type", STRING, L, "Device type of the traffic"),
    Column("dma_code", STRING, L, "Designated market area of the impression"),
    Column("environment_type", STRING, L, "Web or app"),
    Column("iso_country_code", STRING, L, "Country of the impression"),
    Column("iso_state_province_code", STRING, L, "State or province of the impression"),
    Column("match_type", STRING, L, "Keyword match type; NULL without a keyword"),
    Column("operating_system", STRING, L, "Operating system of the impression's device"),
    Column("os_version", STRING, L, "Operating system version"),
    Column("page_type", STRING, L, "Kind of page the ad was on"),
    Column("placement_type", STRING, L, "Where on the page the ad was"),
    Column("postal_code", STRING, H, "Postal code of the impression, country-prefixed"),
    Column("request_tag", STRING, V, "Id tying an impression to its later events"),
    Column("site", STRING, L, "Site or app the DSP ad was on"),
    Column("supply_source", STRING, L, "Inventory source of the DSP impression"),
    Column("targeting", STRING, L, "Keyword the sponsored ad targeted"),
    Column("traffic_event_id", STRING, V, "Sponsored ads traffic event id"),
    Column("traffic_event_marketplace_name", STRING, L, "Marketplace of the traffic"),
    Column("traffic_event_subtype", STRING, L, "AD_IMP or AD_CLICK"),
    Column("traffic_event_type", STRING, L, "Kind of traffic that earned the credit"),
)

_ATTRIBUTED_CONVERSION: tuple[Column, ...] = (
    Column("conversion_event_category", STRING, L, "purchase, website or off-Amazon"),
    Column("conversion_event_marketplace_name", STRING, L, "Marketplace or store of the event"),
    Column("conversion_event_name", STRING, L, "Events Manager conversion definition name"),
    Column("conversion_event_source_name", STRING, L, "Source of an off-Amazon event"),
    Column(
        "conversion_event_subtype", STRING, L, "Conversion subtype (order, detailPageView, ...)"
    ),
    Column("conversion_event_type", STRING, L, "Conversion type"),
    Column("conversion_event_type_class", STRING, L, "consideration or conversion"),
    Column("conversion_event_type_description", STRING, L, "Conversion type in words"),
    Column("new_to_brand", BOOLEAN, L, "Buyer had not bought the brand in 12 months"),
    Column("no_3p_trackers", BOOLEAN, N, "Audiences built on the event may not use 3P tracking"),
    Column("purchase_currency", STRING, L, "ISO 4217 currency of the purchase"),
    Column("purchase_retail_program", STRING, L, "Amazon.com, Amazon Fresh or Whole Foods"),
    Column("tracked_asin", STRING, L, "ASIN bought (purchases only)"),
    Column("tracked_item", STRING, L, "Item converted on: ASIN, store, keyword or pixel"),
    Column("user_id", STRING, V, "Pseudonymous user identifier"),
    Column("user_id_type", STRING, L, "Kind of user_id: account, device or browser"),
)

_ATTRIBUTED_COLUMNS: tuple[Column, ...] = by_name(
    _ATTRIBUTED_METRICS,
    _ATTRIBUTED_SETUP,
    _ATTRIBUTED_DELIVERY,
    _ATTRIBUTED_CONVERSION,
    clock("click", "click credited", _ADVERTISER_ZONE),
    clock("impression", "impression credited", _ADVERTISER_ZONE),
    clock("traffic_event", "traffic event", _ADVERTISER_ZONE, day=False),
    clock("conversion_event", "conversion", _ADVERTISER_ZONE, day=False),
)

_BY_TRAFFIC_TIME = Table(
    name="amazon_attributed_events_by_traffic_time",
    provenance=amazon_page("amazon_attributed_events_by_conversion_time"),
    description="Conversions with the ad traffic credited for them, one row per pair; the "
    "window selects the traffic, its conversions may follow up to 30 days later.",
    window_column="traffic_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookahead=TRAFFIC_TIME_LOOKAHEAD,
)

_BY_CONVERSION_TIME = Table(
    name="amazon_attributed_events_by_conversion_time",
    provenance=amazon_page("amazon_attributed_events_by_conversion_time"),
    description="Conversions with the ad traffic credited for them, one row per pair; the "
    "window selects the conversions, their traffic may precede them by up to 14 days.",
    window_column="conversion_event_dt_utc",
    columns=_ATTRIBUTED_COLUMNS,
    lookback=ATTRIBUTION_WINDOW,
)

# Columns `conversions` shares with `conversions_with_relevance` and `conversions_all`.
_CONVERSION_EVENT: tuple[Column, ...] = (
    metric("combined_sales", DECIMAL, "Amazon sales plus off-Amazon sales"),
    Column("conversion_event_name", STRING, L, "Events Manager conversion definition name"),
    Column("conversion_id", STRING, V, "Conversion event id"),
    metric("conversions", LONG, "Always 1: the row is one conversion"),
    Column("event_category", STRING, L, "purchase, website, or pixel / off-Amazon"),
    Column("event_subtype", STRING, L, "Conversion subtype (order, detailPageView, ...)"),
    Column("event_type", STRING, L, "Always CONVERSION"),
    Column("event_type_class", STRING, L, "consideration or conversion"),
    Column("event_type_description", STRING, L, "Conversion type in words"),
    Column("marketplace_name", STRING, L, "Marketplace or store of the event"),
    Column("new_to_brand", BOOLEAN, L, "Buyer had not bought the brand in 12 months"),
    Column("no_3p_trackers", BOOLEAN, N, "Audiences built on the event may not use 3P tracking"),
    metric("off_amazon_conversion_value", DECIMAL, "Advertiser-set worth of an off-Amazon event"),
    metric("off_amazon_product_sales", DECIMAL, "Sales reported with an off-Amazon conversion"),
    Column("purchase_currency", STRING, L, "ISO 4217 currency of the purchase"),
    metric("purchase_unit_price", DECIMAL, "Price of one unit bought on Amazon"),
    metric("total_product_sales", DECIMAL, "Sales of the purchase on Amazon, local currency"),
    metric("total_units_sold", LONG, "Units of the purchase on Amazon"),
    Column("tracked_asin", STRING, L, "ASIN bought (purchases only)"),
    Column("tracked_item", STRING, L, "Item converted on: ASIN, store, keyword or pixel"),
    Column("user_id", STRING, V, "Pseudonymous user identifier"),
    Column("user_id_type", STRING, L, "Kind of user_id: account, device or browser"),
)

_CONVERSIONS = Table(
    name="conversions",
    provenance=amazon_page("conversions"),
    description="Conversion events of the instance's tracked items: those following ad "
    "traffic by up to 28 days and pixel conversions, one row each, without the credited "
    "traffic.",
    window_column="event_dt_utc",
    columns=by_name(
        _CONVERSION_EVENT,
        # Not on Amazon's page; the sandbox has always served it, so it stays.
        Column("advertiser", STRING, L, "Advertiser (brand owner) name"),
        Column("conversion_event_source_name", STRING, L, "Source of an off-Amazon event"),
        Column("purchase_retail_program", STRING, L, "Amazon.com, Amazon Fresh or Whole Foods"),
        clock("event", "conversion", "", local=False),
    ),
)

_CONVERSIONS_WITH_RELEVANCE = Table(
    name="conversions_with_relevance",
    provenance=amazon_page("conversions_with_relevance"),
    description="Conversion events with each campaign they are relevant to (a promoted item "
    "or its brand halo), so one conversion may appear once per campaign; the basis of custom "
    "attribution.",
    window_column="event_dt_utc",
    columns=by_name(
        _CONVERSION_EVENT,
        Column("advertiser", STRING, L, "Advertiser name"),
        Column("advertiser_id", LONG, L, "Advertiser id"),
        Column("advertiser_timezone", STRING, L, "Advertiser's time zone"),
        Column("campaign", STRING, L, "Campaign name"),
        Column("campaign_budget_amount", LONG, L, "Campaign budget, millicents"),
        Column("campaign_end_date", DATE, L, "Campaign end date (advertiser's time zone)"),
        Column("campaign_end_date_utc", DATE, L, "Campaign end date (UTC)"),
        Column("campaign_end_dt", TIMESTAMP, L, "Campaign end time (advertiser's time zone)"),
        Column("campaign_end_dt_utc", TIMESTAMP, L, "Campaign end time (UTC)"),
        Column("campaign_id", LONG, L, "Amazon DSP campaign id"),
        Column("campaign_id_string", STRING, L, "Campaign id as text, DSP and sponsored ads"),
        Column("campaign_sales_type", STRING, L, "Campaign sales type"),
        Column("campaign_source", STRING, L, "Campaign source"),
        Column("campaign_start_date", DATE, L, "Campaign start date (advertiser's time zone)"),
        Column("campaign_start_date_utc", DATE, L, "Campaign start date (UTC)"),
        Column("campaign_start_dt", TIMESTAMP, L, "Campaign start time (advertiser's time zone)"),
        Column("campaign_start_dt_utc", TIMESTAMP, L, "Campaign start time (UTC)"),
        Column("conversion_event_source_name", STRING, L, "Source of an off-Amazon event"),
        Column("engagement_scope", STRING, L, "PROMOTED or BRAND_HALO: why the row is relevant"),
        Column("halo_code", STRING, L, "How a halo conversion relates to the campaign"),
        clock("event", "conversion", _ADVERTISER_ZONE),
    ),
)

_AD_SERVER_ZONE = "Ad Server account's time zone"


def _ad_server_conversion_columns(revenue: DataType) -> tuple[Column, ...]:
    """Columns of both Amazon Ad Server conversion tables (their pages differ on `revenue`)."""
    return (
        Column("account_currency", STRING, L, "Currency of the Ad Server account"),
        Column("account_timezone", STRING, L, "Time zone of the Ad Server account"),
        Column("advertiser", STRING, L, "Ad Server advertiser name"),
        Column("advertiser_id", LONG, L, "Ad Server advertiser id"),
        Column("browser_family", STRING, L, "Browser"),
        Column("city", STRING, H, "City of the converting user, from the IP address"),
        Column("conversion_activity", STRING, L, "Conversion activity name"),
        Column("conversion_activity_id", STRING, L, "Conversion activity id (Tag Manager)"),
        Column("conversion_currency", STRING, L, "Currency set on the conversion activity"),
        Column("conversion_id", STRING, V, "Conversion event id"),
        Column("conversion_type", STRING, L, "Conversion activity type: sales or counter"),
        metric("conversions", LONG, "Unattributed conversion activities", L),
        Column("device_brand", STRING, L, "Device maker"),
        Column("device_model", STRING, L, "Device model"),
        Column("device_type", STRING, L, "Device type"),
        Column("dma_code", STRING, L, "Designated market area of the converting user"),
        Column("environment", STRING, L, "in-app, web or unknown"),
        *clock("event", "conversion", _AD_SERVER_ZONE),
        Column("iso_country_code", STRING, L, "Country of the converting user"),
        Column("iso_state_province_code", STRING, L, "State or province of the converting user"),
        Column("operating_system", STRING, L, "Operating system"),
        Column("order_id", STRING, L, "Order id passed by the tag"),
        Column("postal_code", STRING, H, "Postal code of the converting user"),
        Column("product_id", STRING, H, "Product id passed by the tag"),
        Column("product_info", STRING, L, "Product details passed by the tag"),
        metric("quantity", LONG, "Quantity passed by the tag", M),
        Column("referrer", STRING, L, "Referring URL"),
        metric("revenue", revenue, "Revenue of the conversion activity", L),
        Column("tag_manager", STRING, L, "Tag Manager name"),
        Column("tag_manager_id", LONG, L, "Tag Manager id"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
        Column("vertical", STRING, L, "Industry of the Ad Server advertiser"),
    )


_SUNSET = " Amazon Ad Server was sunset in Q4 2024, so current instances hold no new rows."

_AD_SERVER_CONVERSIONS = Table(
    name="adserver_conversions",
    provenance=amazon_page("ad_server_conversions"),
    description="Conversion activities measured by Amazon Ad Server tags, unattributed, one "
    "row per conversion." + _SUNSET,
    window_column="event_dt_utc",
    columns=by_name(_ad_server_conversion_columns(revenue=DECIMAL)),
)

_AD_SERVER_CONVERSIONS_WITH_BRAND = Table(
    name="adserver_conversions_with_brand",
    provenance=amazon_page("adserver_conversions_with_brand"),
    description="Ad Server conversion activities tied to brands, one row per conversion and "
    "brand (count distinct conversion_id for conversions)." + _SUNSET,
    window_column="event_dt_utc",
    columns=by_name(
        _ad_server_conversion_columns(revenue=LONG),
        Column("adserver_brand", STRING, L, "Ad Server brand name"),
        Column("adserver_brand_id", LONG, L, "Ad Server brand id"),
    ),
)

TABLES: tuple[Table, ...] = (
    _BY_TRAFFIC_TIME,
    _BY_CONVERSION_TIME,
    _CONVERSIONS,
    _CONVERSIONS_WITH_RELEVANCE,
    _AD_SERVER_CONVERSIONS,
    _AD_SERVER_CONVERSIONS_WITH_BRAND,
)
