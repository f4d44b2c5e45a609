"""The traffic and paid user tables of the catalogue against Amazon's AMC data source pages.

The expected values below were read by hand from the pages named in each table's provenance
(2026-12-06); a change here means the catalogue no longer says what Amazon's page says, or a
difference kept on purpose (KEPT) moved.
"""

from __future__ import annotations

import pytest

from amc_manager.catalogue import (
    CATALOGUE,
    Cadence,
    ColumnRole,
    DataType,
    ThresholdClass,
)
from tests.catalogue.facts import assert_threshold, assert_well_described, table

FREE = (
    "dsp_impressions",
    "dsp_clicks",
    "dsp_views",
    "dsp_impressions_by_matched_segments",
    "dsp_impressions_by_user_segments",
    "dsp_video_events_feed",
    "sponsored_ads_traffic",
    "adserver_traffic",
    "adserver_traffic_by_user_segments",
)
_SEGMENT_TABLES = [
    f"audience_segments_{region}_{category}{history}"
    for region in ("amer", "apac", "eu")
    for category in ("inmarket", "lifestyle")
    for history in ("", "_snapshot")
]
PAID = {
    **dict.fromkeys(_SEGMENT_TABLES, "Amazon Insights"),
    "segment_metadata": "Amazon Insights",
    "amazon_your_garage": "Amazon Your Garage",
    "amazon_brand_store_page_views": "Amazon Brand Store Insights",
    "amazon_brand_store_page_views_non_endemic": "Amazon Brand Store Insights",
    "amazon_brand_store_engagement_events": "Amazon Brand Store Insights",
    "amazon_brand_store_engagement_events_non_endemic": "Amazon Brand Store Insights",
    "amazon_pvc_enrollments": "Amazon Prime Video Channel Insights",
    "amazon_pvc_streaming_events_feed": "Amazon Prime Video Channel Insights",
}
OURS = (*FREE, *PAID)

# Rows in each page's column table (derived tables: their base table's plus their own;
# sponsored_ads_traffic: the page's 73 plus the sandbox's `device_type`).
COLUMN_COUNTS = {
    "dsp_impressions": 98,
    "dsp_clicks": 97,
    "dsp_views": 66,
    "dsp_impressions_by_matched_segments": 98 + 4,
    "dsp_impressions_by_user_segments": 98 + 4,
    "dsp_video_events_feed": 98 + 15,
    "sponsored_ads_traffic": 73 + 1,
    "adserver_traffic": 129,
    "adserver_traffic_by_user_segments": 129 + 3,
    **dict.fromkeys(_SEGMENT_TABLES, 7),
    "segment_metadata": 8,
    "amazon_your_garage": 17,
    "amazon_brand_store_page_views": 18,
    "amazon_brand_store_page_views_non_endemic": 18,
    "amazon_brand_store_engagement_events": 21,
    "amazon_brand_store_engagement_events_non_endemic": 21,
    "amazon_pvc_enrollments": 21,
    "amazon_pvc_streaming_events_feed": 40,
}

