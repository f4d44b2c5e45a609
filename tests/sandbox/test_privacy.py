"""Aggregation thresholds of the sandbox engine: user lineage, removal, folding, extra columns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from amc_manager.sandbox.data import SyntheticData
from amc_manager.sandbox.query import PrivacyOptions, compile_query, run_query
from tests.rows import assert_same_rows
from tests.sandbox.engine_helpers import FakeData, request, rows

T0 = datetime(2024, 3, 1, 9)


def impressions(
    campaign: str, postal: str | None, users: range, **extra: Any
) -> list[dict[str, Any]]:
    return [
        {"campaign": campaign, "postal_code": postal, "user_id": f"u{u}", "__user_key": u,
         "impressions": 1, "impression_dt": T0, **extra}
        for u in users
    ]  # fmt: skip


@pytest.fixture(scope="module")
def data() -> FakeData:
    return FakeData(
        dsp_impressions=[
            *impressions("Big", "10001", range(100)),  # exactly 100 users
            *impressions("Small", "20002", range(100, 199)),  # 99 users
            *impressions("Small", "20002", range(100, 110)),  # repeat visits: still 99
            *impressions("Tiny", "30003", range(500, 501)),  # one user
        ],
        dsp_clicks=[
            {"campaign": "Big", "user_id": f"u{u}", "__user_key": u, "clicks": 1, "click_dt": T0}
            for u in range(150)
        ],  # fmt: skip
    )


def by(result: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in result}


def test_group_with_99_users_is_removed_100_kept(data: FakeData) -> None:
    result = rows(
        data,
        "SELECT postal_code, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1",
    )
    assert result == [{"postal_code": "10001", "imps": 100}]


def test_low_columns_need_two_users(data: FakeData) -> None:
    result = rows(data, "SELECT campaign, COUNT(*) AS n FROM dsp_impressions GROUP BY 1")
    assert sorted(r["campaign"] for r in result) == ["Big", "Small"]


def test_metrics_only_rows_need_one_user(data: FakeData) -> None:
    result = rows(
        data,
        "SELECT COUNT(*) AS n FROM dsp_impressions WHERE campaign = 'Tiny'",
    )
    assert result == [{"n": 1}]


def test_threshold_through_cte(data: FakeData) -> None:
    result = rows(
        data,
        "WITH per_user AS (SELECT postal_code AS zip, user_id, COUNT(*) AS n "
        "FROM dsp_impressions GROUP BY 1, 2) "
        "SELECT zip, SUM(n) AS imps, COUNT(DISTINCT user_id) AS reach FROM per_user GROUP BY 1",
    )
    assert result == [{"zip": "10001", "imps": 100, "reach": 100}]


def test_threshold_through_join(data: FakeData) -> None:
    # Each impression row joins one click of the same user: the Big group keeps 100 users.
    result = rows(
        data,
        "SELECT i.postal_code, SUM(c.clicks) AS clicks FROM dsp_impressions i "
        "JOIN dsp_clicks c ON i.user_id = c.user_id GROUP BY 1",
    )
    assert result == [{"postal_code": "10001", "clicks": 100}]


def test_users_from_both_sides_of_a_join_count(data: FakeData) -> None:
    # Tiny's single impression user crossed with 150 clickers: the row stands for 151 users.
    result = rows(
        data,
        "WITH t AS (SELECT postal_code FROM dsp_impressions WHERE campaign = 'Tiny') "
        "SELECT t.postal_code, COUNT(*) AS n FROM t CROSS JOIN dsp_clicks GROUP BY 1",
    )
    assert result == [{"postal_code": "30003", "n": 150}]


def test_threshold_through_union_all(data: FakeData) -> None:
    result = rows(
        data,
        "WITH u AS (SELECT postal_code AS zip, user_id FROM dsp_impressions WHERE campaign = "
        "'Small' UNION ALL SELECT 'x' AS zip, user_id FROM dsp_clicks) "
        "SELECT zip, COUNT(*) AS n FROM u GROUP BY 1",
    )
    assert sorted(r["zip"] for r in result) == ["x"]


def test_reach_and_frequency_rows(data: FakeData) -> None:
    result = rows(
        data,
        "WITH f AS (SELECT user_id, COUNT(*) AS n FROM dsp_impressions GROUP BY user_id) "
        "SELECT n AS frequency, COUNT(DISTINCT user_id) AS users FROM f GROUP BY n",
    )
    assert by(result, "frequency") == {
        1: {"frequency": 1, "users": 190},
        2: {"frequency": 2, "users": 10},
    }


def test_hidden_grouping_key_keeps_its_threshold(data: FakeData) -> None:
    # One row per user: the rows say nothing but COUNT(*), yet each stands for one user.
    result = rows(data, "SELECT COUNT(*) AS n FROM dsp_impressions GROUP BY user_id")
    assert result == []


def test_null_tests_classify_users_without_their_threshold(data: FakeData) -> None:
    # Impressions reach users 0..198 and 500, clicks users 0..149. The exposure label is built
    # from IS NOT NULL tests only: it carries no threshold and may be compared with literals.
    overlap = (
        "WITH d AS (SELECT user_id FROM dsp_impressions GROUP BY 1), "
        "c AS (SELECT user_id FROM dsp_clicks GROUP BY 1), "
        "j AS (SELECT CASE WHEN d.user_id IS NOT NULL AND c.user_id IS NOT NULL THEN 'both' "
        "WHEN d.user_id IS NOT NULL THEN 'dsp only' ELSE 'clicks only' END AS exposure, "
        "COALESCE(d.user_id, c.user_id) AS uid FROM d FULL OUTER JOIN c ON d.user_id = c.user_id) "
        "SELECT exposure, COUNT(DISTINCT uid) AS users FROM j "
    )
    result = rows(data, overlap + "GROUP BY 1")
    assert_same_rows(
        result,
        [{"exposure": "both", "users": 150}, {"exposure": "dsp only", "users": 50}],
    )
    only = rows(data, overlap + "WHERE exposure = 'dsp only' GROUP BY 1")
    assert only == [{"exposure": "dsp only", "users": 50}]


@pytest.mark.parametrize(
    "path",
    [
        "LISTAGG(campaign, ' > ') WITHIN GROUP (ORDER BY impression_dt)",
        "ARRAY_JOIN(TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(impression_dt, campaign))), "
        "x -> x.campaign), ' > ')",
    ],
)
def test_paths_ordered_by_time_need_only_the_campaigns_threshold(data: FakeData, path: str) -> None:
    # The time only orders each user's campaigns, so a path row needs 2 users (campaign is
    # LOW), not the 100 a timestamp would need: as with ROW_NUMBER() OVER (ORDER BY time).
    result = rows(
        data,
        f"WITH p AS (SELECT user_id, {path} AS path FROM dsp_impressions GROUP BY user_id) "
        "SELECT path, COUNT(DISTINCT user_id) AS users FROM p GROUP BY 1",
    )
    assert by(result, "path") == {
        "Big": {"path": "Big", "users": 100},
        "Small": {"path": "Small", "users": 89},
        "Small > Small": {"path": "Small > Small", "users": 10},
    }


def test_discriminator_folds_filtered_rows(data: FakeData) -> None:
    options = PrivacyOptions(filtered_metrics_discriminator_column="filtered")
    table = compile_and_run(
        data,
        "SELECT campaign, postal_code, SUM(impressions) AS imps, "
        "COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY 1, 2",
        options,
    )
    assert table.column_names == ["campaign", "postal_code", "imps", "reach", "filtered"]
    assert table.schema.field("filtered").type == pa.bool_()
    assert table.schema.field("imps").type == pa.int64()
    assert_same_rows(table.to_pylist(), [
        {"campaign": "Big", "postal_code": "10001", "imps": 100, "reach": 100, "filtered": False},
        {"campaign": None, "postal_code": None, "imps": 110, "reach": 100, "filtered": True},
    ])  # fmt: skip


def test_remove_values_folds_without_discriminator(data: FakeData) -> None:
    options = PrivacyOptions(privacy_filtering_behavior="REMOVE_VALUES")
    table = compile_and_run(
        data,
        "SELECT postal_code, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1",
        options,
    )
    assert table.column_names == ["postal_code", "imps"]
    assert_same_rows(
        table.to_pylist(),
        [{"postal_code": "10001", "imps": 100}, {"postal_code": None, "imps": 110}],
    )


def test_folded_row_that_still_fails_is_removed(data: FakeData) -> None:
    # The folded row keeps a hidden per-timestamp grouping key worth 100 users; Tiny alone
    # has one user, so even folded it cannot be shown.
    options = PrivacyOptions(filtered_metrics_discriminator_column="filtered")
    table = compile_and_run(
        data,
        "SELECT postal_code, SUM(impressions) AS imps FROM dsp_impressions "
        "WHERE campaign = 'Tiny' GROUP BY postal_code, impression_dt",
        options,
    )
    assert table.num_rows == 0


def test_distinct_user_count_and_reason_columns(data: FakeData) -> None:
    options = PrivacyOptions(
        filtered_metrics_discriminator_column="filtered",
        distinct_user_count_column="du_count",
        filtered_reason_column="why",
    )
    table = compile_and_run(
        data,
        "SELECT campaign, postal_code, SUM(impressions) AS imps FROM dsp_impressions "
        "WHERE campaign <> 'Tiny' GROUP BY 1, 2",
        options,
    )
    assert table.column_names == [
        "campaign", "postal_code", "imps", "filtered", "du_count", "why"
    ]  # fmt: skip
    assert [f.type for f in table.schema][3:] == [pa.bool_(), pa.int64(), pa.string()]
    assert_same_rows(table.to_pylist(), [
        {"campaign": "Big", "postal_code": "10001", "imps": 100, "filtered": False,
         "du_count": 100, "why": None},
        {"campaign": None, "postal_code": None, "imps": 109, "filtered": True,
         "du_count": 2, "why": "99 'dsp_impressions' users < 100 required"},
    ])  # fmt: skip


def test_distinct_user_count_capped_at_two_for_low_rows(data: FakeData) -> None:
    options = PrivacyOptions(distinct_user_count_column="du")
    result = compile_and_run(
        data, "SELECT campaign, COUNT(*) AS n FROM dsp_impressions GROUP BY 1", options
    ).to_pylist()
    assert by(result, "campaign") == {
        "Big": {"campaign": "Big", "n": 100, "du": 2},
        "Small": {"campaign": "Small", "n": 109, "du": 2},
    }


def test_rows_without_user_data_are_kept_with_null_count(data: FakeData) -> None:
    options = PrivacyOptions(distinct_user_count_column="du")
    result = compile_and_run(
        data,
        "WITH v (label) AS (VALUES ('a'), ('b')) SELECT label, COUNT(*) AS n FROM v GROUP BY 1",
        options,
    ).to_pylist()
    assert_same_rows(
        result, [{"label": "a", "n": 1, "du": None}, {"label": "b", "n": 1, "du": None}]
    )


def test_disabled_controls_keep_every_row(data: FakeData) -> None:
    options = PrivacyOptions(disable_aggregation_controls=True, distinct_user_count_column="du")
    result = compile_and_run(
        data, "SELECT postal_code, COUNT(*) AS n FROM dsp_impressions GROUP BY 1", options
    ).to_pylist()
    assert sorted(r["postal_code"] for r in result) == ["10001", "20002", "30003"]


def compile_and_run(data: Any, sql: str, options: PrivacyOptions) -> pa.Table:
    compiled = compile_query(request(sql, privacy=options))
    return run_query(compiled, data, now=datetime(2024, 3, 10))


# --- against the synthetic data generator ---------------------------------------------------

NOW = datetime(2025, 6, 10, 12)


@pytest.fixture(scope="module")
def synthetic() -> SyntheticData:
    return SyntheticData()


def day_window() -> tuple[datetime, datetime]:
    end = SyntheticData.available_until(NOW).replace(hour=0)
    return end - timedelta(days=1), end


def synthetic_rows(data: SyntheticData, sql: str, **options: Any) -> list[dict[str, Any]]:
    start, end = day_window()
    compiled = compile_query(request(sql, start=start, end=end, privacy=PrivacyOptions(**options)))
    result: list[dict[str, Any]] = run_query(compiled, data, now=NOW).to_pylist()
    return result


def direct(data: SyntheticData, sql: str, **tables: str) -> list[tuple[Any, ...]]:
    """Run plain DuckDB SQL over the generator's windows, outside the engine."""
    start, end = day_window()
    conn = duckdb.connect()
    for alias, table in tables.items():
        conn.register(alias, data.window(table, start, end, now=NOW))
    result: list[tuple[Any, ...]] = conn.sql(sql).fetchall()
    return result


