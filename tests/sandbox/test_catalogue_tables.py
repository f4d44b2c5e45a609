"""Every catalogued table in the sandbox (issue 9): the modelled tables keep their rows, the
others get synthetic rows of the same population, snapshots follow their cadence, each table
keeps its retention, paid tables need their subscription, and AMC's privacy rules hold."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from amc_manager.catalogue import (
    CATALOGUE,
    Cadence,
    Column,
    ColumnRole,
    DataType,
    Provenance,
    Table,
    ThresholdClass,
)
from amc_manager.sandbox.config import SandboxConfigError, load_config
from amc_manager.sandbox.data import DataConfig, SyntheticData
from amc_manager.sandbox.embedded import EmbeddedSandbox
from amc_manager.sandbox.identity import build_account
from amc_manager.sandbox.synthetic import periodic, snapshot_days
from amc_manager.sandbox.tables import USER_KEY_COLUMN
from amc_manager.sql import lint, schema_for_sandbox
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api
from tests.windows import amc_window

NOW = datetime(2026, 11, 26, 12)
AVAILABLE = datetime(2026, 11, 24, 12)  # NOW - 48 h
DAYS = (datetime(2026, 10, 3), datetime(2026, 10, 6))
AMC = str(Path(sys.executable).with_name("amc"))
PAID = {"paid_features": True}
WAIT_SECONDS = 120
NUMBERS = (DataType.LONG, DataType.INTEGER, DataType.DOUBLE, DataType.DECIMAL)

# Rows and a digest of the six modelled tables' columns over three days of the default seed,
# as they were before the catalogue grew: scripts and tests rely on these rows never changing.
PINNED: dict[str, tuple[int, str, str]] = {
    "amazon_attributed_events_by_conversion_time": (
        1000,
        "3894bf92bdfd41dacb13a067",
        "ad_product_type advertiser advertiser_id campaign campaign_id clicks "
        "conversion_event_category conversion_event_date_utc conversion_event_dt_utc "
        "conversion_event_subtype conversions impressions new_to_brand product_sales purchases "
        "total_product_sales total_purchases total_units_sold tracked_asin tracked_item "
        "traffic_event_dt_utc traffic_event_type units_sold user_id",
    ),
    "amazon_attributed_events_by_traffic_time": (
        1023,
        "ccd76ef67fdb585282c6afac",
        "ad_product_type advertiser advertiser_id campaign campaign_id clicks "
        "conversion_event_category conversion_event_date_utc conversion_event_dt_utc "
        "conversion_event_subtype conversions impressions new_to_brand product_sales purchases "
        "total_product_sales total_purchases total_units_sold tracked_asin tracked_item "
        "traffic_event_dt_utc traffic_event_type units_sold user_id",
    ),
    "conversions": (
        5443,
        "208cecd375323f33d8e40120",
        "advertiser conversion_event_name conversion_id conversions event_category "
        "event_date_utc event_dt_utc event_subtype event_type new_to_brand total_product_sales "
        "total_units_sold tracked_asin user_id",
    ),
    "dsp_clicks": (
        963,
        "d797031a0facf7680f17e4aa",
        "advertiser advertiser_id advertiser_timezone campaign campaign_id campaign_id_string "
        "city_name click_cost click_date_utc click_dt click_dt_utc clicks creative creative_id "
        "creative_type device_id device_type dma_code impression_dt iso_country_code "
        "iso_state_province_code line_item line_item_id operating_system postal_code "
        "request_tag supply_source user_id",
    ),
    "dsp_impressions": (
        120142,
        "ab2e7312fe387859815d5ba6",
        "advertiser advertiser_id advertiser_timezone bid_price campaign campaign_id "
        "campaign_id_string city_name creative creative_id creative_type device_id device_type "
        "dma_code impression_cost impression_date_utc impression_dt impression_dt_utc "
        "impressions iso_country_code iso_state_province_code line_item line_item_id "
        "operating_system postal_code request_tag supply_source total_cost user_id",
    ),
    "sponsored_ads_traffic": (
        90440,
        "b8369f267d21221baa0f07f4",
        "ad_group ad_product_type advertiser campaign campaign_id clicks customer_search_term "
        "device_type event_date_utc event_dt_utc event_id impressions match_type placement_type "
        "spend targeting user_id viewable_impressions",
    ),
}


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return SyntheticData()


def read(data: SyntheticData, table: str, **kwargs: Any) -> pa.Table:
    start, end = kwargs.pop("span", DAYS)
    return data.window(table, start, end, now=kwargs.pop("now", NOW), **kwargs)


def digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:24]


def daily_tables() -> list[Table]:
    """Tables with rows every day (not snapshots, not weekly or monthly batches)."""
    return [t for t in CATALOGUE if not periodic(t)]


def is_metric(column: Column) -> bool:
    numeric = column.data_type in NUMBERS and not column.array
    return numeric and (column.role is ColumnRole.METRIC or column.threshold is ThresholdClass.NONE)


def aggregate_sql(table: Table) -> str:
    """A metric aggregated by a LOW column (text preferred) of `table`."""
    low = [c for c in table.columns if c.threshold is ThresholdClass.LOW and not c.array]
    low.sort(key=lambda c: c.data_type is not DataType.STRING)
    metric = next((c for c in table.columns if is_metric(c)), None)
    total = f"SUM({metric.name})" if metric else "COUNT(1)"
    return f"SELECT {low[0].name}, {total} AS total, COUNT(1) AS n FROM {table.name} GROUP BY 1"


# --- the modelled tables ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PINNED))
def test_modelled_tables_keep_their_rows(data: SyntheticData, name: str) -> None:
    rows, expected, columns = PINNED[name]
    table = read(data, name, columns=columns.split())
    assert (table.num_rows, digest(table)) == (rows, expected)
    # reading every column builds the same values for these
    assert read(data, name).select(columns.split()).equals(table.drop([USER_KEY_COLUMN]))


def test_the_default_seeds_account_is_unchanged() -> None:
    config = make_config()
    default = build_account(config.seed, config.instances)
    assert default.account_id == "ENTITYT3WOO7I1LDBDB"
    assert [i.instance_id for i in default.instances] == ["amc515g6p1w", "amca1wv2oep"]


def test_new_columns_of_shared_rows_agree(data: SyntheticData) -> None:
    """The two attributed-events tables hold the same rows; their derived columns agree."""
    spec = CATALOGUE.table("amazon_attributed_events_by_conversion_time")
    assert spec is not None
    derived = [c for c in spec.column_names if c not in PINNED[spec.name][2].split()]
    if not derived:
        pytest.skip("the catalogue adds no column to the attributed-events tables yet")
    names = ["user_id", "conversion_event_dt_utc", "tracked_asin", *derived[:12]]
    wide = (DAYS[0] - timedelta(days=15), DAYS[1])
    by_conversion = read(data, spec.name, columns=names).drop([USER_KEY_COLUMN])
    by_traffic = read(data, "amazon_attributed_events_by_traffic_time", columns=names, span=wide)
    mine = set(zip(*(by_conversion.column(n).to_pylist() for n in names), strict=True))
    theirs = set(zip(*(by_traffic.column(n).to_pylist() for n in names), strict=True))
    assert mine and mine <= theirs


# --- the other tables: the population's users, entities and times ---------------------------


def population(data: SyntheticData) -> dict[str, set[Any]]:
    """Values of the population's entities, which every table must draw from."""
    e = data.world.entities
    return {
        "advertiser": set(e.advertisers.name.to_pylist()),
        "advertiser_id": set(e.advertisers.id.tolist()),
        "campaign": set(e.campaigns.name.to_pylist()),
        "campaign_id": set(e.campaigns.id.tolist()),
        "line_item_id": set(e.line_items.id.tolist()),
        "tracked_asin": set(e.asins.code.to_pylist()),
        "asin": set(e.asins.code.to_pylist()),
        "segment_id": set(e.segments.id.tolist()),
    }


