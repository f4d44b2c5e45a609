"""Every client operation against the sandbox, plus the protocol corners it cannot produce."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from amc_manager.client import (
    AccountRef,
    AmcClient,
    ExecutionFailed,
    ExecutionRejected,
    ExecutionRequest,
    InMemoryTokenStore,
    InstanceRef,
    InvalidIdentity,
    LwaCredentials,
    NotFoundError,
    Region,
    Secret,
    ValidationError,
)
from amc_manager.client.downloads import UrlExpired
from amc_manager.client.identity import api_base, lwa_token_url
from tests.client.conftest import USER, client_for
from tests.windows import amc_window

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


async def _finish(setup: Any, execution_id: str) -> Any:
    while True:
        execution = await setup.client.get_execution(setup.instance, execution_id)
        if execution.terminal:
            return execution
        await asyncio.sleep(0.05)


async def test_discovery_all_pages_and_cache(live: Any) -> None:
    server = live(instances=5)
    async with client_for(server.sandbox, server.url, page_limit=2) as setup:
        accounts = await setup.client.list_accounts()
        assert [a.account_id for a in accounts] == [server.sandbox.account.account_id]
        account = AccountRef(accounts[0].account_id, accounts[0].marketplace_id)
        instances = await setup.client.list_instances(account)
        assert len(instances) == 5
        calls = len(setup.audit.events)
        assert await setup.client.list_instances(account) == instances
        assert len(setup.audit.events) == calls, "second listing comes from the cache"
        setup.client.invalidate_discovery()
        await setup.client.list_instances(account)
        assert len(setup.audit.events) == calls + 3
        one = await setup.client.get_instance(account, instances[1].instance_id)
        assert one.instance_id == instances[1].instance_id


async def test_workflows_crud(live: Any) -> None:
    server = live()
    async with client_for(server.sandbox, server.url) as setup:
        client, instance = setup.client, setup.instance
        await client.create_workflow(instance, {"workflowId": "wf-a", "sqlQuery": SQL})
        with pytest.raises(ValidationError) as caught:
            await client.create_workflow(instance, {"workflowId": "wf-a", "sqlQuery": SQL})
        assert "already exists" in caught.value.details
        assert (await client.get_workflow(instance, "wf-a")).sql_query == SQL
        await client.update_workflow(instance, {"workflowId": "wf-a", "sqlQuery": SQL + " "})
        assert [w.workflow_id for w in await client.list_workflows(instance)] == ["wf-a"]
        await client.delete_workflow(instance, "wf-a")
        with pytest.raises(NotFoundError):
            await client.get_workflow(instance, "wf-a")


async def test_execution_round_trip_with_download(live: Any, tmp_path: Path) -> None:
    server = live(rows_per_file=5, duration="0.5")
    async with client_for(server.sandbox, server.url) as setup:
        start, end = amc_window()
        created = await setup.client.create_execution(
            setup.instance, ExecutionRequest(sql=SQL, start=start, end=end)
        )
        assert created.status == "PENDING" and created.time_window_start_original == start
        # before success AMC answers "unavailable for download"; the client waits it out
        urls = await setup.client.download_urls(setup.instance, created.execution_id)
        assert 2 <= len(urls.download_urls) <= 5
        finished = await _finish(setup, created.execution_id)
        assert finished.status == "SUCCEEDED" and finished.outcome_error() is None
        lines = []
        for index in range(len(urls.download_urls)):
            target = tmp_path / f"part{index}.csv"
            assert (
                await setup.client.downloads.to_file(
                    setup.instance, created.execution_id, index, target
                )
                > 0
            )
            body = target.read_text().splitlines()
            assert body[0] == "campaign,impressions"
            lines += body[1:]
        assert len(lines) == 8  # the DSP campaigns
        listed = []
        async for page in setup.client.iter_executions(
            setup.instance, min_creation_time=start, include_workflow=True
        ):
            listed += page
        assert [e.execution_id for e in listed] == [created.execution_id]
        assert listed[0].sql_query is not None and SQL in listed[0].sql_query
        downloads = [e for e in setup.audit.events if e.kind == "download"]
        assert downloads and all(e.path.startswith("/s3/") for e in downloads)


async def test_expired_url_is_refused_and_fresh_urls_work(live: Any, tmp_path: Path) -> None:
    server = live(url_expiry_seconds=600, time_scale=600)
    async with client_for(server.sandbox, server.url) as setup:
        start, end = amc_window()
        created = await setup.client.create_execution(
            setup.instance, ExecutionRequest(sql=SQL, start=start, end=end)
        )
        await _finish(setup, created.execution_id)
        old = await setup.client.download_urls(setup.instance, created.execution_id)
        await asyncio.sleep(1.2)
        from amc_manager.client.audit import AuditContext

        with pytest.raises(UrlExpired):
            async with setup.client.downloads.open(
                old.download_urls[0], user_context=AuditContext(USER, None, "x", "download")
            ):
                pass
        target = tmp_path / "fresh.csv"
        assert (
            await setup.client.downloads.to_file(setup.instance, created.execution_id, 0, target)
            > 0
        )


async def test_cancel_and_rejected_outcome(live: Any) -> None:
    server = live(duration="30", privacy_overlap_limit=1)
    async with client_for(server.sandbox, server.url) as setup:
        start, end = amc_window()
        request = ExecutionRequest(sql=SQL, start=start, end=end)
        first = await setup.client.create_execution(setup.instance, request)
        second = await setup.client.create_execution(setup.instance, request)
        await setup.client.cancel_execution(setup.instance, first.execution_id)
        await setup.client.cancel_execution(setup.instance, first.execution_id)  # replay is fine
        assert (await setup.client.get_execution(setup.instance, first.execution_id)).status == (
            "CANCELLED"
        )
        rejected = await _finish(setup, second.execution_id)
        assert rejected.status == "REJECTED"
        error = rejected.outcome_error()
        assert isinstance(error, ExecutionRejected)
        assert "Change the query or the time window" in str(error)


@pytest.mark.parametrize("late", [False, True], ids=["refused-at-create", "failed-later"])
async def test_compile_error_has_line_and_column(live: Any, late: bool) -> None:
    """Refused at create (ValidationError) or FAILED later: the same AMC text, position and
    advice; only the refusal is the request's fault (exit 2)."""
    server = live(late_compile_errors=late)
    async with client_for(server.sandbox, server.url) as setup:
        start, end = amc_window()
        request = ExecutionRequest(
            sql="SELECT campaign\nFROM dsp_impressions LIMIT 3", start=start, end=end
        )
        if late:
            created = await setup.client.create_execution(setup.instance, request)
            failed = await _finish(setup, created.execution_id)
            assert failed.status == "FAILED" and failed.compile_failure
            error = failed.outcome_error()
            assert isinstance(error, ExecutionFailed) and error.exit_code == 1
            details, position = failed.status_reason, failed.error_position
        else:
            with pytest.raises(ValidationError) as caught:
                await setup.client.create_execution(setup.instance, request)
            error, details = caught.value, caught.value.details
            position = (caught.value.line, caught.value.column)
            assert error.exit_code == 2
        assert details is not None and error.message.endswith(details)
        assert re.search(r"From line 2, column \d+ to line 2, column \d+: LIMIT", details)
        assert position is not None and position[0] == 2
        assert error.hint == ValidationError.hint


