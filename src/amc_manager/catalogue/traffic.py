"""AMC's traffic tables (Amazon DSP, sponsored ads, Amazon Ad Server): one entry per table.

Facts read from Amazon's AMC data source pages (the public mirror `idealerror/amazon-ads-api-docs`,
`en-us/guides/amazon-marketing-cloud/datasources/`) on 2026-12-06; descriptions are ours. Columns
keep the pages' (alphabetical) order. Where a page differs from a value this catalogue had before
(and the sandbox and linter rely on), the old value is kept and marked `page:` in a comment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from amc_manager.catalogue.common import (
    BOOLEAN,
    DATE,
    DECIMAL,
    DOUBLE,
    INTEGER,
    LONG,
    STRING,
    TIMESTAMP,
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

_PAGES = "idealerror/amazon-ads-api-docs:en-us/guides/amazon-marketing-cloud/datasources/"
_READ_ON = "2026-12-06"


def _page(*pages: str) -> Provenance:
    return Provenance(" + ".join(f"{_PAGES}{page}.md" for page in pages), _READ_ON)


def _dim(
    name: str, data_type: DataType, threshold: ThresholdClass, text: str, *, array: bool = False
) -> Column:
    return Column(name, data_type, threshold, text, ColumnRole.DIMENSION, array)


def _met(name: str, data_type: DataType, threshold: ThresholdClass, text: str) -> Column:
    return Column(name, data_type, threshold, text, ColumnRole.METRIC)


def _pool(*columns: Column) -> Mapping[str, Column]:
    return {c.name: c for c in columns}


def _pick(pool: Mapping[str, Column], names: Iterable[str]) -> tuple[Column, ...]:
    """The pool's columns called `names`, in alphabetical order as Amazon's pages list them."""
    return tuple(pool[name] for name in sorted(names))


def _times(prefix: str, what: str, local: str = "advertiser time zone") -> tuple[Column, ...]:
    """An event's time columns as AMC spells them (`<prefix>_dt`, `_dt_hour`, `_date`, `_day`,
    `_hour`), in local time and in UTC; only the exact timestamps are MEDIUM."""
    columns: list[Column] = []
    for suffix, zone in (("", local), ("_utc", "UTC")):
        columns += [
            _dim(f"{prefix}_dt{suffix}", TIMESTAMP, M, f"{what} time ({zone})"),
            _dim(f"{prefix}_dt_hour{suffix}", TIMESTAMP, L, f"{what} time to the hour ({zone})"),
            _dim(f"{prefix}_date{suffix}", DATE, L, f"{what} date ({zone})"),
            _dim(f"{prefix}_day{suffix}", INTEGER, L, f"{what} day of the month ({zone})"),
            _dim(f"{prefix}_hour{suffix}", INTEGER, L, f"{what} hour of the day, 0-23 ({zone})"),
        ]
    return tuple(columns)


def _span(pattern: str, what: str, data_type: DataType) -> tuple[Column, ...]:
    """Start and end of a campaign, line item, ...: `pattern` with start/end, local and UTC."""
    return tuple(
        _dim(pattern.format(edge) + suffix, data_type, L, f"{what} {edge} ({zone})")
        for edge in ("start", "end")
        for suffix, zone in (("", "local time"), ("_utc", "UTC"))
    )


# --- Amazon DSP ------------------------------------------------------------------------------

_USER_ID = _dim("user_id", STRING, V, "Pseudonymous user identifier (account, device or browser)")
_USER_ID_TYPE = _dim("user_id_type", STRING, L, "Kind of user_id: adUserId, sisDeviceId, ...")
_NO_3P = _dim("no_3p_trackers", BOOLEAN, N, "True when audiences from it may not use 3P tracking")

_DSP = _pool(
    *_times("impression", "Impression"),
    *_times("click", "Click"),
    *_times("event", "View event"),
    *_span("campaign_{}_date", "Campaign", TIMESTAMP),
    *_span("campaign_{}_dt", "Campaign", TIMESTAMP),
    *_span("line_item_{}_date", "Line item", TIMESTAMP),
    *_span("line_item_{}_dt", "Line item", TIMESTAMP),
    _dim("ad_slot_size", STRING, L, "Size of the ad slot in pixels (width x height)"),
    _dim("advertiser", STRING, L, "Advertiser name"),
    _dim(
        "advertiser_account_frequency_group_ids",
        LONG,
        L,
        "Advertiser-level frequency groups that applied to the impression",
        array=True,
    ),
    _dim("advertiser_id", LONG, L, "Advertiser id"),
    _dim("advertiser_timezone", STRING, L, "Advertiser time zone"),
    _dim("app_bundle", STRING, L, "App bundle id of the app the ad ran in"),
    _met("audience_fee", LONG, N, "Amazon audience fee in microcents"),
    _dim("behavior_segment_description", STRING, L, "What the audience segment stands for"),
    _dim("behavior_segment_id", INTEGER, L, "Audience segment id"),
    _met("behavior_segment_matched", LONG, N, "1 when the line item targeted the segment, else 0"),
    _dim("behavior_segment_name", STRING, L, "Audience segment name"),
    _met("bid_price", LONG, M, "Bid price in microcents"),
    _dim("browser_family", STRING, L, "Browser or app environment family"),
    _dim("campaign", STRING, L, "Campaign name"),
    _dim("campaign_budget_amount", LONG, L, "Campaign budget in millicents"),
    _dim("campaign_country", STRING, L, "Country set on the campaign"),
    _dim("campaign_flight_id", LONG, L, "Campaign flight id"),
    _dim("campaign_id", LONG, L, "Campaign id"),
    _dim("campaign_id_string", STRING, L, "Campaign id as text"),
    _dim("campaign_insertion_order_id", STRING, L, "Insertion order id"),
    _dim("campaign_primary_goal", STRING, L, "Goal the campaign optimises for (ROAS, REACH, ...)"),
    _dim("campaign_sales_type", STRING, L, "BILLABLE or BONUS campaign"),
    _dim("campaign_source", STRING, L, "Source of the campaign"),
    _dim("campaign_status", STRING, L, "Campaign status (RUNNING, PAUSED, ENDED, ...)"),
    _dim("city_name", STRING, H, "City of the event"),
    _met("click_cost", LONG, M, "Click cost in millicents"),
    _met("clicks", LONG, N, "Click count (1 per row)"),
    _dim("creative", STRING, L, "Creative name"),
    _dim("creative_category", STRING, L, "Display, Video or NULL"),
    _dim("creative_duration", LONG, L, "Video creative length in seconds; NULL for display"),
    _dim("creative_id", LONG, L, "Creative id"),
    _dim("creative_is_link_in", STRING, L, "Y when the creative leads to an Amazon page, else N"),
    _dim("creative_size", STRING, L, "Creative size in pixels, or Responsive"),
    _dim("creative_type", STRING, L, "Creative type (Standard Display, Streaming TV Video, ...)"),
    _dim("currency_iso_code", STRING, L, "ISO 4217 code of the money columns' currency"),
    _dim("currency_name", STRING, L, "Name of the money columns' currency"),
    _dim("deal_id", STRING, L, "Private deal id; NULL for the open auction"),
    _dim("deal_name", STRING, L, "Private deal name; NULL for the open auction"),
    _dim("demand_channel", STRING, L, "Demand channel"),
    _dim("demand_channel_owner", STRING, L, "Owner of the demand channel"),
    _dim("device_id", STRING, V, "Pseudonymous device identifier"),
    _dim("device_make", STRING, L, "Device manufacturer, as the user agent spells it"),
    _dim("device_model", STRING, L, "Device model, as the user agent spells it"),
    _dim("device_type", STRING, L, "Device type (Phone, Tablet, TV, PC, ...)"),
    _dim("dma_code", STRING, H, "Designated market area (US-DMA<n>)"),  # page: LOW
    _dim("entity_id", STRING, L, "DSP entity (seat) id"),
    _dim("environment_type", STRING, L, "Web, App or NULL"),
    _dim("event_type", STRING, L, "MEASURABLE_IMP, VIEW, UNMEASURABLE_IMP or SYNTHETIC_VIEW"),
    _met("events", LONG, N, "View event count (1 per row)"),
    _met("impression_cost", LONG, N, "Impression cost in millicents"),
    _dim("impression_id", STRING, V, "request_tag of the impression the view event belongs to"),
    _met("impressions", LONG, N, "Impression count (1 per row)"),
    _dim("is_amazon_owned", BOOLEAN, L, "True when the ad ran on Amazon-owned inventory"),
    _dim("iso_country_code", STRING, L, "Country of the event (ISO 3166 alpha-2)"),
    _dim("iso_state_province_code", STRING, L, "State or province of the event (ISO 3166-2)"),
    _dim("line_item", STRING, L, "Line item name"),
    _dim("line_item_budget_amount", LONG, L, "Line item budget in millicents"),
    _dim("line_item_id", LONG, L, "Line item id"),
    _dim("line_item_price_type", STRING, L, "Pricing model of the line item (CPM, ...)"),
    _dim("line_item_status", STRING, L, "Line item status (RUNNING, ENDED, PAUSED_BY_USER, ...)"),
    _dim("line_item_type", STRING, L, "Line item type (AAP_DISPLAY, AAP_VIDEO_CPM, ...)"),
    _met("managed_service_fee", LONG, N, "Managed service fee in microcents"),
    _dim(
        "manager_account_frequency_group_ids",
        LONG,
        L,
        "Manager-account frequency groups that applied to the impression",
        array=True,
    ),
    _dim(
        "matched_behavior_segment_ids",
        INTEGER,
        L,
        "Segments both targeted by the line item and holding the user",
        array=True,
    ),
    _met("measurable_impressions", LONG, N, "1 when the row is a measurable impression, else 0"),
    _dim("merchant_id", LONG, L, "Merchant id"),
    _NO_3P,
    _met("ocm_fee", LONG, L, "Omnichannel measurement fee in microcents"),
    _dim("operating_system", STRING, L, "Operating system of the device"),
    _dim("os_version", STRING, L, "Operating system version"),
    _dim("page_type", STRING, L, "Kind of page the ad ran on (Search, Detail, ...)"),
    _dim("placement_is_view_aware", BOOLEAN, L, "True when the placement measures viewability"),
    _dim("placement_view_rate", DECIMAL, L, "Viewable share of the placement's impressions"),
    _met("platform_fee", LONG, N, "DSP platform fee in microcents"),
    _dim("postal_code", STRING, H, "Postal code of the event, prefixed with the country"),
    _dim("product_line", STRING, L, "Product line of the campaign"),
    _dim("request_tag", STRING, V, "Ad request identifier shared by an impression's events"),
    _dim("segment_marketplace_id", INTEGER, L, "Marketplace of the audience segments"),
    _dim("site", STRING, L, "Site or app the ad ran on"),
    _dim("slot_position", STRING, L, "ATF, BTF or UNKNOWN (above or below the fold)"),
    _met("supply_cost", LONG, N, "Cost paid to the publisher or exchange in microcents"),
    _dim("supply_source", STRING, L, "Supply source the impression was bought from"),
    _dim("supply_source_id", LONG, L, "Supply source id"),
    _dim("supply_source_is_view_aware", BOOLEAN, L, "True when the supply source measures views"),
    _dim("supply_source_view_rate", DECIMAL, L, "Viewable share of the source's impressions"),
    _met("third_party_fees", LONG, N, "Third-party fees in microcents"),
    _met("total_cost", DOUBLE, N, "Total cost in millicents, fees included"),
    _met(
        "unmeasurable_viewable_impressions",
        LONG,
        N,
        "1 when the row is an unmeasurable or synthetic view, else 0",
    ),
    _dim(
        "user_behavior_segment_ids",
        INTEGER,
        L,
        "Segments the user belonged to at the impression",
        array=True,
    ),
    _USER_ID,
    _USER_ID_TYPE,
    _met("video_click", LONG, N, "1 when the video ad was clicked, else 0"),
    _met("video_complete", LONG, N, "1 when the video played to the end, else 0"),
    _met("video_creative_view", LONG, N, "1 when a companion or overlay element was seen, else 0"),
    _met("video_first_quartile", LONG, N, "1 when the video reached 25%, else 0"),
    _met("video_impression", LONG, N, "1 when the video's first frame showed, else 0"),
    _met("video_midpoint", LONG, N, "1 when the video reached 50%, else 0"),
    _met("video_mute", LONG, N, "1 when the viewer muted the video, else 0"),
    _met("video_pause", LONG, N, "1 when the viewer paused the video, else 0"),
    _met("video_replay", LONG, N, "1 when the video was replayed after it ended, else 0"),
    _met("video_resume", LONG, N, "1 when the video resumed after a pause, else 0"),
    _met("video_skip_backward", LONG, N, "1 when the viewer skipped backward, else 0"),
    _met("video_skip_forward", LONG, N, "1 when the viewer skipped forward, else 0"),
    _met("video_start", LONG, N, "1 when the video started, else 0"),
    _met("video_third_quartile", LONG, N, "1 when the video reached 75%, else 0"),
    _met("video_unmute", LONG, N, "1 when the viewer unmuted the video, else 0"),
    _dim("view_definition", STRING, L, "Viewability standard of a VIEW event"),
    _met("viewable_impressions", LONG, N, "1 when the row is a viewable impression, else 0"),
)

# Columns the DSP impression, click and view tables share.
_DSP_COMMON = """
    ad_slot_size advertiser advertiser_account_frequency_group_ids advertiser_id
    advertiser_timezone app_bundle campaign campaign_country campaign_flight_id campaign_id
    campaign_id_string campaign_insertion_order_id campaign_primary_goal campaign_sales_type
    campaign_source campaign_status city_name creative creative_category creative_duration
    creative_id creative_is_link_in creative_size creative_type demand_channel_owner device_make
    device_model entity_id environment_type line_item line_item_id line_item_price_type
    line_item_status line_item_type manager_account_frequency_group_ids merchant_id
    no_3p_trackers operating_system os_version page_type site slot_position supply_source_id
    user_id user_id_type
