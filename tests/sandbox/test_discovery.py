"""Accounts and instances discovery, identity headers and paging."""

from __future__ import annotations

import re
import uuid

from tests.sandbox.helpers import Api

UNAUTHORIZED = {"code": "403", "details": "Unauthorized request."}


async def test_accounts_and_instances(api: Api) -> None:
    accounts = (await api.request("GET", "/amc/accounts")).json()
    assert accounts["amcAccounts"] == [
        {
            "accountId": api.sandbox.account.account_id,
            "accountName": "AMC Sandbox Account",
            "marketplaceId": "ATVPDKIKX0DER",
        }
    ]
    assert "nextToken" not in accounts
    instances = (await api.request("GET", "/amc/instances")).json()["instances"]
    assert len(instances) >= 2
    for inst in instances:
        assert re.fullmatch(r"amc[a-z0-9]{8}", inst["instanceId"])
        assert inst["creationStatus"] == "COMPLETED"
        assert inst["apiEndpoint"].startswith("http")
        assert inst["s3BucketRegion"] == "us-east-1"
    # GET of one instance answers wrapped in `instance` (the Administration spec's shape)
    one = await api.request("GET", f"/amc/instances/{instances[1]['instanceId']}")
    assert one.json() == {"instance": instances[1]}


async def test_instances_paging(api: Api) -> None:
    first = (await api.request("GET", "/amc/instances", params={"limit": 1})).json()
    assert len(first["instances"]) == 1 and first["nextToken"]
    second = (
        await api.request(
            "GET", "/amc/instances", params={"limit": 1, "nextToken": first["nextToken"]}
        )
    ).json()
    assert len(second["instances"]) == 1
    assert second["instances"][0]["instanceId"] != first["instances"][0]["instanceId"]
    assert "nextToken" not in second


async def test_empty_paging_values_are_the_defaults(api: Api) -> None:
    """AIOA's first page sends `nextToken=` empty, and AMC answers it as no token."""
    for path in ("/amc/instances", f"{api.base}/workflows", f"{api.base}/dataSources"):
        response = await api.request("GET", path, params={"nextToken": "", "limit": ""})
        assert response.status_code == 200, (path, response.text)


async def test_bad_paging_values(api: Api) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"nextToken": "garbage!"}):
        response = await api.request("GET", "/amc/instances", params=params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "400"


async def test_instances_need_advertiser_and_marketplace(api: Api) -> None:
    headers = dict(api.headers)
    del headers["Amazon-Advertising-API-AdvertiserId"]
    response = await api.client.get("/amc/instances", headers=headers)
    assert response.status_code == 403
    assert response.json() == UNAUTHORIZED


async def test_wrong_identity_headers_get_403(api: Api) -> None:
    for header, value in (
        ("Amazon-Advertising-API-ClientId", "amzn1.application-oa2-client.other"),
        ("Amazon-Advertising-API-AdvertiserId", "ENTITYWRONG0000000"),
        ("Amazon-Advertising-API-MarketplaceId", "A1F83G8C2ARO7P"),
    ):
        response = await api.request("GET", f"{api.base}/workflows", headers={header: value})
        assert response.status_code == 403, header
        assert response.json() == UNAUTHORIZED


async def test_internal_uuid_as_instance_id_gets_403(api: Api) -> None:
    response = await api.request("GET", f"/amc/reporting/{uuid.uuid4()}/workflows")
    assert response.status_code == 403
    assert response.json() == UNAUTHORIZED
    response = await api.request("GET", f"/amc/instances/{uuid.uuid4()}")
    assert response.status_code == 403


async def test_unknown_path_is_a_json_404(api: Api) -> None:
    response = await api.request("GET", f"{api.base}/nothingHere")
    assert response.status_code == 404
    assert response.json()["code"] == "404"


async def test_data_sources(api: Api) -> None:
    listed = (await api.request("GET", f"{api.base}/dataSources")).json()["dataSources"]
    names = {d["dataSourceId"] for d in listed}
    assert {"dsp_impressions", "conversions", "sponsored_ads_traffic"} <= names
    one = (await api.request("GET", f"{api.base}/dataSources/dsp_impressions")).json()
    columns = {c["name"]: c["columnType"] for c in one["dataSource"]["columns"]}
    assert columns["impressions"] == "METRIC" and columns["campaign"] == "DIMENSION"
    missing = await api.request("GET", f"{api.base}/dataSources/nope")
    assert missing.status_code == 404
