"""Workflow executions: create rules, the execution object, listing, cancel, results."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from amc_manager.sandbox.embedded import EmbeddedSandbox
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api
from tests.windows import amc_window

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
EXECUTION_FIELDS = {
    "workflowExecutionId",
    "workflowId",
    "status",
    "createTime",
    "lastUpdatedTime",
    "expireTime",
    "waitUntil",
    "executionCategory",
    "timeWindowStart",
    "timeWindowEnd",
    "timeWindowStartOriginal",
    "timeWindowEndOriginal",
    "timeWindowTimeZoneOriginal",
    "parameterValues",
    "dataGaps",
    "ignoreDataGaps",
    "disableAggregationControls",
    "requireSyntheticData",
    "workflowExecutionTimeoutSeconds",
    "invalidationOffsetSecs",
    "outputS3URI",
    "outputChannels",
    "validatedTime",
}


async def test_adhoc_execution_lifecycle(api: Api) -> None:
    created = await api.create(SQL)
    assert created.status_code == 200
    body = created.json()
    assert EXECUTION_FIELDS <= set(body)
    assert body["status"] == "PENDING"
    assert body["workflowId"].startswith("transient_")
    assert body["workflowExecutionTimeoutSeconds"] == 21600
    assert body["createTime"].endswith("Z")
    final = await api.wait(body["workflowExecutionId"])
    assert final["status"] == "SUCCEEDED"
    rows = await api.rows(final["workflowExecutionId"])
    assert rows[0] == ["campaign", "impressions"]
    assert len(rows) > 2 and all(int(r[1]) > 0 for r in rows[1:])


async def test_time_zone_conversion_matches_amc_sample(api: Api) -> None:
    response = await api.create(
        SQL,
        start="2026-09-20T00:00:00",
        end="2026-09-30T00:00:00",
        timeWindowTimeZone="America/New_York",
    )
    body = response.json()
    assert body["timeWindowStart"] == "2026-09-20T04:00:00Z"
    assert body["timeWindowEnd"] == "2026-09-30T04:00:00Z"
    assert body["timeWindowStartOriginal"] == "2026-09-20T00:00:00"
    assert body["timeWindowTimeZoneOriginal"] == "America/New_York"


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"start": "2026-09-01T00:00:00Z", "end": "2026-09-02T00:00:00"}, "without a time zone"),
        ({"start": "2026-09-01T00:00:00+02:00", "end": "2026-09-02T00:00:00"}, "timeWindowStart"),
        ({"start": "2026-09-01T00:30:00", "end": "2026-09-02T00:00:00"}, "whole hour"),
        ({"start": "2026-09-02T00:00:00", "end": "2026-09-01T00:00:00"}, "must be after"),
        ({"start": "2026-09-01", "end": "2026-09-02T00:00:00"}, "Expected format"),
        ({"timeWindowTimeZone": "Mars/Olympus"}, "not a valid IANA time zone"),
        ({"timeWindowType": "LAST_YEAR", "end": None}, "Invalid timeWindowType"),
        ({"workflowExecutionTimeoutSeconds": 60}, "between 900 and 86400"),
        ({"disableAggregationControls": True}, "only allowed with requireSyntheticData"),
        ({"bogusField": 1}, "Unrecognized field 'bogusField'"),
        ({"dryRun": "maybe"}, "not a boolean"),
    ],
)
async def test_create_rejections(api: Api, fields: dict[str, Any], fragment: str) -> None:
    fields = dict(fields)
    if fields.get("end", "") is None:
        fields.pop("end")
        fields.pop("start", None)
        body = {"workflow": {"sqlQuery": SQL}, **fields}
        response = await api.request("POST", f"{api.base}/workflowExecutions", json=body)
    else:
        response = await api.create(SQL, **fields)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "details"} and body["code"] == "400"
    assert fragment in body["details"]


async def test_window_bounds_only_with_explicit(api: Api) -> None:
    start, end = amc_window()
    response = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={
            "workflow": {"sqlQuery": SQL},
            "timeWindowType": "MOST_RECENT_WEEK",
            "timeWindowStart": start,
            "timeWindowEnd": end,
        },
    )
    assert response.status_code == 400
    assert "only allowed with timeWindowType EXPLICIT" in response.json()["details"]
    response = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={
            "workflow": {"sqlQuery": SQL},
            "timeWindowType": "EXPLICIT",
            "timeWindowStart": start,
        },
    )
    assert response.status_code == 400
    assert "requires both" in response.json()["details"]


async def test_exactly_one_of_workflow_id_and_workflow(api: Api) -> None:
    for body in ({}, {"workflowId": "x", "workflow": {"sqlQuery": SQL}}):
        response = await api.request("POST", f"{api.base}/workflowExecutions", json=body)
        assert response.status_code == 400
        assert (
            response.json()["details"] == "Exactly one of workflowId or workflow must be provided."
        )


async def test_relative_window_in_time_zone(api: Api) -> None:
    response = await api.request(
        "POST",
        f"{api.base}/workflowExecutions",
        json={
            "workflow": {"sqlQuery": SQL},
            "timeWindowType": "MOST_RECENT_WEEK",
            "timeWindowTimeZone": "America/Los_Angeles",
        },
    )
    body = response.json()
    assert body["timeWindowStartOriginal"].endswith("T00:00:00")
    start = datetime.fromisoformat(body["timeWindowStart"].removesuffix("Z"))
    end = datetime.fromisoformat(body["timeWindowEnd"].removesuffix("Z"))
    assert start.hour in (7, 8) and end - start in (
        timedelta(days=7),
        timedelta(days=7, hours=1),
        timedelta(days=6, hours=23),
    )
    assert body["dataGaps"] == []


@pytest.mark.parametrize("late", [False, True], ids=["at-create", "late"])
async def test_compile_errors_at_create_or_late(tmp_path: Path, late: bool) -> None:
    """AMC documents both: a 400 at create, or a 200 and FAILED later with the same text."""
    config = make_config(late_compile_errors=late)
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        response = await api.create("SELECT campaign FROM dsp_impressions LIMIT 10")
        if late:
            assert response.status_code == 200
            final = await api.wait(response.json()["workflowExecutionId"])
            assert final["status"] == "FAILED" and "validatedTime" not in final
            details = final["statusReason"]
            assert final["outputChannels"][0]["statusReason"] == details
        else:
            assert response.status_code == 400
            details = response.json()["details"]
        assert details.startswith("Was unable to compile workflow transient_")
        assert "From line 1, column 38 to line 1, column 45: LIMIT is not supported" in details


@pytest.mark.parametrize("status", [400, 404])
async def test_unknown_execution_400_or_404(tmp_path: Path, status: int) -> None:
    config = make_config(unknown_execution_status=status)
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        missing = str(uuid.uuid4())
        path = f"{api.base}/workflowExecutions/{missing}"
        for method, target, body in (
            ("GET", path, None),
            ("PUT", path, {"status": "CANCELLED"}),
            ("GET", f"{path}/downloadUrls", None),
        ):
            response = await api.request(method, target, json=body)
            assert response.status_code == status, (method, target)
            assert response.json() == {
                "code": str(status),
                "details": f"Workflow execution with ID {missing} does not exist.",
            }


async def test_download_before_success_400_or_404(tmp_path: Path) -> None:
    for status in (400, 404):
        config = make_config(unavailable_download_status=status, duration="30")
        async with EmbeddedSandbox(config, tmp_path / str(status)) as embedded:
            api = await Api(embedded.client, embedded.sandbox).login()
            execution_id = (await api.create(SQL)).json()["workflowExecutionId"]
            response = await api.request(
                "GET", f"{api.base}/workflowExecutions/{execution_id}/downloadUrls"
            )
            assert response.status_code == status
            assert response.json()["details"] == (
                f"Execution with ID {execution_id} is unavailable for download."
            )


async def test_list_executions(api: Api) -> None:
    path = f"{api.base}/workflowExecutions"
    missing = await api.request("GET", path)
    assert missing.status_code == 400
    ids = [(await api.create(SQL)).json()["workflowExecutionId"] for _ in range(3)]
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    listed = (await api.request("GET", path, params={"minCreationTime": since})).json()
    assert [e["workflowExecutionId"] for e in listed["executions"]] == ids[::-1]
    assert "sqlQuery" not in listed["executions"][0]
    paged = (await api.request("GET", path, params={"minCreationTime": since, "limit": 2})).json()
    assert len(paged["executions"]) == 2
    rest = (
        await api.request(
            "GET",
            path,
            params={"minCreationTime": since, "limit": 2, "nextToken": paged["nextToken"]},
        )
    ).json()
    assert [e["workflowExecutionId"] for e in rest["executions"]] == [ids[0]]
    with_sql = (
        await api.request("GET", path, params={"minCreationTime": since, "includeWorkflow": "true"})
    ).json()
    assert with_sql["executions"][0]["sqlQuery"] == SQL
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    none = (await api.request("GET", path, params={"minCreationTime": later})).json()
    assert none["executions"] == []
    too_many = await api.request("GET", path, params={"minCreationTime": since, "limit": 101})
    assert too_many.status_code == 400


async def test_cancel(tmp_path: Path) -> None:
    async with EmbeddedSandbox(make_config(duration="30"), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        execution_id = (await api.create(SQL)).json()["workflowExecutionId"]
        path = f"{api.base}/workflowExecutions/{execution_id}"
        bad = await api.request("PUT", path, json={"status": "RUNNING"})
        assert bad.status_code == 400
        cancelled = await api.request("PUT", path, json={"status": "CANCELLED"})
        assert cancelled.status_code == 200 and cancelled.json() == {}
        assert (await api.status(execution_id))["status"] == "CANCELLED"
        again = await api.request("PUT", path, json={"status": "CANCELLED"})
        assert again.status_code == 400
        assert "CANCELLED" in again.json()["details"]
        since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        listing = f"{api.base}/workflowExecutions"
        hidden = (await api.request("GET", listing, params={"minCreationTime": since})).json()
        assert hidden["executions"] == []
        shown = (
            await api.request(
                "GET", listing, params={"minCreationTime": since, "includeCancelled": "true"}
            )
        ).json()
        assert [e["status"] for e in shown["executions"]] == ["CANCELLED"]


async def test_dry_run_compiles_only(api: Api) -> None:
    created = await api.create(SQL, dryRun=True)
    final = await api.wait(created.json()["workflowExecutionId"])
    assert final["status"] == "SUCCEEDED"
    urls = (
        await api.request(
            "GET", f"{api.base}/workflowExecutions/{final['workflowExecutionId']}/downloadUrls"
        )
    ).json()
    assert urls["downloadUrls"] == []


async def test_synthetic_event_level_rows(api: Api) -> None:
    sql = "SELECT user_id, impression_dt, campaign FROM dsp_impressions"
    refused = await api.create(sql)
    assert refused.status_code == 400
    start, end = amc_window()
    end_dt = datetime.fromisoformat(end)
    _, rows = await api.run(
        sql,
        start=(end_dt - timedelta(hours=1)).isoformat(),
        end=end,
        requireSyntheticData=True,
        disableAggregationControls=True,
    )
    assert rows[0] == ["user_id", "impression_dt", "campaign"]
    assert len(rows) > 100


async def test_timeout_fails_the_execution(tmp_path: Path) -> None:
    config = make_config(duration="1000", time_scale=2000)
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        created = await api.create(SQL, workflowExecutionTimeoutSeconds=900)
        final = await api.wait(created.json()["workflowExecutionId"])
        assert final["status"] == "FAILED"
        assert "timed out after 900 seconds" in final["statusReason"]


async def test_forced_failure(tmp_path: Path) -> None:
    config = make_config(faults={"execution_failure_rate": 1.0})
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        final = await api.wait((await api.create(SQL)).json()["workflowExecutionId"])
        assert final["status"] == "FAILED" and final["statusReason"]


async def test_privacy_overlap_rejection(tmp_path: Path) -> None:
    async with EmbeddedSandbox(make_config(privacy_overlap_limit=1), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        first = await api.wait((await api.create(SQL)).json()["workflowExecutionId"])
        assert first["status"] == "SUCCEEDED"
        second = await api.create(SQL)
        assert second.status_code == 200
        final = await api.wait(second.json()["workflowExecutionId"])
        assert final["status"] == "REJECTED"
        assert "could not be run because too many workflows" in final["statusReason"]


async def test_data_gaps_wait_unless_ignored(api: Api) -> None:
    now = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    start = (now - timedelta(hours=30)).isoformat()
    end = (now - timedelta(hours=6)).isoformat()
    waiting = (await api.create(SQL, start=start, end=end)).json()
    assert waiting["dataGaps"]
    wait_until = datetime.fromisoformat(waiting["waitUntil"].removesuffix("Z"))
    assert wait_until > now + timedelta(hours=40)
    ignored = (await api.create(SQL, start=start, end=end, ignoreDataGaps=True)).json()
    assert ignored["dataGaps"] and ignored["ignoreDataGaps"] is True
    assert (await api.wait(ignored["workflowExecutionId"]))["status"] == "SUCCEEDED"
    assert (await api.status(waiting["workflowExecutionId"]))["status"] == "PENDING"


async def test_queue_holds_at_most_n_running(tmp_path: Path) -> None:
    config = make_config(max_running_per_instance=2, duration="0.4")
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        ids = [(await api.create(SQL)).json()["workflowExecutionId"] for _ in range(5)]
        most_running = 0
        since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        while True:
            # One list call is one snapshot; separate GETs would mix moments.
            listed = (
                await api.request(
                    "GET", f"{api.base}/workflowExecutions", params={"minCreationTime": since}
                )
            ).json()["executions"]
            assert {e["workflowExecutionId"] for e in listed} == set(ids)
            statuses = [e["status"] for e in listed]
            most_running = max(most_running, statuses.count("RUNNING"))
            if all(s == "SUCCEEDED" for s in statuses):
                break
            assert "FAILED" not in statuses
        assert most_running == 2
        assert embedded.sandbox.stats.max_open_by_instance[api.instance] == 5


async def test_daily_adhoc_quota(tmp_path: Path) -> None:
    async with EmbeddedSandbox(make_config(daily_adhoc_quota=2), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        assert (await api.create(SQL)).status_code == 200
        assert (await api.create(SQL, dryRun=True)).status_code == 200
        assert (await api.create(SQL)).status_code == 200
        over = await api.create(SQL)
        assert over.status_code == 422
        assert "ad hoc workflow executions per day" in over.json()["details"]
        await api.request(
            "POST", f"{api.base}/workflows", json={"workflowId": "saved", "sqlQuery": SQL}
        )
        start, end = amc_window()
        saved = await api.request(
            "POST",
            f"{api.base}/workflowExecutions",
            json={
                "workflowId": "saved",
                "timeWindowType": "EXPLICIT",
                "timeWindowStart": start,
                "timeWindowEnd": end,
            },
        )
        assert saved.status_code == 200


async def test_multi_file_results(tmp_path: Path) -> None:
    async with EmbeddedSandbox(make_config(rows_per_file=7), tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        sql = (
            "SELECT campaign, device_type, SUM(impressions) AS impressions "
            "FROM dsp_impressions GROUP BY campaign, device_type"
        )
        final, rows = await api.run(sql)
        urls = (
            await api.request(
                "GET", f"{api.base}/workflowExecutions/{final['workflowExecutionId']}/downloadUrls"
            )
        ).json()
        assert 2 <= len(urls["downloadUrls"]) <= 5
        assert len(urls["metadataDownloadUrls"]) == 1
        for url in urls["downloadUrls"]:
            text = (await api.client.get(url)).text
            assert text.splitlines()[0] == "campaign,device_type,impressions"
        metadata = (await api.client.get(urls["metadataDownloadUrls"][0])).json()
        assert metadata["sqlQuery"] == sql
        assert metadata["rowCount"] == len(rows) - 1


async def test_presigned_url_expiry_and_tampering(tmp_path: Path) -> None:
    config = make_config(url_expiry_seconds=600, time_scale=600)
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        final, _ = await api.run(SQL)
        url = (
            await api.request(
                "GET", f"{api.base}/workflowExecutions/{final['workflowExecutionId']}/downloadUrls"
            )
        ).json()["downloadUrls"][0]
        assert "Authorization" not in api.client.headers
        assert (await api.client.get(url)).status_code == 200
        tampered = await api.client.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
        assert tampered.status_code == 403 and "SignatureDoesNotMatch" in tampered.text
        import asyncio

        await asyncio.sleep(2.1)
        expired = await api.client.get(url)
        assert expired.status_code == 403
        assert "<Message>Request has expired</Message>" in expired.text
        assert expired.headers["content-type"].startswith("application/xml")


async def test_empty_result_is_header_only(api: Api) -> None:
    sql = (
        "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions "
        "WHERE campaign = 'no such campaign' GROUP BY campaign"
    )
    _, rows = await api.run(sql)
    assert rows == [["campaign", "impressions"]]


async def test_error_bodies_can_use_message_shape(tmp_path: Path) -> None:
    config = make_config(faults={"message_shaped_errors": True})
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        response = await api.request("GET", f"{api.base}/workflowExecutions/{uuid.uuid4()}")
        assert set(response.json()) == {"message"}


async def test_processes_sharing_a_state_dir_see_the_same_executions(tmp_path: Path) -> None:
    config = make_config()
    async with (
        EmbeddedSandbox(config, tmp_path) as first,
        EmbeddedSandbox(config, tmp_path) as second,
    ):
        api_one = await Api(first.client, first.sandbox).login()
        api_two = await Api(second.client, second.sandbox).login()
        created = (await api_one.create(SQL)).json()["workflowExecutionId"]
        final = await api_two.wait(created)
        assert final["status"] == "SUCCEEDED"
        assert await api_one.rows(created) == await api_two.rows(created)
        assert api_two.headers["Authorization"] != api_one.headers["Authorization"]
        # a token granted by one process is accepted by the other
        assert (
            await api_two.request(
                "GET", "/amc/accounts", headers={"Authorization": api_one.headers["Authorization"]}
            )
        ).status_code == 200