@pytest.mark.parametrize("table", daily_tables(), ids=lambda t: t.name)
def test_generated_rows_belong_to_the_population(data: SyntheticData, table: Table) -> None:
    known = population(data)
    rows = read(data, table.name)
    assert rows.num_rows > 0
    users = data.users_frame()
    if "user_id" in rows.schema.names:
        keys = rows.column(USER_KEY_COLUMN).to_numpy()
        ids = users.column("user_id").to_numpy(zero_copy_only=False)
        assert (rows.column("user_id").to_numpy(zero_copy_only=False) == ids[keys]).all()
    for name, values in known.items():
        if name in rows.schema.names and table.column(name) is not None:
            seen = set(rows.column(name).to_pylist()) - {None}
            assert seen <= values, (name, seen - values)
            # every row has an advertiser and campaign; DSP entities only DSP traffic
            assert seen or name not in ("advertiser", "campaign"), name
    window_column = table.window_column
    if window_column and table.column(window_column).data_type is DataType.TIMESTAMP:  # type: ignore[union-attr]
        times = rows.column(window_column).to_numpy()
        assert (times >= np.datetime64(DAYS[0])).all() and (times < np.datetime64(DAYS[1])).all()


def test_dsp_tables_show_dsp_campaigns_to_dsp_users(data: SyntheticData) -> None:
    rows = read(data, "dsp_views", columns=["campaign", "line_item"])
    campaigns = {str(c) for c in rows.column("campaign").to_pylist()}
    assert campaigns and all(c.endswith(" DSP") for c in campaigns)
    assert rows.column("line_item").null_count == 0
    reachable = data.users_frame().column("dsp_reachable").to_numpy()
    assert reachable[rows.column(USER_KEY_COLUMN).to_numpy()].all()