def test_synthetic_postal_codes_keep_exactly_groups_of_100_users(synthetic: SyntheticData) -> None:
    result = synthetic_rows(
        synthetic, "SELECT postal_code, COUNT(*) AS n FROM dsp_impressions GROUP BY 1"
    )
    expected = direct(
        synthetic,
        "SELECT postal_code, COUNT(*) FROM i GROUP BY 1 "
        "HAVING COUNT(DISTINCT __user_key) >= 100 OR postal_code IS NULL",
        i="dsp_impressions",
    )
    assert_same_rows([(r["postal_code"], r["n"]) for r in result], expected)
    everything = direct(synthetic, "SELECT COUNT(DISTINCT postal_code) FROM i", i="dsp_impressions")
    assert 0 < len(result) < everything[0][0]


def test_synthetic_hours_by_campaign(synthetic: SyntheticData) -> None:
    result = synthetic_rows(
        synthetic,
        "SELECT campaign, DATE_TRUNC('HOUR', impression_dt) AS hour, SUM(impressions) AS imps "
        "FROM dsp_impressions GROUP BY 1, 2",
    )
    expected = direct(
        synthetic,
        "SELECT campaign, date_trunc('hour', impression_dt), SUM(impressions) FROM i "
        "GROUP BY 1, 2 HAVING COUNT(DISTINCT __user_key) >= 100",
        i="dsp_impressions",
    )
    groups = direct(
        synthetic, "SELECT COUNT(*) FROM (SELECT DISTINCT campaign, date_trunc('hour', "
        "impression_dt) FROM i)", i="dsp_impressions"
    )  # fmt: skip
    assert_same_rows([(r["campaign"], r["hour"], r["imps"]) for r in result], expected)
    assert 0 < len(result) < groups[0][0]


