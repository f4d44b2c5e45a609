"""Where Amazon's published spec and samples shaped the sandbox's answers: execution fields,
the workflow fields the spec defines, and the request fields that replay or restrict data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.sandbox.helpers import Api
from tests.windows import amc_window

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
BY_ADVERTISER = (
    "SELECT advertiser_id, SUM(impressions) AS impressions FROM dsp_impressions "
    "GROUP BY advertiser_id"
)
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


async def test_execution_carries_validation_run_and_output_columns(api: Api) -> None:
    created = (await api.create(SQL)).json()
    assert INSTANT.match(created["validatedTime"]) and "outputColumns" not in created
    assert "advertisers" not in created  # null unless the execution was restricted
    final, rows = await api.run(
        "SELECT campaign, SUM(impressions) AS impressions, SUM(total_cost) AS cost, "
        "COUNT(DISTINCT user_id) > 0 AS seen FROM dsp_impressions GROUP BY campaign"
    )
    assert INSTANT.match(final["executionTime"]) and final["executionTime"] >= final["createTime"]
    assert final["outputColumns"] == [
        {"name": "campaign", "dataType": "STRING"},
        {"name": "impressions", "dataType": "LONG"},
        {"name": "cost", "dataType": "DOUBLE"},
        {"name": "seen", "dataType": "BOOLEAN"},
    ]
    assert rows[0] == [c["name"] for c in final["outputColumns"]]
    sales, _ = await api.run(
        "SELECT campaign, SUM(product_sales) AS sales "
        "FROM amazon_attributed_events_by_traffic_time GROUP BY campaign"
    )
    assert sales["outputColumns"][1] == {
        "name": "sales",
        "dataType": "DECIMAL",
        "dataTypePrecision": 38,
        "dataTypeScale": 4,
    }


async def test_workflow_output_columns_are_checked(api: Api) -> None:
    path = f"{api.base}/workflows"
    declared = [
        {"name": "campaign", "dataType": "STRING", "columnType": "DIMENSION"},
        {"name": "impressions", "dataType": "LONG", "columnType": "METRIC"},
    ]
    ok = await api.request(
        "POST", path, json={"workflowId": "typed", "sqlQuery": SQL, "outputColumns": declared}
    )
    assert ok.status_code == 200, ok.text
    renamed = [declared[0], {"name": "n", "dataType": "LONG"}]
    refused = await api.request(
        "POST", path, json={"workflowId": "typed2", "sqlQuery": SQL, "outputColumns": renamed}
    )
    assert refused.status_code == 400
    assert refused.json()["details"].startswith("Was unable to compile workflow typed2")
    assert "outputColumns (campaign, n)" in refused.json()["details"]
    start, end = amc_window()
    saved = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={
            "workflowId": "typed",
            "timeWindowType": "EXPLICIT",
            "timeWindowStart": start,
            "timeWindowEnd": end,
        },
    )
    assert saved.json()["outputColumns"] == declared  # known from the definition
    assert (await api.wait(saved.json()["workflowExecutionId"]))["status"] == "SUCCEEDED"
    wrong_type = [declared[0], {"name": "impressions", "dataType": "STRING"}]
    typed = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={
            "workflow": {"sqlQuery": SQL, "outputColumns": wrong_type},
            "timeWindowType": "EXPLICIT",
            "timeWindowStart": start,
            "timeWindowEnd": end,
        },
    )
    final = await api.wait(typed.json()["workflowExecutionId"])
    assert final["status"] == "FAILED"
    assert "impressions is LONG, but outputColumns declares STRING" in final["statusReason"]


async def test_spec_fields_accepted_with_their_effect(api: Api) -> None:
    # inputSchema is accepted (the sandbox has one schema); `query` loses to sqlQuery
    final, _ = await api.run(SQL, workflow={"sqlQuery": SQL, "inputSchema": "", "query": ["eA=="]})
    assert final["status"] == "SUCCEEDED"
    start, end = amc_window()
    _, all_rows = await api.run(SQL, start=start, end=end)
    # maxCertifiedTime replays the data as it was then: 12 hours of the window were not in yet
    certified = (datetime.fromisoformat(end) + timedelta(hours=36)).isoformat()
    _, older = await api.run(SQL, start=start, end=end, maxCertifiedTime=certified)
    assert _total(older) < _total(all_rows)
    later = (datetime.fromisoformat(end) + timedelta(days=1)).isoformat()
    _, same = await api.run(SQL, start=start, end=end, maxDimensionTime=later)
    assert sorted(same) == sorted(all_rows)
    for fields, fragment in (
        ({"maxDimensionTime": start}, "cannot be earlier than the time window end"),
        ({"maxCertifiedTime": end + "Z"}, "Invalid maxCertifiedTime"),
        ({"advertisers": [{"id": "1", "type": "AGENCY"}]}, "Invalid advertiser type"),
        ({"advertisers": {"id": "1"}}, "advertisers must be a list"),
        ({"additionalAcrResultsReceivers": ["1"]}, "Clean Rooms"),
    ):
        refused = await api.create(SQL, start=start, end=end, **fields)
        assert refused.status_code == 400, fields
        assert fragment in refused.json()["details"], refused.json()


async def test_advertisers_restrict_the_data_read(api: Api) -> None:
    _, every = await api.run(BY_ADVERTISER)
    chosen = every[1][0]
    final, only = await api.run(
        BY_ADVERTISER, advertisers=[{"id": chosen, "type": "DISPLAY", "marketplaceId": None}]
    )
    assert [row[0] for row in only[1:]] == [chosen] and only[1] == every[1]
    assert final["advertisers"] == [{"id": chosen, "type": "DISPLAY", "marketplaceId": None}]
    _, none = await api.run(
        BY_ADVERTISER,
        advertisers=[
            {"id": "ENTITY1X1X1XX1X1117", "type": "SPONSORED_ADS", "marketplaceId": "ATVPDKIKX0DER"}
        ],
    )
    assert none == [every[0]]  # no DSP advertiser listed: no DSP rows


def _total(rows: list[list[str]]) -> int:
    return sum(int(r[1]) for r in rows[1:])