def test_values_follow_their_column(data: SyntheticData) -> None:
    purchases = read(data, "amazon_retail_purchases", span=(DAYS[0], DAYS[0] + timedelta(days=1)))
    row = purchases.to_pylist()
    assert {r["purchase_date_utc"] for r in row} == {DAYS[0].date()}
    for r in row:
        moment = r["purchase_dt_utc"]
        assert r["purchase_dt_hour_utc"] == moment.replace(minute=0, second=0)
        assert (r["purchase_hour_utc"], r["purchase_day_utc"], r["purchase_month_utc"]) == (
            moment.hour,
            moment.day,
            moment.month,
        )
    brands = {(r["asin"], r["asin_brand"]) for r in row}
    assert len(brands) == len({a for a, _ in brands})  # each ASIN has one brand
    assert len({r["purchase_id"] for r in row}) == len(row)  # VERY_HIGH ids are unique


def test_array_columns_hold_lists(data: SyntheticData) -> None:
    arrays = [(t, c) for t in daily_tables() for c in t.columns if c.array]
    if not arrays:
        pytest.skip("no array column catalogued yet")
    table, column = arrays[0]
    values = read(data, table.name, columns=[column.name]).column(column.name)
    assert pa.types.is_list(values.type)
    lengths = {len(v or ()) for v in values.to_pylist()}
    assert lengths <= {0, 1, 2, 3} and len(lengths) > 1


def test_reading_some_columns_reads_the_same_rows(data: SyntheticData) -> None:
    full = read(data, "conversions_with_relevance")
    names = ["advertiser", "event_dt_utc", "user_id"]
    assert read(data, "conversions_with_relevance", columns=names).equals(
        full.select([*names, USER_KEY_COLUMN])
    )


def test_generated_rows_are_deterministic(data: SyntheticData) -> None:
    mine = read(data, "dsp_views")
    assert read(SyntheticData(), "dsp_views").equals(mine)
    assert not read(SyntheticData(DataConfig(seed=7)), "dsp_views").equals(mine)


# --- snapshots and retention -----------------------------------------------------------------


def test_segment_metadata_lists_each_segment_whatever_the_window(data: SyntheticData) -> None:
    now = read(data, "segment_metadata")
    long_ago = read(data, "segment_metadata", span=(datetime(2020, 1, 1), datetime(2020, 1, 2)))
    assert now.num_rows == long_ago.num_rows > 10
    assert now.equals(long_ago)
    assert now.column(USER_KEY_COLUMN).null_count == now.num_rows  # nobody's data
    assert len(set(now.column("segment_id").to_pylist())) == now.num_rows


def test_segment_membership_is_the_latest_snapshot(data: SyntheticData) -> None:
    table = read(data, "audience_segments_amer_inmarket")
    assert set(table.column("snapshot_datetime").to_pylist()) == {date(2026, 11, 24)}
    metadata = read(data, "segment_metadata").to_pylist()
    in_market = {r["segment_id"] for r in metadata if r["category_level_1"] == "In-market"}
    assert set(table.column("segment_id").to_pylist()) <= in_market
    tomorrow = read(data, "audience_segments_amer_inmarket", now=NOW + timedelta(days=1))
    pairs = set(zip(table["user_id"].to_pylist(), table["segment_id"].to_pylist(), strict=True))
    later = set(
        zip(tomorrow["user_id"].to_pylist(), tomorrow["segment_id"].to_pylist(), strict=True)
    )
    assert 0.8 < len(pairs & later) / len(pairs) < 1  # memberships mostly carry over


