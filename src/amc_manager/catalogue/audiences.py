"""AMC's paid tables about users: audience segments, Your Garage, Brand Stores, Prime Video.

Each needs an AMC Paid Features subscription for analytics queries (`Table.paid_feature`, named
as Amazon's paid features overview names it). Facts were read from Amazon's AMC data source
pages (public mirror `idealerror/amazon-ads-api-docs`) on 2026-12-06; descriptions are ours.
Columns keep each page's order.
"""

from __future__ import annotations

from itertools import product

from amc_manager.catalogue.common import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    LONG,
    STRING,
    TIMESTAMP,
    H,
    L,
    M,
    N,
    V,
    X,
)
from amc_manager.catalogue.model import (
    Cadence,
    Column,
    ColumnRole,
    DataType,
    Provenance,
    Table,
    ThresholdClass,
)

_PAGES = "idealerror/amazon-ads-api-docs:en-us/guides/amazon-marketing-cloud/datasources/"
_READ_ON = "2026-12-06"

# Subscriptions, as the paid features overview names them. Audience Segment Insights is part of
# Amazon Insights for advertisers selling on Amazon (others buy it on its own).
AMAZON_INSIGHTS = "Amazon Insights"
AMAZON_YOUR_GARAGE = "Amazon Your Garage"
AMAZON_BRAND_STORE_INSIGHTS = "Amazon Brand Store Insights"
AMAZON_PRIME_VIDEO_CHANNEL_INSIGHTS = "Amazon Prime Video Channel Insights"


def _page(page: str) -> Provenance:
    return Provenance(f"{_PAGES}{page}.md", _READ_ON)


def _dim(
    name: str, data_type: DataType, threshold: ThresholdClass, text: str, *, array: bool = False
) -> Column:
    return Column(name, data_type, threshold, text, ColumnRole.DIMENSION, array)


_USER_ID = _dim("user_id", STRING, V, "Pseudonymous user identifier")
_USER_ID_TYPE = _dim("user_id_type", STRING, L, "Kind of user_id")
_NO_3P = _dim("no_3p_trackers", BOOLEAN, N, "True when audiences from it may not use 3P tracking")

# --- Amazon audience segment membership (Audience Segment Insights) ---------------------------

_MEMBERSHIP = (
    _NO_3P,
    _dim("segment_id", INTEGER, L, "Segment id (unique within its marketplace)"),
    _dim("segment_marketplace_id", LONG, L, "Marketplace the segment belongs to"),
    _dim("segment_name", STRING, L, "Segment name"),
    _USER_ID,
    _USER_ID_TYPE,
    _dim("snapshot_datetime", DATE, L, "Date the user-to-segment record was taken"),
)


def _membership(region: str, category: str, history: bool) -> Table:
    name = f"audience_segments_{region}_{category}" + ("_snapshot" if history else "")
    what = f"{region.upper()} {'in-market' if category == 'inmarket' else category} segments"
    if history:
        # Monthly records (the first Thursday of each month), selected by a window like events.
        return Table(
            name=name,
            provenance=_page("audience_segment_membership_paid"),
            description=f"Users in {what}, as recorded on the first Thursday of each month: one "
            "row per user, segment and month.",
            window_column="snapshot_datetime",
            refresh="monthly",
            paid_feature=AMAZON_INSIGHTS,
            columns=_MEMBERSHIP,
        )
    return Table(
        name=name,
        provenance=_page("audience_segment_membership_paid"),
        description=f"Users in {what} now: one row per user and segment, whatever the window.",
        cadence=Cadence.SNAPSHOT,
        paid_feature=AMAZON_INSIGHTS,
        columns=_MEMBERSHIP,
    )