""".split()
# ... and the impression and click tables (not the view table).
_DSP_SERVED = """
    audience_fee bid_price browser_family campaign_budget_amount campaign_end_date
    campaign_end_date_utc campaign_start_date campaign_start_date_utc currency_iso_code
    currency_name deal_id deal_name demand_channel device_id device_type dma_code
    impression_date impression_date_utc impression_day impression_day_utc impression_dt
    impression_dt_hour impression_dt_hour_utc impression_dt_utc impression_hour
    impression_hour_utc is_amazon_owned iso_country_code iso_state_province_code
    line_item_budget_amount line_item_end_date line_item_end_date_utc line_item_start_date
    line_item_start_date_utc platform_fee postal_code product_line request_tag supply_cost
    supply_source
""".split()
_DSP_IMPRESSION_ONLY = """
    impression_cost impressions managed_service_fee matched_behavior_segment_ids ocm_fee
    placement_is_view_aware placement_view_rate segment_marketplace_id
    supply_source_is_view_aware supply_source_view_rate third_party_fees total_cost
    user_behavior_segment_ids
""".split()
_DSP_IMPRESSION_COLUMNS = [*_DSP_COMMON, *_DSP_SERVED, *_DSP_IMPRESSION_ONLY]
_SEGMENT_COLUMNS = """
    behavior_segment_description behavior_segment_id behavior_segment_matched
    behavior_segment_name