# (table, column, threshold class on Amazon's page)
THRESHOLDS = [
    ("dsp_impressions", "postal_code", "HIGH"),
    ("dsp_impressions", "city_name", "HIGH"),
    ("dsp_impressions", "bid_price", "MEDIUM"),
    ("dsp_impressions", "impression_dt_utc", "MEDIUM"),
    ("dsp_impressions", "impression_dt_hour_utc", "LOW"),
    ("dsp_impressions", "ocm_fee", "LOW"),
    ("dsp_impressions", "no_3p_trackers", "NONE"),
    ("dsp_impressions", "device_id", "VERY_HIGH"),
    ("dsp_clicks", "click_cost", "MEDIUM"),
    ("dsp_clicks", "click_dt", "MEDIUM"),
    ("dsp_clicks", "request_tag", "VERY_HIGH"),
    ("dsp_clicks", "supply_cost", "NONE"),
    ("dsp_views", "impression_id", "VERY_HIGH"),
    ("dsp_views", "city_name", "HIGH"),
    ("dsp_views", "event_dt", "MEDIUM"),
    ("dsp_views", "view_definition", "LOW"),
    ("dsp_impressions_by_matched_segments", "behavior_segment_matched", "NONE"),
    ("dsp_impressions_by_user_segments", "behavior_segment_id", "LOW"),
    ("dsp_impressions_by_user_segments", "dma_code", "LOW"),
    ("dsp_video_events_feed", "video_complete", "NONE"),
    ("dsp_video_events_feed", "postal_code", "HIGH"),
    ("sponsored_ads_traffic", "event_id", "VERY_HIGH"),
    ("sponsored_ads_traffic", "event_dt", "MEDIUM"),
    ("sponsored_ads_traffic", "customer_search_term", "LOW"),
    ("sponsored_ads_traffic", "five_sec_views", "NONE"),
    ("adserver_traffic", "adserver_session_id", "VERY_HIGH"),
    ("adserver_traffic", "city", "HIGH"),
    ("adserver_traffic", "dma_code", "LOW"),
    ("adserver_traffic", "ad_duration", "LOW"),
    ("adserver_traffic", "is_dco_ad", "NONE"),
    ("adserver_traffic_by_user_segments", "behavior_segment_name", "LOW"),
    ("audience_segments_amer_inmarket", "user_id", "VERY_HIGH"),
    ("audience_segments_eu_lifestyle_snapshot", "segment_marketplace_id", "LOW"),
    ("segment_metadata", "no_3p_trackers", "NONE"),
    ("amazon_your_garage", "garage_make", "LOW"),
    ("amazon_brand_store_page_views", "device_type", "MEDIUM"),
    ("amazon_brand_store_page_views", "marketplace_id", "INTERNAL"),
    ("amazon_brand_store_page_views", "visit_id", "VERY_HIGH"),
    ("amazon_brand_store_page_views", "event_dt_utc", "LOW"),
    ("amazon_brand_store_engagement_events_non_endemic", "session_id", "VERY_HIGH"),
    ("amazon_pvc_enrollments", "pv_offer_name", "HIGH"),
    ("amazon_pvc_enrollments", "pv_billing_type", "MEDIUM"),
    ("amazon_pvc_enrollments", "pv_is_latest_record", "INTERNAL"),
    ("amazon_pvc_enrollments", "no_3p_trackers", "LOW"),
    ("amazon_pvc_streaming_events_feed", "pv_seconds_viewed", "MEDIUM"),
    ("amazon_pvc_streaming_events_feed", "pv_session_id", "VERY_HIGH"),
]

# Differences from a page kept on purpose: the sandbox, the linter's tests and the shipped
# examples rely on today's value. (table, column, the page's class, the catalogue's class)
KEPT = [
    ("dsp_impressions", "dma_code", "LOW", "HIGH"),
    ("dsp_clicks", "dma_code", "LOW", "HIGH"),
]

# (table, column, data type on Amazon's page, Array[...] or not)
DATA_TYPES = [
    ("dsp_impressions", "total_cost", "DOUBLE", False),
    ("dsp_impressions", "placement_view_rate", "DECIMAL", False),
    ("dsp_impressions", "creative_is_link_in", "STRING", False),
    ("dsp_impressions", "user_behavior_segment_ids", "INTEGER", True),
    ("dsp_impressions", "advertiser_account_frequency_group_ids", "LONG", True),
    ("dsp_clicks", "click_day_utc", "INTEGER", False),
    ("dsp_views", "campaign_end_dt_utc", "TIMESTAMP", False),
    ("sponsored_ads_traffic", "campaign_end_date", "DATE", False),
    ("sponsored_ads_traffic", "matched_behavior_segment_ids", "STRING", False),
    ("adserver_traffic", "campaign_start_dt", "DATE", False),
    ("audience_segments_apac_inmarket", "segment_id", "INTEGER", False),
    ("audience_segments_apac_inmarket", "segment_marketplace_id", "LONG", False),
    ("amazon_brand_store_page_views", "dwell_time", "DECIMAL", False),
    ("amazon_pvc_streaming_events_feed", "pv_gti_genre", "STRING", True),
    ("amazon_pvc_enrollments", "pv_unit_price", "DECIMAL", False),
]