_SEGMENT_METADATA = Table(
    name="segment_metadata",
    provenance=_page("audience_segment_membership_paid"),
    description="What each audience segment is (join on segment_id and segment_marketplace_id); "
    "the current list, whatever the window.",
    cadence=Cadence.SNAPSHOT,
    paid_feature=AMAZON_INSIGHTS,
    columns=(
        _dim("category_level_1", STRING, L, "Top level of the segment taxonomy"),
        _dim("category_level_2", STRING, L, "Second level of the segment taxonomy"),
        _dim("category_path", STRING, L, "Full taxonomy path of the segment"),
        _NO_3P,
        _dim("segment_description", STRING, L, "What the segment stands for"),
        _dim("segment_id", INTEGER, L, "Segment id (unique within its marketplace)"),
        _dim("segment_marketplace_id", LONG, L, "Marketplace the segment belongs to"),
        _dim("segment_name", STRING, L, "Segment name"),
    ),
)

# --- Amazon Your Garage ----------------------------------------------------------------------

_YOUR_GARAGE = Table(
    name="amazon_your_garage",
    provenance=_page("amazon_your_garage_paid"),
    description="Vehicles shoppers saved in Your Garage (US, CA, MX stores): one row per user "
    "and vehicle, the current state whatever the window.",
    cadence=Cadence.SNAPSHOT,
    paid_feature=AMAZON_YOUR_GARAGE,
    columns=(
        _dim("marketplace_name", STRING, L, "Marketplace of the garage record"),
        _dim("user_id", STRING, V, "Pseudonymous id of the vehicle's owner"),
        _USER_ID_TYPE,
        _dim("creation_date", DATE, L, "Date the record was created (UTC)"),
        _dim("last_accessed_date", DATE, L, "Date the shopper last used the record (UTC)"),
        _dim("update_date", DATE, L, "Date the record was last edited (UTC)"),
        _dim("garage_year", STRING, L, "Vehicle model year"),
        _dim("vehicle_type", STRING, L, "Vehicle type"),
        _dim("garage_make", STRING, L, "Vehicle make"),
        _dim("garage_model", STRING, L, "Vehicle model"),
        _dim("garage_submodel", STRING, L, "Vehicle trim"),
        _dim("garage_bodystyle", STRING, L, "Vehicle body style"),
        _dim("garage_engine", STRING, L, "Vehicle engine"),
        _dim("garage_transmission", STRING, L, "Vehicle transmission"),
        _dim("garage_drivetype", STRING, L, "Vehicle drive type"),
        _dim("garage_brakes", STRING, L, "Vehicle brakes"),
        _NO_3P,
    ),
)

# --- Amazon Brand Store insights ---------------------------------------------------------------

_STORE = {
    c.name: c
    for c in (
        _dim("advertiser_id", LONG, L, "Advertiser id"),
        _dim("asin", STRING, L, "ASIN the interaction was about"),
        _dim("channel", STRING, L, "Channel tag of the visit (query string name)"),
        _dim("device_type", STRING, M, "Device type the store was seen on"),
        _dim("dwell_time", DECIMAL, L, "Seconds spent on the page"),
        _dim("event_date_utc", DATE, L, "Event date (UTC)"),
        _dim("event_dt_utc", TIMESTAMP, L, "Event time (UTC)"),
        _dim("event_sub_type", STRING, L, "Engagement event subtype"),
        _dim("event_type", STRING, L, "Engagement event type"),
        # Blank on the engagement events page; MEDIUM as on the page views page.
        _dim("ingress_type", STRING, M, "Traffic source code (1 search, 4 ads, ...)"),
        _dim("marketplace_id", INTEGER, X, "Marketplace id of the store"),
        _dim("page_id", STRING, L, "Store page id"),
        _dim("page_title", STRING, L, "Store page title"),
        _dim("reference_id", STRING, L, "Ad campaign that brought the visit (ingress_type 4)"),
        _dim("referrer_domain", STRING, L, "Domain the visitor came from"),
        _dim("session_id", STRING, V, "Store session id"),
        _dim("store_name", STRING, L, "Store name its owner chose"),
        _USER_ID,
        _USER_ID_TYPE,
        _dim("visit_id", STRING, V, "Store visit id"),
        _dim("widget_sub_type", STRING, L, "Store widget subtype"),
        _dim("widget_type", STRING, L, "Store widget type"),
        _NO_3P,
    )
}
_PAGE_VIEW_COLUMNS = """
    advertiser_id channel device_type dwell_time event_date_utc event_dt_utc ingress_type
    marketplace_id page_id page_title reference_id referrer_domain session_id store_name user_id
    user_id_type visit_id no_3p_trackers
""".split()
_ENGAGEMENT_COLUMNS = """
    advertiser_id asin channel device_type event_date_utc event_dt_utc event_sub_type event_type
    ingress_type marketplace_id page_id page_title reference_id referrer_domain session_id
    store_name user_id user_id_type widget_sub_type widget_type no_3p_trackers
""".split()