""".split()
_VIDEO_COLUMNS = [c for c in _DSP if c.startswith("video_")]
# The tables new to this catalogue take dma_code's class from the page (see _DSP).
_DSP_AS_DOCUMENTED = {**_DSP, "dma_code": replace(_DSP["dma_code"], threshold=L)}

_DSP_IMPRESSIONS = Table(
    name="dsp_impressions",
    provenance=_page("dsp_impressions"),
    description="Amazon DSP impressions, one row per impression served.",
    window_column="impression_dt",
    columns=_pick(_DSP, _DSP_IMPRESSION_COLUMNS),
)

_DSP_CLICKS = Table(
    name="dsp_clicks",
    provenance=_page("dsp_clicks"),
    description="Amazon DSP clicks, one row per click, with the clicked impression's details.",
    window_column="click_dt",
    columns=_pick(
        _DSP,
        [
            *_DSP_COMMON,
            *_DSP_SERVED,
            *(c.name for c in _times("click", "Click")),
            "click_cost",
            "clicks",
        ],
    ),
)

_DSP_VIEWS = Table(
    name="dsp_views",
    provenance=_page("dsp_views"),
    description="Amazon DSP viewability events: one row per measurable, viewable, unmeasurable "
    "or synthetic view event, so one impression may have several rows.",
    window_column="event_dt_utc",
    columns=_pick(
        _DSP,
        [
            *_DSP_COMMON,
            *"event_date event_date_utc event_dt event_dt_hour event_dt_hour_utc".split(),
            "event_dt_utc",
            *(n for n in _DSP if n.startswith(("campaign_start_dt", "campaign_end_dt"))),
            *(n for n in _DSP if n.startswith(("line_item_start_dt", "line_item_end_dt"))),
            "event_type",
            "events",
            "impression_id",
            "measurable_impressions",
            "unmeasurable_viewable_impressions",
            "view_definition",
            "viewable_impressions",
        ],
    ),
)

_BY_MATCHED_SEGMENTS = Table(
    name="dsp_impressions_by_matched_segments",
    provenance=_page("dsp_impressions_by_segments", "dsp_impressions"),
    description="Amazon DSP impressions, one row per impression and audience segment both "
    "targeted by the line item and holding the user.",
    window_column="impression_dt_utc",
    columns=_pick(_DSP_AS_DOCUMENTED, [*_DSP_IMPRESSION_COLUMNS, *_SEGMENT_COLUMNS]),
)

_BY_USER_SEGMENTS = Table(
    name="dsp_impressions_by_user_segments",
    provenance=_page("dsp_impressions_by_segments", "dsp_impressions"),
    description="Amazon DSP impressions, one row per impression and audience segment holding "
    "the user (behavior_segment_matched tells whether the line item targeted it).",
    window_column="impression_dt_utc",
    columns=_pick(_DSP_AS_DOCUMENTED, [*_DSP_IMPRESSION_COLUMNS, *_SEGMENT_COLUMNS]),
)

_VIDEO_EVENTS = Table(
    name="dsp_video_events_feed",
    provenance=_page("dsp_video_events_feed", "dsp_impressions"),
    description="Amazon DSP impressions with the video player's events (starts, quartiles, "
    "completions, mutes, ...) as 0/1 metrics.",
    window_column="impression_dt_utc",
    columns=_pick(_DSP_AS_DOCUMENTED, [*_DSP_IMPRESSION_COLUMNS, *_VIDEO_COLUMNS]),
)

# --- Sponsored ads ---------------------------------------------------------------------------

_SPONSORED = _pool(
    *_times("event", "Traffic event"),
    *_span("ad_group_{}_dt", "Ad group", TIMESTAMP),
    *_span("campaign_{}_date", "Campaign", DATE),
    *_span("campaign_{}_dt", "Campaign", TIMESTAMP),
    *_span("line_item_{}_date", "Ad group (as line item)", TIMESTAMP),
    _dim("ad_group", STRING, L, "Ad group name (the same as line_item)"),
    _dim("ad_group_status", STRING, L, "Ad group status (ENABLED, PAUSED, ARCHIVED)"),
    _dim("ad_group_type", STRING, L, "Ad group type"),
    _dim(
        "ad_product_type",
        STRING,
        L,
        "sponsored_products, sponsored_brands, sponsored_display or sponsored_television",
    ),
    _dim("advertiser", STRING, L, "Advertiser name"),
    _dim("advertiser_timezone", STRING, L, "Advertiser time zone"),
    _dim("campaign", STRING, L, "Campaign name"),
    _dim("campaign_budget_type", STRING, L, "DAILY_BUDGET or LIFETIME_BUDGET"),
    _dim("campaign_id", LONG, L, "Campaign id as the Ads API knows it"),
    _dim("campaign_id_string", STRING, L, "Campaign id as the advertising console shows it"),
    _met("clicks", LONG, N, "1 when the row is a click, else 0"),
    _dim("creative", STRING, L, "Creative name"),
    _dim("creative_asin", STRING, L, "ASIN shown in the ad (some SP and SD events only)"),
    _dim("creative_type", STRING, L, "static_image, video or third_party_creative"),
    _dim("currency_iso_code", STRING, L, "ISO 4217 code of the money columns' currency"),
    _dim("currency_name", STRING, L, "Name of the money columns' currency"),
    _dim("customer_search_term", STRING, L, "What the shopper typed into the search bar"),
    _dim("device_type", STRING, L, "Device type"),  # not on the page
    _dim("entity_id", STRING, L, "Ads entity (seat) id"),
    _dim("event_id", STRING, V, "Traffic event id (traffic_event_id in attributed events)"),
    _met("five_sec_views", LONG, N, "1 when the video played at least five seconds, else 0"),
    _met("impressions", LONG, N, "1 when the row is an impression, else 0"),
    _dim("line_item", STRING, L, "Ad group name (the same as ad_group)"),
    _dim("line_item_id", LONG, L, "Line item id"),
    _dim("line_item_price_type", STRING, L, "Pricing model of the line item"),
    _dim("line_item_status", STRING, L, "Ad group status (the same as ad_group_status)"),
    _dim("line_item_type", STRING, L, "Line item type"),
    _dim("marketplace_name", STRING, L, "Marketplace name"),
    _dim("match_type", STRING, L, "Keyword match type: BROAD, PHRASE, EXACT or NULL"),
    _dim(
        "matched_behavior_segment_ids",
        STRING,
        L,
        "Audience the bid multiplier matched, for impressions bid up by one",
    ),
    _NO_3P,
    _dim("operating_system", STRING, L, "Operating system of the device"),
    _dim("os_version", STRING, L, "Operating system version"),
    _dim("placement_type", STRING, L, "Where the ad showed (Top of Search on-Amazon, ...)"),
    _dim("portfolio_id", LONG, L, "Portfolio id of the campaign"),
    _dim("portfolio_name", STRING, L, "Portfolio name of the campaign"),
    _met("spend", LONG, N, "Cost of the event in microcents"),
    _dim("targeting", STRING, L, "Keyword or product target the advertiser chose"),
    _met(
        "unmeasurable_viewable_impressions",
        LONG,
        N,
        "1 when the row is an unmeasurable or synthetic view, else 0",
    ),
    _USER_ID,
    _USER_ID_TYPE,
    _met("video_complete_views", LONG, N, "1 when the video played to the end, else 0"),
    _met("video_first_quartile_views", LONG, N, "1 when the video reached 25%, else 0"),
    _met("video_midpoint_views", LONG, N, "1 when the video reached 50%, else 0"),
    _met("video_third_quartile_views", LONG, N, "1 when the video reached 75%, else 0"),
    _met("video_unmutes", LONG, N, "1 when the shopper unmuted the video, else 0"),
    _dim("view_definition", STRING, L, "Viewability standard of a view; NULL otherwise"),
    _met("viewable_impressions", LONG, N, "1 when the row is a viewable impression, else 0"),
)

_SPONSORED_ADS_TRAFFIC = Table(
    name="sponsored_ads_traffic",
    provenance=_page("sponsored_ads_traffic"),
    description="Sponsored Products, Brands, Display and TV impressions and clicks, one row per "
    "event.",
    window_column="event_dt_utc",
    columns=_pick(_SPONSORED, _SPONSORED),
)

# --- Amazon Ad Server (sunset by Amazon in Q4 2024) --------------------------------------------

_ADSERVER = _pool(
    *_times("event", "Event", "ad server account time zone"),
    *_span("campaign_{}_date", "Campaign", DATE),
    *_span("campaign_{}_dt", "Campaign", DATE),  # DATE, as the page says
    *_span("package_{}_date", "Package", DATE),
    *_span("placement_{}_date", "Placement", DATE),
    _dim("account_currency", STRING, L, "Currency of the ad server account"),
    _dim("account_timezone", STRING, L, "Time zone of the ad server account"),
    _dim("ad", STRING, L, "Name of the ad attached to the placement"),
    _met("ad_duration", LONG, L, "Average seconds the ad was in view"),
    _dim("ad_format", STRING, L, "Ad format (in-banner, in-stream video, rich media, ...)"),
    _dim("ad_id", LONG, L, "Ad id"),
    _dim("ad_length", LONG, L, "Ad length in seconds, from its settings"),
    _dim("ad_size", STRING, L, "Ad size in kilobytes"),
    _met("ad_started", LONG, L, "Times the ad started to load"),
    _dim("adserver_brand", STRING, L, "Ad server brand name"),
    _dim("adserver_brand_id", LONG, L, "Ad server brand id"),
    _dim("adserver_session_id", STRING, V, "Ad server session id"),
    _dim("adserver_site", STRING, L, "Ad server site: the publisher or DSP that sold the media"),
    _dim("advertiser", STRING, L, "Ad server advertiser name"),
    _dim("advertiser_id", LONG, L, "Ad server advertiser id"),
    _dim("behavior_segment_description", STRING, L, "What the audience segment stands for"),
    _dim("behavior_segment_id", INTEGER, L, "Audience segment id"),
    _dim("behavior_segment_name", STRING, L, "Audience segment name"),
    _dim("browser_family", STRING, L, "Browser name"),
    _dim("campaign", STRING, L, "Ad server campaign name"),
    _dim("campaign_id", LONG, L, "Ad server campaign id"),
    _dim("campaign_type", STRING, L, "display or search"),
    _dim("city", STRING, H, "City of the event"),
    _met("clicks", LONG, N, "All clicks the ad server measured"),
    _met("clicks_default_ad", LONG, N, "Clicks on a default ad"),
    _met("clicks_hard_stop", LONG, N, "Clicks after the placement's stop condition was reached"),
    _met("clicks_no_script", LONG, N, "Clicks on ads served without JavaScript"),
    _met("clicks_sivt", LONG, N, "Clicks flagged as sophisticated invalid traffic"),
    _met("clicks_ssai", LONG, N, "Clicks on ads inserted server side"),
    _dim("cost_model_type", STRING, L, "Placement cost model (CPM, CPC, ...)"),
    _dim("cost_per_unit", STRING, L, "Placement cost per billable unit"),
    _dim("device_brand", STRING, L, "Mobile device brand"),
    _dim("device_model", STRING, L, "Device model"),
    _dim("device_type", STRING, L, "Device type"),
    _dim("dma_code", STRING, L, "Designated market area"),
    _dim("environment", STRING, L, "in-app, web or unknown"),
    _met("impressions", LONG, N, "Impressions served, general invalid traffic excluded"),
    _met("impressions_default_ad", LONG, N, "Impressions of a default ad"),
    _met("impressions_hard_stop", LONG, N, "Impressions after the stop condition was reached"),
    _met("impressions_no_script", LONG, N, "Impressions served without JavaScript"),
    _met("impressions_sivt", LONG, N, "Impressions flagged as sophisticated invalid traffic"),
    _met("impressions_ssai", LONG, N, "Impressions inserted server side"),
    _dim("is_dco_ad", BOOLEAN, N, "True for a dynamic creative optimisation ad"),
    _dim("iso_country_code", STRING, L, "Country of the event"),
    _dim("iso_state_province_code", STRING, L, "State or province of the event"),
    _met("measurable_impressions", LONG, N, "Impressions of campaigns measuring viewability"),
    _dim("operating_system", STRING, L, "Operating system"),
    _dim("ordered_units", LONG, L, "Units ordered from the publisher"),
    _dim("package", STRING, L, "Package (placements sharing dates and costs) name"),
    _dim("package_id", LONG, L, "Package id"),
    _dim("placement", STRING, L, "Placement name"),
    _dim("placement_dimensions", STRING, L, "Placement size in pixels"),
    _dim("placement_id", LONG, L, "Placement id"),
    _dim("placement_type", STRING, L, "Placement type"),
    _dim("postal_code", STRING, H, "Postal code of the event"),
    _met("recordable_impressions", LONG, N, "Measurable impressions viewability was recorded for"),
    _dim("request_tag", STRING, V, "Request tag joining the event to its DSP impression"),
    _dim("search_account_id", LONG, L, "Advertiser's account id on the search platform"),
    _dim("search_ad", STRING, L, "Search ad title"),
    _dim("search_ad_click_through_url", STRING, L, "URL the search ad leads to"),
    _dim("search_ad_display_url", STRING, L, "URL the search ad shows"),
    _dim("search_ad_group", STRING, L, "Search ad group name"),
    _dim("search_ad_group_id", LONG, L, "Search ad group id"),
    _dim("search_ad_id", LONG, L, "Search ad id"),
    _dim("search_ad_text", STRING, L, "Search ad text"),
    _dim("search_campaign_id", LONG, L, "Search campaign id"),
    _dim("search_campaign_type", STRING, L, "Search campaign type"),
    _met("search_clicks", LONG, N, "Search clicks tracked through a search integration"),
    _dim("search_integration", STRING, L, "Direct or SEM integration"),
    _dim("search_keyword_id", LONG, L, "Search keyword id"),
    _dim("search_keyword_text", STRING, L, "Search keyword"),
    _dim("search_keyword_type", STRING, L, "Kind of search target (keyword, product, ...)"),
    _dim("search_match_type", STRING, L, "BROAD, EXACT or PHRASE"),
    _dim("search_vendor", STRING, L, "Search provider"),
    _dim("section", STRING, L, "Site section name"),
    _dim("section_id", LONG, L, "Site section id"),
    _dim("smart_items_list", STRING, L, "Dynamic elements of the ad version"),
    _dim("target_audience_id", LONG, L, "Target audience id"),
    _dim("target_audience_name", STRING, L, "Target audience name"),
    _USER_ID,
    _dim("version_id", LONG, L, "Dynamic ad version id"),
    _dim("version_name", STRING, L, "Dynamic ad version name"),
    _dim("vertical", STRING, L, "Advertiser's industry"),
    _met("video_full_screen_duration", LONG, N, "Seconds the video played full screen"),
    _met("video_full_screen_ended", LONG, N, "Videos played to the end full screen"),
    _met("video_full_screen_muted", LONG, N, "Mutes while full screen"),
    _met("video_full_screen_paused", LONG, N, "Pauses while full screen"),
    _met("video_full_screen_started", LONG, N, "Videos started full screen"),
    _met("video_muted", LONG, N, "Mutes"),
    _met("video_paused", LONG, N, "Pauses"),
    _met("video_percentage_complete", LONG, N, "Average share of the video watched, in percent"),
    _met("video_played_100pc", LONG, N, "Videos played to the end"),
    _met("video_played_100pc_viewable", LONG, N, "Videos played to the end while viewable"),
    _met("video_played_25pc", LONG, N, "Videos played to 25%"),
    _met("video_played_25pc_viewable", LONG, N, "Videos played to 25% while viewable"),
    _met("video_played_50pc", LONG, N, "Videos played to 50%"),
    _met("video_played_50pc_viewable", LONG, N, "Videos played to 50% while viewable"),
    _met("video_played_75pc", LONG, N, "Videos played to 75%"),
    _met("video_played_75pc_viewable", LONG, N, "Videos played to 75% while viewable"),
    _met("video_played_duration", LONG, N, "Seconds of video played"),
    _met("video_played_with_sound", LONG, N, "Videos played with sound"),
    _met("video_replayed", LONG, N, "Replays"),
    _met("video_skipped", LONG, N, "Skips"),
    _met("video_started", LONG, N, "Video starts"),
    _met("video_unmuted", LONG, N, "Unmutes"),
    _met("viewable_impressions", LONG, N, "Viewable impressions (IAB standard)"),
)
_ADSERVER_SEGMENTS = [n for n in _ADSERVER if n.startswith("behavior_segment_")]

_ADSERVER_TRAFFIC = Table(
    name="adserver_traffic",
    provenance=_page("adserver_traffic"),
    description="Impressions, clicks and interactions measured by Amazon Ad Server (sunset by "
    "Amazon in Q4 2024), one row per event.",
    window_column="event_dt_utc",
    columns=_pick(_ADSERVER, [n for n in _ADSERVER if n not in _ADSERVER_SEGMENTS]),
)

_ADSERVER_BY_USER_SEGMENTS = Table(
    name="adserver_traffic_by_user_segments",
    provenance=_page("adserver_traffic_user_segments", "adserver_traffic"),
    description="Amazon Ad Server traffic, one row per event and audience segment of its user.",
    window_column="event_dt_utc",
    columns=_pick(_ADSERVER, _ADSERVER),
)

TABLES: tuple[Table, ...] = (
    _DSP_IMPRESSIONS,
    _DSP_CLICKS,
    _SPONSORED_ADS_TRAFFIC,
    _DSP_VIEWS,
    _BY_MATCHED_SEGMENTS,
    _BY_USER_SEGMENTS,
    _VIDEO_EVENTS,
    _ADSERVER_TRAFFIC,
    _ADSERVER_BY_USER_SEGMENTS,
)