@pytest.mark.parametrize("status", [400, 404])
async def test_unknown_execution_is_not_found_either_way(live: Any, status: int) -> None:
    """AMC answers an unknown execution 400 (observed) or 404 (the spec): the same error."""
    server = live(unknown_execution_status=status)
    async with client_for(server.sandbox, server.url) as setup:
        missing = str(uuid.uuid4())
        calls = (
            setup.client.get_execution(setup.instance, missing),
            setup.client.cancel_execution(setup.instance, missing),
            setup.client.download_urls(setup.instance, missing),
        )
        for call in calls:
            with pytest.raises(NotFoundError) as caught:
                await call
            assert caught.value.status == status
            assert caught.value.details == f"Workflow execution with ID {missing} does not exist."
            assert caught.value.hint == NotFoundError.hint and caught.value.exit_code == 1


async def test_data_sources(live: Any) -> None:
    server = live()
    async with client_for(server.sandbox, server.url) as setup:
        sources = await setup.client.list_data_sources(setup.instance)
        assert "dsp_impressions" in {s.data_source_id for s in sources}
        one = await setup.client.get_data_source(setup.instance, "conversions")
        assert any(c["name"] == "user_id" for c in one.columns)


async def test_audit_sees_every_request_the_sandbox_saw(live: Any, tmp_path: Path) -> None:
    server = live(faults={"server_error_rate": 0.2, "seed": 5}, throttle_rate=5, throttle_burst=2)
    async with client_for(server.sandbox, server.url, rate=20) as setup:
        start, end = amc_window()
        created = await setup.client.create_execution(
            setup.instance, ExecutionRequest(workflow_id=None, sql=SQL, start=start, end=end)
        )
        await _finish(setup, created.execution_id)
        await setup.client.downloads.to_file(
            setup.instance, created.execution_id, 0, tmp_path / "r.csv"
        )
        await asyncio.gather(*(setup.client.list_workflows(setup.instance) for _ in range(20)))
        stats = await setup.stats()
    assert setup.audit.count("api") == stats["requests_total"]
    assert setup.audit.count("token") == stats["token_grants"]
    assert setup.audit.count("download") == stats["downloads"]
    assert stats["throttled_total"] > 0 or stats["faults"]["server_error"] > 0
    assert all(e.user == USER for e in setup.audit.events)