def test_synthetic_threshold_through_cte_and_join(synthetic: SyntheticData) -> None:
    result = synthetic_rows(
        synthetic,
        "WITH clickers AS (SELECT user_id, SUM(clicks) AS clicks FROM dsp_clicks GROUP BY 1) "
        "SELECT i.device_type, i.operating_system, SUM(c.clicks) AS clicks, "
        "COUNT(DISTINCT i.user_id) AS reach "
        "FROM dsp_impressions i JOIN clickers c ON i.user_id = c.user_id GROUP BY 1, 2",
    )
    expected = direct(
        synthetic,
        "WITH clickers AS (SELECT user_id, SUM(clicks) AS clicks, list(__user_key) AS keys "
        "FROM c GROUP BY 1) "
        "SELECT i.device_type, i.operating_system, SUM(k.clicks), COUNT(DISTINCT i.user_id) "
        "FROM i JOIN clickers k ON i.user_id = k.user_id GROUP BY 1, 2 "
        "HAVING COUNT(DISTINCT i.__user_key) >= 2",
        i="dsp_impressions",
        c="dsp_clicks",
    )
    assert_same_rows([tuple(r.values()) for r in result], expected)
    assert result


def test_synthetic_discriminator_folds_the_rest_into_a_null_row(synthetic: SyntheticData) -> None:
    result = synthetic_rows(
        synthetic,
        "SELECT postal_code, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1",
        filtered_metrics_discriminator_column="filtered",
    )
    total = direct(synthetic, "SELECT SUM(impressions) FROM i", i="dsp_impressions")[0][0]
    folded = [r for r in result if r["filtered"]]
    assert len(folded) == 1 and folded[0]["postal_code"] is None
    assert sum(r["imps"] for r in result) == total