# (table, column, the page's "Metric/dimension")
ROLES = [
    ("dsp_impressions", "bid_price", "METRIC"),
    ("dsp_impressions", "campaign_budget_amount", "DIMENSION"),
    ("dsp_views", "events", "METRIC"),
    ("sponsored_ads_traffic", "spend", "METRIC"),
    ("adserver_traffic", "ordered_units", "DIMENSION"),
    ("adserver_traffic", "ad_started", "METRIC"),
    ("amazon_pvc_enrollments", "pv_unit_price", "DIMENSION"),
    ("amazon_pvc_streaming_events_feed", "pv_seconds_viewed", "METRIC"),
]

# What the sandbox models in depth today: these names and types must not move.
MODELLED_TODAY = {
    "dsp_impressions": {
        **dict.fromkeys(
            "advertiser advertiser_timezone campaign campaign_id_string line_item creative "
            "creative_type device_type operating_system supply_source iso_country_code "
            "iso_state_province_code dma_code city_name postal_code request_tag device_id "
            "user_id".split(),
            "STRING",
        ),
        **dict.fromkeys("advertiser_id campaign_id line_item_id creative_id".split(), "LONG"),
        **dict.fromkeys("impressions impression_cost bid_price".split(), "LONG"),
        "impression_dt": "TIMESTAMP",
        "impression_dt_utc": "TIMESTAMP",
        "impression_date_utc": "DATE",
        "total_cost": "DOUBLE",
    },
    "dsp_clicks": {
        **dict.fromkeys(
            "advertiser advertiser_timezone campaign campaign_id_string line_item creative "
            "creative_type device_type operating_system supply_source iso_country_code "
            "iso_state_province_code dma_code city_name postal_code request_tag device_id "
            "user_id".split(),
            "STRING",
        ),
        **dict.fromkeys("advertiser_id campaign_id line_item_id creative_id".split(), "LONG"),
        **dict.fromkeys("clicks click_cost".split(), "LONG"),
        "impression_dt": "TIMESTAMP",
        "click_dt": "TIMESTAMP",
        "click_dt_utc": "TIMESTAMP",
        "click_date_utc": "DATE",
    },
    "sponsored_ads_traffic": {
        **dict.fromkeys(
            "ad_product_type advertiser campaign ad_group targeting customer_search_term "
            "match_type placement_type device_type event_id user_id".split(),
            "STRING",
        ),
        **dict.fromkeys(
            "campaign_id impressions viewable_impressions clicks spend".split(), "LONG"
        ),
        "event_dt_utc": "TIMESTAMP",
        "event_date_utc": "DATE",
    },
}
WINDOW_COLUMNS_TODAY = {
    "dsp_impressions": "impression_dt",
    "dsp_clicks": "click_dt",
    "sponsored_ads_traffic": "event_dt_utc",
}


@pytest.mark.parametrize("name", OURS)
def test_every_column_has_a_data_type_a_threshold_class_a_role_and_words(name: str) -> None:
    assert_well_described(name, COLUMN_COUNTS[name])


@pytest.mark.parametrize(("name", "column", "expected"), THRESHOLDS)
def test_threshold_classes_match_amazons_pages(name: str, column: str, expected: str) -> None:
    assert_threshold(name, column, expected)


