"""Amazon's published sample responses (tests/client/fixtures, each naming its source) replayed
through the client: every parser reads the values the samples show, in the flat shapes AMC
answers with and the wrapped ones its spec declares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from amc_manager.client import (
    AccountRef,
    AmcClient,
    DownloadUnavailable,
    ExecutionRequest,
    InMemoryTokenStore,
    InstanceRef,
    LwaCredentials,
    RetryPolicy,
    Secret,
)
from amc_manager.client.models import Account, DataSource, Execution, Instance, Workflow, unwrap
from tests.client.conftest import USER

FIXTURES = Path(__file__).parent / "fixtures"
INSTANCE = InstanceRef("amc1alal2aa", AccountRef("ENTITYABC123456789", "ATVPDKIKX0DER"))
SAVED_ID = "2b04762b-cbdb-47c7-be39-42a585ecd40e"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    assert loaded["source"] and "status" in loaded
    return loaded


def test_every_fixture_names_its_source_and_a_request() -> None:
    names = sorted(p.name for p in FIXTURES.glob("*.json"))
    assert len(names) == 12
    for name in names:
        loaded = sample(name)
        assert loaded["request"].split()[0] in ("GET", "POST"), name


def _serve(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/auth/o2/token":
        return httpx.Response(200, json={"access_token": "Atza|x", "expires_in": 3600})
    reporting = "/amc/reporting/amc1alal2aa"
    routes = {
        ("GET", "/amc/accounts"): "accounts_list.json",
        ("GET", "/amc/instances"): "instances_list.json",
        ("GET", "/amc/instances/amc1alal2aa"): "instance_get.json",
        ("POST", f"{reporting}/workflowExecutions"): "execution_create_saved.json",
        ("GET", f"{reporting}/workflowExecutions"): "executions_list.json",
        ("GET", f"{reporting}/workflowExecutions/{SAVED_ID}"): "execution_get_wrapped.json",
        ("GET", f"{reporting}/workflows/my-first-workflow"): "workflow_get_wrapped.json",
        ("GET", f"{reporting}/workflows/workflowWithCustomParams"): (
            "workflow_custom_parameters.json"
        ),
        ("GET", f"{reporting}/workflowExecutions/{SAVED_ID}/downloadUrls"): "download_urls.json",
        ("GET", f"{reporting}/workflowExecutions/other/downloadUrls"): (
            "download_unavailable.json"
        ),
        ("GET", f"{reporting}/dataSources"): "data_sources_list.json",
    }
    name = routes.get((request.method, path))
    if name is None:
        return httpx.Response(404, json={"code": "404", "details": f"no sample for {path}"})
    loaded = sample(name)
    return httpx.Response(loaded["status"], json=loaded["body"])


async def test_samples_through_the_client() -> None:
    store = InMemoryTokenStore()
    await store.save_refresh_token(USER, Secret("Atzr|r"))

    async def no_sleep(_seconds: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(_serve)) as http:
        client = AmcClient(
            http=http,
            credentials=LwaCredentials("c", Secret("s")),
            token_store=store,
            user=USER,
            api_base_url="http://amc.test",
            lwa_token_url="http://amc.test/auth/o2/token",
            retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0),
            sleep=no_sleep,
        )
        accounts = await client.list_accounts()
        assert [(a.account_id, a.account_name, a.marketplace_id) for a in accounts] == [
            ("ENTITY1xxxxxxxxxxxx", "AMC Demo Account", "ATVPDKIKX0DER")
        ]
        listed = await client.list_instances(INSTANCE.account)
        one = await client.get_instance(INSTANCE.account, "amc1alal2aa")
        assert listed == [one]
        _check_instance(one)

        created = await client.create_execution(
            INSTANCE,
            ExecutionRequest(
                workflow_id="my-first-workflow",
                start="2023-05-20T00:00:00",
                end="2023-08-03T00:00:00",
                time_zone="America/New_York",
            ),
        )
        _check_saved(created)
        _check_saved(await client.get_execution(INSTANCE, SAVED_ID))
        pages = [page async for page in client.iter_executions(INSTANCE, workflow_id="x")]
        saved, adhoc = pages[0]
        _check_saved(saved)
        _check_adhoc(adhoc)

        first = await client.get_workflow(INSTANCE, "my-first-workflow")
        assert first.workflow_id == "my-first-workflow"
        assert first.sql_query is not None and first.sql_query.startswith("SELECT campaign, SUM(")
        assert first.filtered_metrics_discriminator_column == "filtered"
        assert first.distinct_user_count_column == "du_count"
        assert first.filtered_reason_column == "true"
        custom = await client.get_workflow(INSTANCE, "workflowWithCustomParams")
        names = [p["name"] for p in custom.input_parameters]
        assert names == ["myCustomParameter1", "myCustomParameter2", "myCustomParameter3"]
        assert custom.input_parameters[0]["defaultValue"] == 20
        assert custom.input_parameters[2]["dataType"] == {
            "elementDataType": "STRING",
            "type": "ARRAY",
        }

        urls = await client.download_urls(INSTANCE, SAVED_ID)
        assert len(urls.download_urls) == 1 and urls.metadata_download_urls == []
        assert urls.download_urls[0].startswith("https://amc-myinstance-2ofoqzvk.s3.amazonaws.com/")
        assert urls.next_token is None
        with pytest.raises(DownloadUnavailable) as caught:
            await client.download_urls(INSTANCE, "other")
        assert caught.value.details == f"Execution with ID {SAVED_ID} is unavailable for download."

        sources = await client.list_data_sources(INSTANCE)
        _check_data_source(sources)


def _check_instance(instance: Instance) -> None:
    assert (instance.instance_id, instance.instance_name, instance.instance_type) == (
        "amc1alal2aa",
        "myinstance",
        "STANDARD",
    )
    assert instance.customer_canonical_name == "Advertiser-A"
    assert instance.creation_status == "REQUESTED" and instance.creation_time is None
    assert instance.s3_bucket_name == "my-S3-Bucket" and instance.aws_account_id == "682015411111"
    assert instance.entities == ["NA"] and instance.advertiser_types == []
    assert instance.api_endpoint is None and instance.region is None
    assert instance.s3_bucket_region is None  # the sample predates the field


def _check_saved(execution: Execution) -> None:
    assert execution.execution_id == SAVED_ID and execution.workflow_id == "my-first-workflow"
    assert execution.status == "PENDING" and not execution.terminal
    assert execution.outcome_error() is None
    assert execution.create_time == datetime(2023, 9, 18, 22, 1, 56, tzinfo=UTC)
    assert execution.expire_time == datetime(2023, 9, 19, 22, 1, 56, tzinfo=UTC)
    assert execution.wait_until == datetime(2023, 9, 18, 21, 1, 56, tzinfo=UTC)
    assert execution.time_window_start == datetime(2022, 9, 20, 4, tzinfo=UTC)
    assert execution.time_window_end == datetime(2022, 9, 30, 4, tzinfo=UTC)
    assert execution.time_window_start_original == "2022-09-20T00:00:00"
    assert execution.time_window_end_original == "2022-09-30T00:00:00"
    assert execution.time_window_time_zone == "America/New_York"
    assert execution.timeout_seconds == 21600 and execution.execution_category == "AD_HOC"
    assert execution.data_gaps == [] and execution.parameter_values == {}
    assert execution.output_columns is None and execution.validated_time is None


def _check_adhoc(execution: Execution) -> None:
    assert execution.execution_id == "a111111c-111f-1111-b1f1-11d111f1c1d1"
    assert execution.workflow_id == "transient_c3393afa-5996-4e0e-829e-5da4718eb9e3"
    assert execution.time_window_start is None and execution.time_window_start_original is None
    assert execution.time_window_time_zone == "UTC"
    assert execution.create_time == datetime(2023, 8, 16, 4, 12, 53, tzinfo=UTC)


def _check_data_source(sources: list[DataSource]) -> None:
    assert [s.data_source_id for s in sources] == ["sandbox.dsp_impressions"]
    source = sources[0]
    assert (source.owner, source.provider) == ("AMAZON", "AMAZON")
    assert source.tags[0]["subtext"] == "Amazon DSP"
    assert [(c["name"], c["columnType"]) for c in source.columns] == [
        ("impressions", "METRIC"),
        ("campaign_id", "DIMENSION"),
    ]


def test_samples_parse_flat_and_wrapped_alike() -> None:
    """The parsers the client uses, directly: each sample in both shapes gives one model."""
    saved = sample("execution_create_saved.json")["body"]
    assert Execution.model_validate(unwrap({"workflowExecution": saved}, "workflowExecution")) == (
        Execution.model_validate(unwrap(saved, "workflowExecution"))
    )
    workflow = sample("workflow_get_wrapped.json")["body"]
    assert Workflow.model_validate(unwrap(workflow, "workflow")) == Workflow.model_validate(
        unwrap(workflow["workflow"], "workflow")
    )
    instance = sample("instance_get.json")["body"]
    assert Instance.model_validate(unwrap(instance, "instance")) == Instance.model_validate(
        instance["instance"]
    )
    account = sample("accounts_list.json")["body"]["amcAccounts"][0]
    assert Account.model_validate(account).ref(INSTANCE.account.region).account_id == (
        "ENTITY1xxxxxxxxxxxx"
    )


def test_fields_amazon_added_since_the_samples() -> None:
    """outputColumns, validatedTime and executionTime on executions, s3BucketRegion on
    instances: read when present, with AMC's data types kept as given."""
    body = dict(sample("execution_create_saved.json")["body"])
    body.update(
        status="SUCCEEDED",
        validatedTime="2023-09-18T22:01:58Z",
        executionTime="2023-09-18T22:17:01Z",
        outputColumns=[
            {"name": "campaign", "dataType": "STRING"},
            {
                "name": "total_orders_9d",
                "dataType": "DECIMAL",
                "dataTypePrecision": 38,
                "dataTypeScale": 4,
            },
        ],
    )
    execution = Execution.model_validate(body)
    assert execution.validated_time == datetime(2023, 9, 18, 22, 1, 58, tzinfo=UTC)
    assert execution.execution_time == datetime(2023, 9, 18, 22, 17, 1, tzinfo=UTC)
    assert execution.output_columns is not None
    assert [(c.name, c.data_type, c.precision, c.scale) for c in execution.output_columns] == [
        ("campaign", "STRING", None, None),
        ("total_orders_9d", "DECIMAL", 38, 4),
    ]
    odd = Execution.model_validate({**body, "executionTime": 1695075421000, "validatedTime": "?"})
    assert odd.execution_time == datetime(2023, 9, 18, 22, 17, 1, tzinfo=UTC)
    assert odd.validated_time is None  # an unknown spelling never makes the answer unreadable
    instance = dict(sample("instance_get.json")["body"]["instance"], s3BucketRegion="us-east-1")
    assert Instance.model_validate(instance).s3_bucket_region == "us-east-1"
