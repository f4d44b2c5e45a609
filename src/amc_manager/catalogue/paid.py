"""AMC's paid purchase tables: conversions_all, retail, CPG and vehicle purchases.

Each needs an AMC Paid Features subscription for analytics queries (`Table.paid_feature`, named
as Amazon's paid features overview names it). Facts follow Amazon's pages; descriptions are ours.
"""

from __future__ import annotations

from amc_manager.catalogue.common import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    LONG,
    STRING,
    TIMESTAMP,
    L,
    M,
    N,
    V,
    X,
)
from amc_manager.catalogue.conversions import amazon_page, by_name, clock, metric
from amc_manager.catalogue.model import Column, Table

# Subscriptions, as the paid features overview names them. Flexible Shopping Insights
# (conversions_all) is sold as part of Amazon Insights.
AMAZON_INSIGHTS = "Amazon Insights"
AMAZON_RETAIL_PURCHASES = "Amazon Retail Purchases"
NCS_CPG_INSIGHTS_STREAM = "NCS CPG Insights Stream"
EXPERIAN_VEHICLE_PURCHASES = "Experian Vehicle Purchase Insights"

_CONVERSIONS_ALL = Table(
    name="conversions_all",
    provenance=amazon_page("conversions_all_paid"),
    description="Every conversion of the tracked items, ad-exposed (traffic up to 28 days "
    "before) or not, with exposure_type telling which.",
    window_column="event_dt_utc",
    paid_feature=AMAZON_INSIGHTS,
    columns=by_name(
        Column("conversion_event_name", STRING, L, "Events Manager conversion definition name"),
        Column("conversion_event_source", STRING, L, "How the conversion reached Amazon DSP"),
        Column("conversion_id", STRING, V, "Conversion event id"),
        # The page types the three sales figures LONG here (DECIMAL on the other pages).
        metric("combined_sales", LONG, "Amazon sales plus off-Amazon sales"),
        metric("conversions", LONG, "Always 1: the row is one conversion"),
        Column("event_category", STRING, L, "purchase, website or pixel"),
        Column("event_source", STRING, V, "System that produced the event"),
        Column("event_subtype", STRING, L, "Conversion subtype (order, detailPageView, ...)"),
        Column("event_type", STRING, L, "Conversion type"),
        Column("event_type_class", STRING, L, "consideration or conversion"),
        Column("event_type_description", STRING, L, "Conversion type in words"),
        Column("exposure_type", STRING, L, "ad-exposed, non-ad-exposed or pixel"),
        Column("marketplace_id", INTEGER, X, "Marketplace id"),
        Column("marketplace_name", STRING, L, "Marketplace or store of the event"),
        Column("new_to_brand", BOOLEAN, L, "Buyer had not bought the brand in 12 months"),
        metric("off_amazon_conversion_value", LONG, "Advertiser-set worth of an off-Amazon event"),
        metric("off_amazon_product_sales", LONG, "Sales reported with an off-Amazon conversion"),
        Column("purchase_currency", STRING, L, "ISO 4217 currency of the purchase"),
        metric("purchase_unit_price", DECIMAL, "Price of one unit bought on Amazon"),
        Column("sns_subscription_id", STRING, X, "Subscribe-and-save subscription id"),
        metric("total_product_sales", DECIMAL, "Sales of the purchase on Amazon, local currency"),
        metric("total_units_sold", LONG, "Units of the purchase on Amazon"),
        Column("tracked_asin", STRING, L, "ASIN bought (purchases only)"),
        Column("tracked_item", STRING, L, "Item converted on: ASIN, keyword, pixel or app"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
        clock("event", "conversion", "", local=False),
    ),
)

_AMAZON_RETAIL_PURCHASES = Table(
    name="amazon_retail_purchases",
    provenance=amazon_page("amazon_retail_purchase_paid"),
    description="Purchases of the advertiser's products in the Amazon store, advertised or "
    "not, as the retail systems record them; 60 months deep.",
    window_column="purchase_dt_utc",
    retention_months=60,
    paid_feature=AMAZON_RETAIL_PURCHASES,
    # The page has no metric/dimension column: the two quantities are taken as the metrics.
    columns=by_name(
        Column("asin", STRING, L, "ASIN bought"),
        Column("asin_brand", STRING, L, "Brand of the ASIN"),
        Column("asin_name", STRING, L, "Name of the ASIN"),
        Column("asin_parent", STRING, L, "Parent ASIN"),
        Column("currency_code", STRING, L, "ISO currency of the purchase"),
        Column("event_id", STRING, V, "Retail event id (several per purchase)"),
        Column("is_business_flag", BOOLEAN, L, "Bought through Amazon Business"),
        Column("is_gift_flag", BOOLEAN, L, "Sent as a gift"),
        Column("marketplace_id", INTEGER, X, "Marketplace id"),
        Column("marketplace_name", STRING, L, "Marketplace of the purchase"),
        Column(
            "no_3p_trackers", BOOLEAN, N, "Audiences built on the event may not use 3P tracking"
        ),
        Column("origin_session_id", STRING, V, "Session in which the item went into the cart"),
        Column("purchase_date_utc", DATE, L, "Date of the purchase (UTC)"),
        Column("purchase_day_utc", INTEGER, L, "Day of the month of the purchase (UTC)"),
        Column("purchase_dt_hour_utc", TIMESTAMP, L, "Time of the purchase, truncated to the hour"),
        Column("purchase_dt_utc", TIMESTAMP, M, "Time of the purchase (UTC)"),
        Column("purchase_hour_utc", INTEGER, L, "Hour of day (0-23) of the purchase (UTC)"),
        Column("purchase_id", STRING, V, "Purchase id"),
        Column("purchase_month_utc", INTEGER, L, "Month of the purchase (UTC)"),
        Column("purchase_order_method", STRING, L, "S cart, B buy now, 1 one-click"),
        Column("purchase_order_type", STRING, L, "Prime or NON-PRIME"),
        Column("purchase_program_name", STRING, L, "Purchase program"),
        Column("purchase_session_id", STRING, V, "Session in which the item was bought"),
        metric("purchase_units_sold", LONG, "Units bought"),
        metric("unit_price", DECIMAL, "Price of one unit"),
        Column("user_id", STRING, V, "Pseudonymous id of the buyer"),
        Column("user_id_type", STRING, L, "Kind of user_id (always adUserId)"),
    ),
)

_NCS_CPG_INSIGHTS_STREAM = Table(
    name="ncs_cpg_insights_stream",
    provenance=amazon_page("cpg_insights_stream_paid"),
    description="NC Solutions' modelled in-store grocery (CPG) purchases of US households, one "
    "row per household purchase, in weekly batches ending on Saturdays.",
    window_column="week_end_dt",
    refresh="weekly",
    paid_feature=NCS_CPG_INSIGHTS_STREAM,
    columns=by_name(
        Column("brand", STRING, L, "Brand (NCS naming)"),
        Column("category", STRING, L, "Product category (NCS naming)"),
        Column("department", STRING, L, "Department (NCS naming)"),
        Column("household_purchase_id", STRING, V, "Household purchase id"),
        Column("ncs_household_id", STRING, V, "NCS household id"),
        Column("product_category", STRING, L, "NCS subscription object over the categories"),
        # DECIMAL(38,2) on the page; the catalogue does not keep precision and scale.
        metric("purchase_dollar_amount", DECIMAL, "US dollars spent", L),
        metric("purchase_quantity", INTEGER, "Items bought", L),
        Column("sub_brand", STRING, L, "Sub-brand (NCS naming)"),
        Column("super_category", STRING, L, "Super category (NCS naming)"),
        Column("user_id", STRING, V, "Pseudonymous user identifier"),
        Column("user_id_type", STRING, L, "Kind of user_id"),
        Column("week_end_dt", DATE, L, "Saturday closing the purchase week (Sunday-Saturday)"),
    ),
)

_EXPERIAN_VEHICLE_PURCHASES = Table(
    name="experian_vehicle_purchases",
    provenance=amazon_page("experian_paid"),
    description="US vehicle purchases from DMV records matched to AMC users, not ad-attributed; "
    "refreshed monthly about two months late, 12.5 months deep, the latest two months "
    "incomplete.",
    window_column="purchase_date",
    refresh="monthly",
    paid_feature=EXPERIAN_VEHICLE_PURCHASES,
    columns=by_name(
        Column("new_or_used", STRING, L, "N new, U used"),
        Column(
            "no_3p_trackers", BOOLEAN, N, "Audiences built on the event may not use 3P tracking"
        ),
        Column("purchase_date", DATE, L, "Date of the vehicle purchase"),
        Column("reported_dealership", STRING, M, "Dealership that sold the vehicle"),
        Column("user_id", STRING, V, "Pseudonymous user identifier, or NULL"),
        Column("user_id_type", STRING, L, "Kind of user_id"),
        Column("vehicle_class", STRING, L, "Vehicle class (e.g. luxury)"),
        Column("vehicle_fuel_type", STRING, L, "Fuel (gas, electric, ...)"),
        Column("vehicle_make", STRING, L, "Make"),
        Column("vehicle_model", STRING, M, "Model"),
        Column("vehicle_model_year", INTEGER, L, "Model year"),
        Column("vehicle_registered_state", STRING, L, "State of registration"),
        Column("vehicle_type", STRING, L, "Segment (e.g. SUV)"),
    ),
)

TABLES: tuple[Table, ...] = (
    _CONVERSIONS_ALL,
    _AMAZON_RETAIL_PURCHASES,
    _NCS_CPG_INSIGHTS_STREAM,
    _EXPERIAN_VEHICLE_PURCHASES,
)
