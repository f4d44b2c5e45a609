"""The app's edges: open routes, 401 everywhere else, problem+json, body limit, slashes."""

from __future__ import annotations

from tests.api.conftest import Api, bearer

PROBLEM = "application/problem+json"


async def test_health_and_readiness_are_open(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_every_api_route_needs_credentials(api: Api) -> None:
    spec = (await api.client.get("/api/v1/openapi.json")).json()
    open_routes = {
        "/healthz",
        "/readyz",
        "/api/v1/session",
        "/signin/{token}",
        "/api/v1/amazon/callback",
    }
    checked = 0
    for path, operations in spec["paths"].items():
        if path in open_routes:
            continue
        for method in operations:
            url = path.replace("{", "").replace("}", "")
            answer = await api.client.request(method.upper(), url)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["content-type"] == PROBLEM
            assert answer.headers["www-authenticate"].startswith("Bearer")
            checked += 1
    assert checked > 20


async def test_problems_for_unknown_routes_methods_and_bad_requests(api: Api) -> None:
    token = await api.token()
    unknown = await api.client.get("/api/v1/nothing-here", headers=bearer(token))
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["title"] == "Not Found"
    wrong = await api.client.put("/api/v1/me", headers=bearer(token))
    assert wrong.status_code == 405 and wrong.headers["content-type"] == PROBLEM
    assert "GET" in wrong.headers["allow"]
    bad = await api.client.get("/api/v1/executions?limit=9999", headers=bearer(token))
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"][0]["loc"] == ["query", "limit"]
    body = await api.client.post("/api/v1/tokens", json={"nmae": "x"}, headers=bearer(token))
    assert body.status_code == 422 and body.json()["errors"][0]["loc"] == ["body", "nmae"]


async def test_bodies_over_one_mebibyte_are_refused(api: Api) -> None:
    token = await api.token()
    big = {"sql": "SELECT 1 " + "x" * (1024 * 1024), "instance_id": "amcabcdefgh"}
    refused = await api.client.post("/api/v1/validate", json=big, headers=bearer(token))
    assert refused.status_code == 413 and refused.headers["content-type"] == PROBLEM


async def test_lists_answer_with_and_without_a_trailing_slash(api: Api) -> None:
    headers = bearer(await api.token())
    plain = await api.client.get("/api/v1/instances", headers=headers)
    slashed = await api.client.get("/api/v1/instances/", headers=headers)
    assert plain.status_code == slashed.status_code == 200
    assert plain.json() == slashed.json() and len(plain.json()["items"]) == 2


async def test_every_list_route_pages_with_and_without_a_trailing_slash(api: Api) -> None:
    """Every GET answering a page (from the OpenAPI document, so new lists are covered) takes
    `limit` and answers `{items, next_cursor}` the same with a trailing slash, no redirect."""
    headers = bearer(await api.token())
    spec = (await api.client.get("/api/v1/openapi.json", headers=headers)).json()
    fill = {"instance_id": "amc515g6p1w", "schedule_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}
    checked = []
    for path, operations in spec["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if not schema.get("$ref", "").startswith("#/components/schemas/Page_"):
            continue
        url = path.format(**fill)
        query: dict[str, str | int] = {"limit": 1, "instance_id": fill["instance_id"]}
        plain = await api.client.get(url, params=query, headers=headers)
        slashed = await api.client.get(url + "/", params=query, headers=headers)
        assert slashed.status_code == plain.status_code, (path, slashed.text)
        if plain.status_code == 200:
            assert set(plain.json()) == set(slashed.json()) == {"items", "next_cursor"}, path
            assert len(plain.json()["items"]) <= 1, path
        else:  # an unknown schedule: the same problem, not "no such route"
            assert slashed.json()["detail"] == plain.json()["detail"], path
        checked.append(path)
    assert "/api/v1/instances/{instance_id}/datasources" in checked
    assert len(checked) >= 10, checked


async def test_security_headers_and_no_cors_by_default(api: Api) -> None:
    answer = await api.client.get(
        "/healthz",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "access-control-allow-origin" not in answer.headers