def _store_table(name: str, what: str, columns: list[str], endemic: bool) -> Table:
    whose = "" if endemic else " (for advertisers that do not sell on Amazon)"
    return Table(
        name=name if endemic else f"{name}_non_endemic",
        provenance=_page("brand_store_insights_paid"),
        description=f"Brand Store {what}{whose}.",
        window_column="event_dt_utc",
        paid_feature=AMAZON_BRAND_STORE_INSIGHTS,
        columns=tuple(_STORE[n] for n in columns),
    )


# --- Amazon Prime Video Channel insights -------------------------------------------------------

_PVC_ENROLLMENTS = Table(
    name="amazon_pvc_enrollments",
    provenance=_page("prime_video_channel_insights_paid"),
    description="Prime Video Channel subscription records, one per benefit and billing "
    "interval; a window selects them by the interval's start date.",
    window_column="pv_start_date",
    paid_feature=AMAZON_PRIME_VIDEO_CHANNEL_INSIGHTS,
    columns=(
        _dim("marketplace_id", LONG, X, "Marketplace id of the enrollment"),
        _dim("marketplace_name", STRING, L, "Marketplace of the enrollment"),
        _dim("no_3p_trackers", BOOLEAN, L, "True when audiences from it may not use 3P tracking"),
        _dim("pv_benefit_id", STRING, X, "Subscription benefit id"),
        _dim("pv_benefit_name", STRING, L, "Subscription benefit name"),
        _dim("pv_billing_type", STRING, M, "Billing type of the record"),
        _dim("pv_end_date", DATE, L, "End of the record's interval"),
        _dim("pv_enrollment_status", STRING, L, "Enrollment status"),
        _dim("pv_is_latest_record", BOOLEAN, X, "True for the latest record of the enrollment"),
        _dim("pv_is_plan_conversion", BOOLEAN, L, "True when a free trial became a subscription"),
        _dim("pv_is_plan_start", BOOLEAN, L, "True when the record opens an enrollment"),
        _dim("pv_is_promo", BOOLEAN, L, "True under a promotional offer"),
        _dim("pv_offer_name", STRING, H, "Subscription offer name"),
        _dim("pv_start_date", DATE, L, "Start of the record's interval"),
        _dim("pv_sub_event_primary_key", STRING, X, "Enrollment event id"),
        _dim("pv_subscription_id", STRING, X, "Subscription id (count it for subscriptions)"),
        _dim("pv_subscription_name", STRING, L, "Subscription name"),
        _dim("pv_subscription_product_id", STRING, X, "Subscription product id"),
        _dim("pv_unit_price", DECIMAL, N, "Unit price of the record"),
        _USER_ID,
        _USER_ID_TYPE,
    ),
)