def test_snapshot_days_follow_the_refresh() -> None:
    october = (date(2026, 10, 1).toordinal(), date(2026, 11, 30).toordinal())
    thursdays = [date.fromordinal(d) for d in snapshot_days("monthly (first Thursday)", *october)]
    assert thursdays == [date(2026, 10, 1), date(2026, 11, 5)]
    firsts = [date.fromordinal(d) for d in snapshot_days("monthly", *october)]
    assert firsts == [date(2026, 10, 1), date(2026, 11, 1)]
    weekly = [date.fromordinal(d) for d in snapshot_days("weekly", *october)]
    assert len(weekly) == 9 and all(d.weekday() == 0 for d in weekly)
    assert len(snapshot_days("daily", *october)) == 61


def test_a_windowed_snapshot_table_answers_the_snapshots_in_the_window() -> None:
    historical = Table(
        name="segment_history_snapshot",
        description="test table: monthly snapshots selected by their date",
        columns=(
            Column("segment_id", DataType.INTEGER, ThresholdClass.LOW),
            Column("user_id", DataType.STRING, ThresholdClass.VERY_HIGH),
            Column("snapshot_datetime", DataType.DATE, ThresholdClass.LOW),
        ),
        provenance=Provenance("test", ""),
        window_column="snapshot_datetime",
        cadence=Cadence.SNAPSHOT,
        refresh="monthly, first Thursday",
    )
    data = SyntheticData(catalogue=CATALOGUE.with_tables([historical]))
    rows = read(data, historical.name, span=(datetime(2026, 9, 1), datetime(2026, 11, 1)))
    assert set(rows.column("snapshot_datetime").to_pylist()) == {
        date(2026, 9, 3),
        date(2026, 10, 1),
    }
    none = read(data, historical.name, span=(datetime(2026, 10, 2), datetime(2026, 11, 5)))
    assert none.num_rows == 0


def test_batches_come_on_their_days(data: SyntheticData) -> None:
    """AMC's monthly segment snapshots on each month's first Thursday; NC Solutions' weekly
    purchase batches on the Saturday ending each week."""
    span = (datetime(2026, 9, 1), datetime(2026, 11, 1))
    found: dict[str, set[date]] = {}
    for name in ("audience_segments_amer_inmarket_snapshot", "ncs_cpg_insights_stream"):
        spec = CATALOGUE.table(name)
        assert spec is not None and spec.window_column is not None and periodic(spec)
        stamps = read(data, name, span=span).column(spec.window_column).to_pylist()
        found[name] = {d for d in stamps if isinstance(d, date)}
    assert found["audience_segments_amer_inmarket_snapshot"] == {
        date(2026, 9, 3),
        date(2026, 10, 1),
    }
    saturdays = found["ncs_cpg_insights_stream"]
    assert len(saturdays) == 9 and {d.weekday() for d in saturdays} == {5}


def test_rows_stand_for_users_even_without_a_user_id_column() -> None:
    """An extra table without user_id still has a user per row, so thresholds apply to it;
    only a table listing segments has rows of nobody."""
    counts = Table(
        name="store_visits",
        description="test table without user_id",
        columns=(
            Column("visit_dt", DataType.TIMESTAMP, ThresholdClass.MEDIUM),
            Column("store", DataType.STRING, ThresholdClass.LOW),
        ),
        provenance=Provenance("test", ""),
        window_column="visit_dt",
    )
    data = SyntheticData(catalogue=CATALOGUE.with_tables([counts]))
    rows = read(data, counts.name)
    assert rows.num_rows > 0 and rows.column(USER_KEY_COLUMN).null_count == 0


def test_each_table_keeps_its_retention(data: SyntheticData) -> None:
    span = (datetime(2025, 3, 1), datetime(2025, 3, 2))  # 20 months back
    retail = CATALOGUE.table("amazon_retail_purchases")
    assert retail is not None and retail.retention_months == 60
    assert read(data, "amazon_retail_purchases", span=span).num_rows > 0
    assert read(data, "dsp_views", span=span).num_rows == 0
    assert read(data, "dsp_impressions", span=span).num_rows == 0


# --- paid features ---------------------------------------------------------------------------


def paid_names() -> set[str]:
    return {t.name for t in CATALOGUE if t.paid_feature is not None}