@pytest.mark.parametrize(("name", "column", "page", "kept"), KEPT)
def test_differences_kept_on_purpose_stay_as_they_were(
    name: str, column: str, page: str, kept: str
) -> None:
    found = table(name).column(column)
    assert found is not None and page != kept
    assert found.threshold is ThresholdClass(kept)


@pytest.mark.parametrize(("name", "column", "expected", "array"), DATA_TYPES)
def test_data_types_match_amazons_pages(name: str, column: str, expected: str, array: bool) -> None:
    found = table(name).column(column)
    assert found is not None, f"{name}.{column} is not catalogued"
    assert found.data_type is DataType(expected)
    assert found.array is array


@pytest.mark.parametrize(("name", "column", "expected"), ROLES)
def test_metric_or_dimension_as_amazons_pages_say(name: str, column: str, expected: str) -> None:
    found = table(name).column(column)
    assert found is not None, f"{name}.{column} is not catalogued"
    assert found.role is ColumnRole(expected)


def test_spot_checks_are_many_and_varied() -> None:
    assert len(THRESHOLDS) >= 15
    assert {t for _, _, t in THRESHOLDS} == {c.value for c in ThresholdClass}
    assert {n for n, _, _ in THRESHOLDS} >= {*FREE, "amazon_your_garage", "segment_metadata"}


@pytest.mark.parametrize("name", sorted(MODELLED_TODAY))
def test_modelled_tables_keep_their_columns_types_and_window(name: str) -> None:
    t = table(name)
    for column, data_type in MODELLED_TODAY[name].items():
        found = t.column(column)
        assert found is not None, f"{name}.{column} went missing"
        assert found.data_type is DataType(data_type), (name, column)
    assert t.window_column == WINDOW_COLUMNS_TODAY[name]


def test_only_analytics_tables_are_catalogued() -> None:
    assert not [t.name for t in CATALOGUE if t.name.endswith("_for_audiences")]
    assert not [t.name for t in CATALOGUE if "_for_audiences" in t.name]


@pytest.mark.parametrize("name", OURS)
def test_paid_tables_name_their_subscription_and_free_ones_none(name: str) -> None:
    assert table(name).paid_feature == PAID.get(name)


@pytest.mark.parametrize("name", OURS)
def test_window_follows_the_cadence(name: str) -> None:
    t = table(name)
    assert t.retention_months == 13  # no page of these tables documents another
    if t.cadence is Cadence.SNAPSHOT:
        assert t.window_column is None and t.refresh == "daily"
    else:
        assert t.window_column is not None
        window = t.column(t.window_column)
        assert window is not None and window.data_type in (DataType.TIMESTAMP, DataType.DATE)


def test_current_segment_views_are_snapshots_and_their_history_is_monthly() -> None:
    current = [n for n in _SEGMENT_TABLES if not n.endswith("_snapshot")]
    history = [n for n in _SEGMENT_TABLES if n.endswith("_snapshot")]
    assert len(current) == len(history) == 6
    for name in (*current, "segment_metadata", "amazon_your_garage"):
        assert table(name).cadence is Cadence.SNAPSHOT, name
    for name in history:
        t = table(name)
        assert (t.cadence, t.refresh, t.window_column) == (
            Cadence.EVENTS,
            "monthly",
            "snapshot_datetime",
        )


def test_derived_tables_carry_their_base_tables_columns() -> None:
    impressions = set(table("dsp_impressions").column_names)
    for name in (
        "dsp_impressions_by_matched_segments",
        "dsp_impressions_by_user_segments",
        "dsp_video_events_feed",
    ):
        assert impressions <= set(table(name).column_names), name
    adserver = set(table("adserver_traffic").column_names)
    assert adserver <= set(table("adserver_traffic_by_user_segments").column_names)


@pytest.mark.parametrize("name", FREE)
def test_columns_keep_amazons_alphabetical_order(name: str) -> None:
    names = list(table(name).column_names)
    assert names == sorted(names)
