"""Collections over REST: create, list (with and without a slash, cursors), get with coverage,
the executions' collection_id filter, pause/resume/cancel/retry, access (404 for others)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, api, bearer, clean_env
from tests.collections.test_flow import DAILY
from tests.windows import window_fields

__all__ = ["api", "clean_env"]


def body(instance: str, **extra: Any) -> dict[str, Any]:
    return {
        "instance_ids": [instance],
        "sql": DAILY,
        **window_fields(14),
        "every": "week",
        **extra,
    }


async def test_collections_over_rest(api: Api) -> None:
    token = await api.token()
    auth = bearer(token)
    instance = (await api.client.get("/api/v1/instances", headers=auth)).json()["items"][0]
    made = await api.client.post(
        "/api/v1/collections", json=body(instance["instance_id"], name="two weeks"), headers=auth
    )
    assert made.status_code == 201, made.text
    item = made.json()
    assert made.headers["location"] == f"/api/v1/collections/{item['id']}"
    assert item["state"] == "running" and item["name"] == "two weeks"
    assert item["cells_total"] == len(item["cells"]) >= 2 and item["totals"]["queued"] >= 2
    assert item["coverage"]["windows_complete"] == 0
    assert len(item["coverage"]["missing"]) == item["cells_total"]

    second = await api.client.post(
        "/api/v1/collections/", json=body(instance["instance_id"]), headers=auth
    )
    assert second.status_code == 201, second.text
    for path in ("/api/v1/collections", "/api/v1/collections/"):
        listed = await api.client.get(path, params={"limit": 1}, headers=auth)
        assert listed.status_code == 200, listed.text
        page = listed.json()
        assert [i["id"] for i in page["items"]] == [second.json()["id"]]  # newest first
        assert "cells" not in page["items"][0] or page["items"][0]["cells"] is None
        more = await api.client.get(path, params={"cursor": page["next_cursor"]}, headers=auth)
        assert [i["id"] for i in more.json()["items"]] == [item["id"]]

    got = await api.client.get(f"/api/v1/collections/{item['id']}", headers=auth)
    assert got.status_code == 200 and got.json()["coverage"]["cells_total"] == item["cells_total"]
    by_prefix = await api.client.get(
        "/api/v1/executions", params={"collection_id": item["id"][:8]}, headers=auth
    )
    assert by_prefix.status_code == 404, by_prefix.text  # REST takes full ids only
    executions = await api.client.get(
        "/api/v1/executions", params={"collection_id": item["id"]}, headers=auth
    )
    assert sorted(e["id"] for e in executions.json()["items"]) == sorted(
        c["execution_id"] for c in item["cells"]
    )
    assert {e["collection_id"] for e in executions.json()["items"]} == {item["id"]}

    paused = await api.client.post(f"/api/v1/collections/{item['id']}/pause", headers=auth)
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    resumed = await api.client.post(f"/api/v1/collections/{item['id']}/resume", headers=auth)
    assert resumed.json()["state"] == "running"
    nothing = await api.client.post(f"/api/v1/collections/{item['id']}/retry", headers=auth)
    assert nothing.status_code == 409, nothing.text
    assert nothing.headers["content-type"].startswith("application/problem+json")
    cancelled = await api.client.post(f"/api/v1/collections/{item['id']}/cancel", headers=auth)
    assert cancelled.json()["state"] == "cancelled"
    again = await api.client.post(f"/api/v1/collections/{item['id']}/cancel", headers=auth)
    assert again.status_code == 409
    retried = await api.client.post(f"/api/v1/collections/{item['id']}/retry", headers=auth)
    assert retried.status_code == 200 and retried.json()["state"] == "running"
    assert retried.json()["totals"]["queued"] == item["cells_total"]


async def test_others_get_404_and_bad_requests_422(api: Api) -> None:
    token = await api.token()
    instance = (await api.client.get("/api/v1/instances", headers=bearer(token))).json()["items"]
    made = await api.client.post(
        "/api/v1/collections", json=body(instance[0]["instance_id"]), headers=bearer(token)
    )
    collection_id = made.json()["id"]
    other = await api.token("other@example.com")
    for method, path in (
        ("GET", f"/api/v1/collections/{collection_id}"),
        ("POST", f"/api/v1/collections/{collection_id}/pause"),
        ("POST", f"/api/v1/collections/{collection_id}/retry"),
    ):
        answer = await api.client.request(method, path, headers=bearer(other))
        assert answer.status_code == 404, (path, answer.text)
    listed = await api.client.get("/api/v1/collections", headers=bearer(other))
    assert listed.json()["items"] == []
    refused = await api.client.post(
        "/api/v1/collections",
        json=body(instance[0]["instance_id"]),
        headers=bearer(other),
    )
    assert refused.status_code == 404
    bad = await api.client.post(
        "/api/v1/collections",
        json=body(instance[0]["instance_id"], every="fortnight"),
        headers=bearer(token),
    )
    assert bad.status_code == 422, bad.text
    empty = await api.client.post(
        "/api/v1/collections",
        json={**body(instance[0]["instance_id"]), "instance_ids": []},
        headers=bearer(token),
    )
    assert empty.status_code == 422
    lint = await api.client.post(
        "/api/v1/collections",
        json=body(instance[0]["instance_id"], sql="SELECT nope FROM nowhere"),
        headers=bearer(token),
    )
    assert lint.status_code == 422
