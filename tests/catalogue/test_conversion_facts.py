"""The conversion and paid purchase tables of the catalogue against Amazon's AMC data source pages.

The expected values below were read by hand from the pages named in each table's provenance
(2026-12-06); a change here means the catalogue no longer says what Amazon's page says.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from amc_manager.catalogue import (
    Cadence,
    ColumnRole,
    DataType,
    ThresholdClass,
)
from tests.catalogue.facts import assert_threshold, assert_well_described, table

FREE = (
    "amazon_attributed_events_by_traffic_time",
    "amazon_attributed_events_by_conversion_time",
    "conversions",
    "conversions_with_relevance",
    "adserver_conversions",
    "adserver_conversions_with_brand",
)
PAID = {
    "conversions_all": "Amazon Insights",
    "amazon_retail_purchases": "Amazon Retail Purchases",
    "ncs_cpg_insights_stream": "NCS CPG Insights Stream",
    "experian_vehicle_purchases": "Experian Vehicle Purchase Insights",
}
OURS = (*FREE, *PAID)

# Rows in each page's column table (conversions: the page's 29 plus the sandbox's `advertiser`).
COLUMN_COUNTS = {
    "amazon_attributed_events_by_traffic_time": 217,
    "amazon_attributed_events_by_conversion_time": 217,
    "conversions": 30,
    "conversions_with_relevance": 52,
    "adserver_conversions": 41,
    "adserver_conversions_with_brand": 43,
    "conversions_all": 30,
    "amazon_retail_purchases": 27,
    "ncs_cpg_insights_stream": 13,
    "experian_vehicle_purchases": 13,
}

# (table, column, threshold class on Amazon's page)
THRESHOLDS = [
    ("amazon_attributed_events_by_conversion_time", "user_id", "VERY_HIGH"),
    ("amazon_attributed_events_by_conversion_time", "request_tag", "VERY_HIGH"),
    ("amazon_attributed_events_by_conversion_time", "traffic_event_id", "VERY_HIGH"),
    ("amazon_attributed_events_by_conversion_time", "city_name", "HIGH"),
    ("amazon_attributed_events_by_conversion_time", "postal_code", "HIGH"),
    ("amazon_attributed_events_by_conversion_time", "dma_code", "LOW"),
    ("amazon_attributed_events_by_conversion_time", "bid_price", "MEDIUM"),
    ("amazon_attributed_events_by_conversion_time", "click_cost", "MEDIUM"),
    ("amazon_attributed_events_by_conversion_time", "click_dt_hour_utc", "LOW"),
    ("amazon_attributed_events_by_conversion_time", "impression_dt", "MEDIUM"),
    ("amazon_attributed_events_by_traffic_time", "traffic_event_dt_utc", "MEDIUM"),
    ("amazon_attributed_events_by_traffic_time", "no_3p_trackers", "NONE"),
    ("amazon_attributed_events_by_traffic_time", "brand_halo_purchases_views", "NONE"),
    ("amazon_attributed_events_by_traffic_time", "customer_search_term", "LOW"),
    ("conversions", "conversion_id", "VERY_HIGH"),
    ("conversions", "event_dt_utc", "MEDIUM"),
    ("conversions", "event_dt_hour_utc", "LOW"),
    ("conversions", "no_3p_trackers", "NONE"),
    ("conversions_with_relevance", "user_id", "VERY_HIGH"),
    ("conversions_with_relevance", "event_dt", "MEDIUM"),
    ("conversions_with_relevance", "halo_code", "LOW"),
    ("conversions_with_relevance", "engagement_scope", "LOW"),
    ("adserver_conversions", "city", "HIGH"),
    ("adserver_conversions", "product_id", "HIGH"),
    ("adserver_conversions", "quantity", "MEDIUM"),
    ("adserver_conversions", "conversions", "LOW"),
    ("adserver_conversions_with_brand", "adserver_brand_id", "LOW"),
    ("adserver_conversions_with_brand", "conversion_id", "VERY_HIGH"),
    ("conversions_all", "event_source", "VERY_HIGH"),
    ("conversions_all", "marketplace_id", "INTERNAL"),
    ("conversions_all", "sns_subscription_id", "INTERNAL"),
    ("conversions_all", "exposure_type", "LOW"),
    ("amazon_retail_purchases", "origin_session_id", "VERY_HIGH"),
    ("amazon_retail_purchases", "purchase_id", "VERY_HIGH"),
    ("amazon_retail_purchases", "marketplace_id", "INTERNAL"),
    ("amazon_retail_purchases", "purchase_dt_utc", "MEDIUM"),
    ("amazon_retail_purchases", "unit_price", "NONE"),
    ("ncs_cpg_insights_stream", "ncs_household_id", "VERY_HIGH"),
    ("ncs_cpg_insights_stream", "purchase_dollar_amount", "LOW"),
    ("experian_vehicle_purchases", "reported_dealership", "MEDIUM"),
    ("experian_vehicle_purchases", "vehicle_model", "MEDIUM"),
    ("experian_vehicle_purchases", "vehicle_make", "LOW"),
]

# (table, column, data type on Amazon's page, Array[...] or not)
DATA_TYPES = [
    ("amazon_attributed_events_by_conversion_time", "creative_duration", "LONG"),
    ("amazon_attributed_events_by_conversion_time", "click_day_utc", "INTEGER"),
    ("amazon_attributed_events_by_conversion_time", "campaign_end_date", "TIMESTAMP"),
    ("amazon_attributed_events_by_conversion_time", "new_to_brand_product_sales", "DECIMAL"),
    ("conversions_with_relevance", "campaign_end_date", "DATE"),
    ("adserver_conversions", "revenue", "DECIMAL"),
    ("adserver_conversions_with_brand", "revenue", "LONG"),
    ("conversions_all", "combined_sales", "LONG"),
    ("amazon_retail_purchases", "is_gift_flag", "BOOLEAN"),
    ("ncs_cpg_insights_stream", "purchase_quantity", "INTEGER"),
    ("ncs_cpg_insights_stream", "week_end_dt", "DATE"),
    ("experian_vehicle_purchases", "vehicle_model_year", "INTEGER"),
]

# What the sandbox models in depth today: these names, types and classes must not move.
_ATTRIBUTED_TODAY = {
    "ad_product_type": ("STRING", "LOW"),
    "advertiser": ("STRING", "LOW"),
    "advertiser_id": ("LONG", "LOW"),
    "campaign": ("STRING", "LOW"),
    "campaign_id": ("LONG", "LOW"),
    "tracked_asin": ("STRING", "LOW"),
    "tracked_item": ("STRING", "LOW"),
    "traffic_event_type": ("STRING", "LOW"),
    "conversion_event_category": ("STRING", "LOW"),
    "conversion_event_subtype": ("STRING", "LOW"),
    "new_to_brand": ("BOOLEAN", "LOW"),
    "traffic_event_dt_utc": ("TIMESTAMP", "MEDIUM"),
    "conversion_event_dt_utc": ("TIMESTAMP", "MEDIUM"),
    "conversion_event_date_utc": ("DATE", "LOW"),
    "impressions": ("LONG", "NONE"),
    "clicks": ("LONG", "NONE"),
    "conversions": ("LONG", "NONE"),
    "purchases": ("LONG", "NONE"),
    "total_purchases": ("LONG", "NONE"),
    "units_sold": ("LONG", "NONE"),
    "total_units_sold": ("LONG", "NONE"),
    "product_sales": ("DECIMAL", "NONE"),
    "total_product_sales": ("DECIMAL", "NONE"),
    "user_id": ("STRING", "VERY_HIGH"),
}
MODELLED_TODAY = {
    "amazon_attributed_events_by_traffic_time": _ATTRIBUTED_TODAY,
    "amazon_attributed_events_by_conversion_time": _ATTRIBUTED_TODAY,
    "conversions": {
        "advertiser": ("STRING", "LOW"),
        "event_type": ("STRING", "LOW"),
        "event_category": ("STRING", "LOW"),
        "event_subtype": ("STRING", "LOW"),
        "conversion_event_name": ("STRING", "LOW"),
        "tracked_asin": ("STRING", "LOW"),
        "new_to_brand": ("BOOLEAN", "LOW"),
        "event_dt_utc": ("TIMESTAMP", "MEDIUM"),
        "event_date_utc": ("DATE", "LOW"),
        "conversions": ("LONG", "NONE"),
        "total_units_sold": ("LONG", "NONE"),
        "total_product_sales": ("DECIMAL", "NONE"),
        "conversion_id": ("STRING", "VERY_HIGH"),
        "user_id": ("STRING", "VERY_HIGH"),
    },
}


@pytest.mark.parametrize("name", OURS)
def test_every_column_has_a_data_type_a_threshold_class_a_role_and_words(name: str) -> None:
    assert_well_described(name, COLUMN_COUNTS[name])


@pytest.mark.parametrize(("name", "column", "expected"), THRESHOLDS)
def test_threshold_classes_match_amazons_pages(name: str, column: str, expected: str) -> None:
    assert_threshold(name, column, expected)


@pytest.mark.parametrize(("name", "column", "expected"), DATA_TYPES)
def test_data_types_match_amazons_pages(name: str, column: str, expected: str) -> None:
    found = table(name).column(column)
    assert found is not None, f"{name}.{column} is not catalogued"
    assert found.data_type is DataType(expected)
    assert not found.array


def test_spot_checks_are_many_and_varied() -> None:
    assert len(THRESHOLDS) >= 15
    assert {ThresholdClass(c) for _, _, c in THRESHOLDS} == set(ThresholdClass)
    assert {t for t, _, _ in THRESHOLDS} == set(OURS)


@pytest.mark.parametrize("name", MODELLED_TODAY)
def test_the_sandboxs_modelled_columns_keep_their_names_types_and_classes(name: str) -> None:
    t = table(name)
    for column, (data_type, threshold) in MODELLED_TODAY[name].items():
        found = t.column(column)
        assert found is not None, f"{name}.{column} disappeared"
        assert (found.data_type.value, found.threshold.value) == (data_type, threshold), column


def test_metrics_and_dimensions_follow_the_pages() -> None:
    attributed = table("amazon_attributed_events_by_conversion_time")
    metrics = {c.name for c in attributed.columns if c.role is ColumnRole.METRIC}
    assert len(metrics) == 102
    assert {"purchases", "purchases_clicks", "purchases_views", "supply_cost"} <= metrics
    assert "new_to_brand" not in metrics and "deal_name" not in metrics
    retail = table("amazon_retail_purchases")
    assert {c.name for c in retail.columns if c.role is ColumnRole.METRIC} == {
        "purchase_units_sold",
        "unit_price",
    }
    experian = table("experian_vehicle_purchases")
    assert all(c.role is ColumnRole.DIMENSION for c in experian.columns)


@pytest.mark.parametrize("name", OURS)
def test_paid_tables_carry_their_subscription_and_free_ones_none(name: str) -> None:
    assert table(name).paid_feature == PAID.get(name)


def test_windows_retention_and_cadence() -> None:
    by_traffic = table("amazon_attributed_events_by_traffic_time")
    by_conversion = table("amazon_attributed_events_by_conversion_time")
    assert (by_traffic.window_column, by_traffic.lookahead) == (
        "traffic_event_dt_utc",
        timedelta(days=30),
    )
    assert (by_conversion.window_column, by_conversion.lookback) == (
        "conversion_event_dt_utc",
        timedelta(days=14),
    )
    windows = {name: table(name).window_column for name in OURS}
    assert windows["amazon_retail_purchases"] == "purchase_dt_utc"
    assert windows["ncs_cpg_insights_stream"] == "week_end_dt"
    assert windows["experian_vehicle_purchases"] == "purchase_date"
    assert all(
        windows[name] == "event_dt_utc"
        for name in OURS
        if name.endswith(("conversions", "_all", "_relevance", "_brand"))
    )
    assert table("amazon_retail_purchases").retention_months == 60
    assert all(table(n).retention_months == 13 for n in OURS if n != "amazon_retail_purchases")
    assert all(table(n).cadence is Cadence.EVENTS for n in OURS)
    refresh = {name: table(name).refresh for name in OURS}
    assert refresh.pop("ncs_cpg_insights_stream") == "weekly"
    assert refresh.pop("experian_vehicle_purchases") == "monthly"
    assert set(refresh.values()) == {"daily"}