_PVC_STREAMING = Table(
    name="amazon_pvc_streaming_events_feed",
    provenance=_page("prime_video_channel_insights_paid"),
    description="Prime Video Channel streaming sessions with what was watched and for how long, "
    "one row per session and benefit.",
    window_column="pv_playback_dt_utc",
    paid_feature=AMAZON_PRIME_VIDEO_CHANNEL_INSIGHTS,
    columns=(
        _dim("marketplace_id", LONG, X, "Marketplace id of the event"),
        _dim("marketplace_name", STRING, L, "Marketplace of the event"),
        _dim("no_3p_trackers", BOOLEAN, L, "True when audiences from it may not use 3P tracking"),
        _dim("pv_access_type", STRING, L, "How the content was accessed (free, rental, ...)"),
        # The page says ARRAY without an element type: names, so STRING.
        _dim("pv_gti_cast", STRING, L, "Cast members", array=True),
        _dim("pv_gti_content_entity_type", STRING, L, "Content entity type"),
        _dim("pv_gti_content_rating", STRING, L, "Content rating"),
        _dim("pv_gti_content_type", STRING, L, "Content type (episode, movie, ...)"),
        _dim("pv_gti_director", STRING, L, "Directors", array=True),
        _dim("pv_gti_episode", STRING, L, "Episode"),
        _dim("pv_gti_event_context", STRING, L, "Live event context"),
        _dim("pv_gti_event_item", STRING, L, "Live event item"),
        _dim("pv_gti_event_league", STRING, L, "Live event league"),
        _dim("pv_gti_event_name", STRING, L, "Live event name"),
        _dim("pv_gti_event_sport", STRING, L, "Live event sport"),
        _dim("pv_gti_genre", STRING, L, "Genres", array=True),
        _dim("pv_gti_is_live", BOOLEAN, L, "True for live content"),
        _dim("pv_gti_release_date", DATE, L, "Release date"),
        _dim("pv_gti_season", STRING, L, "Season"),
        _dim("pv_gti_series_or_movie_name", STRING, L, "Series or movie"),
        _dim("pv_gti_studio", STRING, L, "Studio"),
        _dim("pv_gti_title_name", STRING, L, "Title (e.g. the episode's)"),
        _dim("pv_is_avod", BOOLEAN, L, "True for ad-supported video on demand"),
        _dim("pv_is_channels", BOOLEAN, L, "True for channel content"),
        _dim("pv_is_hh_share", BOOLEAN, L, "True when shared within the household"),
        _dim("pv_is_svod", BOOLEAN, L, "True for subscription video on demand"),
        _dim("pv_is_user_initiated", BOOLEAN, L, "True when the viewer started the playback"),
        _dim("pv_material_type", STRING, L, "Material (full, live, promo, trailer)"),
        _dim("pv_offer_group", STRING, L, "Offer group (free, prime, rental, purchase)"),
        _dim("pv_playback_date_utc", DATE, L, "Playback date (UTC)"),
        _dim("pv_playback_dt_utc", TIMESTAMP, M, "Playback time (UTC)"),
        Column(
            "pv_seconds_viewed", DECIMAL, M, "Seconds watched in the session", ColumnRole.METRIC
        ),
        _dim("pv_session_id", STRING, V, "Streaming session id (count it for sessions)"),
        _dim("pv_stream_type", STRING, L, "Stream type (linear, live event, VOD)"),
        _dim("pv_streaming_asin", STRING, L, "ASIN of the content"),
        _dim("pv_streaming_geo_country", STRING, L, "Country the stream was watched from"),
        _dim("pv_streaming_gti", STRING, L, "Global title id"),
        _dim("pv_streaming_language", STRING, L, "Language"),
        _USER_ID,
        _USER_ID_TYPE,
    ),
)

TABLES: tuple[Table, ...] = (
    *(
        _membership(region, category, history)
        for history, region, category in product(
            (False, True), ("amer", "apac", "eu"), ("inmarket", "lifestyle")
        )
    ),
    _SEGMENT_METADATA,
    _YOUR_GARAGE,
    *(
        _store_table(name, what, columns, endemic)
        for endemic in (True, False)
        for name, what, columns in (
            ("amazon_brand_store_page_views", "page views with dwell time", _PAGE_VIEW_COLUMNS),
            (
                "amazon_brand_store_engagement_events",
                "widget interactions (clicks, views, ...)",
                _ENGAGEMENT_COLUMNS,
            ),
        )
    ),
    _PVC_ENROLLMENTS,
    _PVC_STREAMING,
)