def test_paid_features_knob(tmp_path: Path) -> None:
    assert make_config().paid_tables() == []
    assert {t.name for t in make_config(**PAID).paid_tables()} == paid_names()
    retail = make_config(paid_features=["amazon retail purchases"]).paid_tables()
    assert [t.name for t in retail] == ["amazon_retail_purchases"]
    by_table = make_config(paid_features=["CONVERSIONS_ALL"]).paid_tables()
    assert [t.name for t in by_table] == ["conversions_all"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"paid_features": ["Amazon Weather"]}))
    with pytest.raises(SandboxConfigError, match="paid_features: 'Amazon Weather' is neither"):
        load_config(path)


async def test_without_the_subscription_a_paid_table_is_absent(api: Api) -> None:
    listed = (await api.request("GET", f"{api.base}/dataSources")).json()["dataSources"]
    assert not {d["dataSourceId"] for d in listed} & paid_names()
    one = await api.request("GET", f"{api.base}/dataSources/amazon_retail_purchases")
    assert one.status_code == 404
    sql = "SELECT asin, SUM(purchase_units_sold) AS units\nFROM amazon_retail_purchases GROUP BY 1"
    refused = await api.create(sql)
    assert refused.status_code == 400
    assert "From line 2, column 6" in refused.json()["details"]
    assert "Object 'amazon_retail_purchases' not found" in refused.json()["details"]


async def test_a_subscription_lists_exactly_its_tables(tmp_path: Path) -> None:
    config = make_config(paid_features=["Amazon Retail Purchases"])
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        listed = (await api.request("GET", f"{api.base}/dataSources")).json()["dataSources"]
        names = [d["dataSourceId"] for d in listed]
        free = [t.name for t in CATALOGUE if t.paid_feature is None]
        assert sorted(names) == sorted([*free, "amazon_retail_purchases"])
        start, end = amc_window(2)
        _, rows = await api.run(
            "SELECT asin_brand, SUM(purchase_units_sold) AS units FROM amazon_retail_purchases "
            "GROUP BY 1",
            start=start,
            end=end,
        )
        assert len(rows) > 1
        other = await api.create("SELECT COUNT(1) AS n FROM conversions_all")
        assert other.status_code == 400


def test_the_linter_knows_what_the_sandbox_serves() -> None:
    sql = "SELECT asin, COUNT(1) AS n\nFROM amazon_retail_purchases\nGROUP BY 1"
    without = [(p.line, p.column, p.message) for p in lint(sql, schema=schema_for_sandbox())]
    assert without == [(2, 6, "unknown table 'amazon_retail_purchases'")]
    with_paid = schema_for_sandbox(make_config(**PAID).extra_data_sources())
    assert lint(sql, schema=with_paid) == []
    assert set(with_paid.table_names) == set(CATALOGUE.names)


# --- AMC's privacy rules on every table ------------------------------------------------------


def very_high_cases() -> list[tuple[Table, Column]]:
    cases = []
    for table in CATALOGUE:
        found = next((c for c in table.columns if c.threshold is ThresholdClass.VERY_HIGH), None)
        if found is not None:
            cases.append((table, found))
    return cases


@pytest.mark.parametrize(("table", "column"), very_high_cases(), ids=lambda x: x.name)
def test_a_very_high_column_in_the_output_is_refused_offline(table: Table, column: Column) -> None:
    schema = schema_for_sandbox(make_config(**PAID).extra_data_sources())
    sql = f"SELECT {column.name}, COUNT(1) AS n\nFROM {table.name}\nGROUP BY 1"
    problems = [(p.line, p.column, p.message) for p in lint(sql, schema=schema) if p.is_error]
    expected = f"column '{column.name}' has aggregation threshold VERY_HIGH"
    assert [(1, 8)] == [(line, col) for line, col, message in problems if expected in message]