def test_internal_ids_cannot_become_instance_refs() -> None:
    account = AccountRef("ENTITYABC123456789", "ATVPDKIKX0DER")
    with pytest.raises(InvalidIdentity) as caught:
        InstanceRef(str(uuid.uuid4()), account)
    assert "internal id" in str(caught.value) and "amc instances list" in str(caught.value)
    with pytest.raises(InvalidIdentity):
        AccountRef(str(uuid.uuid4()), "ATVPDKIKX0DER")
    ref = InstanceRef("amcabcd1234", account)
    assert ref.reporting_path("workflowExecutions", "x/y") == (
        "/amc/reporting/amcabcd1234/workflowExecutions/x%2Fy"
    )


def test_hosts_follow_override_endpoint_then_region() -> None:
    account = AccountRef("ENTITYABC123456789", "A1F83G8C2ARO7P", Region.EU)
    with_endpoint = InstanceRef("amcabcd1234", account, "https://custom.example/")
    plain = InstanceRef("amcabcd1234", account)
    assert api_base(with_endpoint, Region.EU, "http://127.0.0.1:9") == "http://127.0.0.1:9"
    assert api_base(with_endpoint, Region.EU, None) == "https://custom.example"
    assert api_base(plain, Region.EU, None) == "https://advertising-api-eu.amazon.com"
    assert lwa_token_url(Region.FE, None) == "https://api.amazon.co.jp/auth/o2/token"


async def test_wrapped_shapes_and_message_errors() -> None:
    """Corners the sandbox does not produce: AMC's spec-shaped (wrapped) bodies, 404s."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/auth/o2/token":
            return httpx.Response(200, json={"access_token": "Atza|x", "expires_in": 3600})
        if request.url.path.endswith("/workflowExecutions/e-1"):
            return httpx.Response(
                200, json={"workflowExecution": {"workflowExecutionId": "e-1", "status": "RUNNING"}}
            )
        if request.url.path.endswith("/workflows/wf"):
            return httpx.Response(200, json={"workflow": {"workflowId": "wf", "sqlQuery": "S"}})
        return httpx.Response(404, json={"message": "Resource not found"})

    store = InMemoryTokenStore()
    await store.save_refresh_token(USER, Secret("Atzr|r"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = AmcClient(
            http=http,
            credentials=LwaCredentials("c", Secret("s")),
            token_store=store,
            user=USER,
            api_base_url="http://amc.test",
            lwa_token_url="http://amc.test/auth/o2/token",
        )
        instance = InstanceRef("amcabcd1234", AccountRef("ENTITYABC123456789", "ATVPDKIKX0DER"))
        assert (await client.get_execution(instance, "e-1")).status == "RUNNING"
        assert (await client.get_workflow(instance, "wf")).sql_query == "S"
        with pytest.raises(NotFoundError) as caught:
            await client.get_execution(instance, "e-2")
        assert "Resource not found" in str(caught.value)
    assert seen[0] == "POST /auth/o2/token"


def test_request_body_rules() -> None:
    body = ExecutionRequest(
        sql="S",
        start="2026-01-01T00:00:00",
        end="2026-01-02T00:00:00",
        time_zone="America/New_York",
        dry_run=True,
    ).body()
    assert body == {
        "workflow": {"sqlQuery": "S"},
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2026-01-01T00:00:00",
        "timeWindowEnd": "2026-01-02T00:00:00",
        "timeWindowTimeZone": "America/New_York",
        "dryRun": True,
    }
    with pytest.raises(ValueError):
        ExecutionRequest(sql="S", workflow_id="w")
    with pytest.raises(ValueError):
        ExecutionRequest(sql="S", start="2026-01-01T00:00:00")
    saved = ExecutionRequest(
        workflow_id="w", window_type="MOST_RECENT_WEEK", parameter_values={"x": 1}
    ).body()
    assert json.loads(json.dumps(saved))["timeWindowType"] == "MOST_RECENT_WEEK"