def test_amc_validate_refuses_a_very_high_column(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps(PAID))
    query = tmp_path / "q.sql"
    query.write_text("SELECT asin,\n  purchase_session_id, COUNT(1) AS n\n"
                     "FROM amazon_retail_purchases GROUP BY 1, 2\n")  # fmt: skip
    env = {
        **os.environ,
        "AMC_HOME": str(tmp_path / "home"),
        "AMC_USE_REAL_API": "false",
        "AMC_SANDBOX_CONFIG": str(config),
    }
    done = subprocess.run(
        [AMC, "validate", str(query)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"{query}:2:3: error: column 'purchase_session_id' has aggregation threshold VERY_HIGH "
        "and cannot be in the output"
    )


# --- queries in one sandbox with every paid feature ------------------------------------------


@dataclass
class Outcome:
    status_code: int
    details: str = ""
    execution: dict[str, Any] = field(default_factory=dict)
    rows: list[list[str]] = field(default_factory=list)


JOIN = (
    "WITH viewers AS (SELECT user_id FROM dsp_views GROUP BY 1),\n"
    "buyers AS (SELECT user_id, advertiser FROM conversions_with_relevance GROUP BY 1, 2)\n"
    "SELECT b.advertiser, COUNT(DISTINCT v.user_id) AS users\n"
    "FROM viewers v JOIN buyers b ON v.user_id = b.user_id GROUP BY 1"
)
SEGMENTS = (
    "SELECT m.category_level_2, COUNT(DISTINCT s.user_id) AS members\n"
    "FROM audience_segments_amer_inmarket s JOIN segment_metadata m\n"
    "ON s.segment_id = m.segment_id AND s.segment_marketplace_id = m.segment_marketplace_id\n"
    "GROUP BY 1"
)
METADATA = "SELECT category_level_1, COUNT(1) AS segments FROM segment_metadata GROUP BY 1"


def queries() -> dict[str, str]:
    found = {t.name: aggregate_sql(t) for t in daily_tables()}
    found.update(join=JOIN, segments=SEGMENTS, metadata=METADATA)
    return found


async def run_one(api: Api, sql: str, start: str, end: str) -> Outcome:
    created = await api.create(sql, start=start, end=end)
    if created.status_code != 200:
        return Outcome(created.status_code, str(created.json().get("details")))
    final = await api.wait(created.json()["workflowExecutionId"], timeout=WAIT_SECONDS)
    rows = await api.rows(final["workflowExecutionId"]) if final["status"] == "SUCCEEDED" else []
    return Outcome(200, execution=final, rows=rows)


async def run_all(state_dir: Path) -> dict[str, Outcome | BaseException]:
    start, end = amc_window(7)
    jobs = queries()
    async with EmbeddedSandbox(make_config(**PAID), state_dir) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        results = await asyncio.gather(
            *(run_one(api, sql, start, end) for sql in jobs.values()), return_exceptions=True
        )
    return dict(zip(jobs, results, strict=True))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome | BaseException]:
    return asyncio.run(run_all(tmp_path_factory.mktemp("catalogue") / "state"))


def rows_of(outcomes: dict[str, Outcome | BaseException], name: str) -> list[list[str]]:
    outcome = outcomes[name]
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome.status_code == 200, outcome.details
    assert outcome.execution["status"] == "SUCCEEDED", outcome.execution.get("statusReason")
    header, *data = outcome.rows
    return data


@pytest.mark.parametrize("table", daily_tables(), ids=lambda t: t.name)
def test_a_metric_by_a_low_column_over_a_week_has_rows(
    outcomes: dict[str, Outcome | BaseException], table: Table
) -> None:
    data = rows_of(outcomes, table.name)
    assert data, f"no rows for {aggregate_sql(table)}"
    assert all(int(n) >= 1 for *_, n in data)


def test_two_user_level_tables_join_on_user_id(
    outcomes: dict[str, Outcome | BaseException],
) -> None:
    data = rows_of(outcomes, "join")
    users = {advertiser: int(count) for advertiser, count in data}
    assert users and all(n >= 2 for n in users.values())  # LOW: at least 2 users a row
    assert sum(users.values()) >= 100


def test_segments_join_their_metadata(outcomes: dict[str, Outcome | BaseException]) -> None:
    data = rows_of(outcomes, "segments")
    assert len(data) >= 3 and all(int(n) >= 2 for _, n in data)


def test_a_table_without_users_is_not_thresholded(
    outcomes: dict[str, Outcome | BaseException],
) -> None:
    data = rows_of(outcomes, "metadata")
    assert sorted(kind for kind, _ in data) == ["In-market", "Lifestyle"]


async def test_a_result_with_an_array_column_succeeds(tmp_path: Path) -> None:
    """Nested values are written as JSON text; producing a result never leaves a run RUNNING."""
    async with EmbeddedSandbox(make_config(), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        start, end = amc_window(2)
        status, rows = await api.run(
            "SELECT advertiser_account_frequency_group_ids AS groups, "
            "COUNT(DISTINCT user_id) AS users FROM dsp_views GROUP BY 1",
            start=start,
            end=end,
        )
        assert status["status"] == "SUCCEEDED", status
        assert rows[0] == ["groups", "users"]
        assert len(rows) > 1 and all(isinstance(json.loads(r[0]), list) for r in rows[1:] if r[0])
