"""Login with Amazon: grants, the consent redirect, bearer checks and token expiry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from amc_manager.sandbox.embedded import EmbeddedSandbox
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api


async def test_refresh_grant_form_and_json(embedded: EmbeddedSandbox) -> None:
    config = embedded.sandbox.config
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": config.refresh_token,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
    }
    for response in (
        await embedded.client.post("/auth/o2/token", data=fields),
        await embedded.client.post("/auth/o2/token", json=fields),
    ):
        assert response.status_code == 200
        body = response.json()
        assert body["access_token"].startswith("Atza|")
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 3600
        assert body["refresh_token"] == config.refresh_token
    assert embedded.sandbox.stats.token_grants == 2


async def test_wrong_client_or_token_gets_oauth_400(embedded: EmbeddedSandbox) -> None:
    config = embedded.sandbox.config
    good = {
        "grant_type": "refresh_token",
        "refresh_token": config.refresh_token,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
    }
    wrong_secret = await embedded.client.post(
        "/auth/o2/token", data={**good, "client_secret": "nope"}
    )
    assert wrong_secret.status_code == 400
    assert wrong_secret.json()["error"] == "invalid_client"
    wrong_token = await embedded.client.post(
        "/auth/o2/token", data={**good, "refresh_token": "Atzr|revoked"}
    )
    assert wrong_token.status_code == 400
    assert wrong_token.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }
    bad_type = await embedded.client.post("/auth/o2/token", data={**good, "grant_type": "password"})
    assert bad_type.status_code == 400
    assert bad_type.json()["error"] == "unsupported_grant_type"


async def test_consent_redirect_and_code_exchange(embedded: EmbeddedSandbox) -> None:
    config = embedded.sandbox.config
    redirect = "http://127.0.0.1:9999/callback"
    consent = await embedded.client.get(
        "/ap/oa",
        params={
            "client_id": config.client_id,
            "scope": "advertising::campaign_management",
            "response_type": "code",
            "redirect_uri": redirect,
            "state": "xyz",
        },
    )
    assert consent.status_code == 302
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": redirect,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
    }
    first = await embedded.client.post("/auth/o2/token", data=exchange)
    assert first.status_code == 200
    refresh = first.json()["refresh_token"]
    assert refresh.startswith("Atzr|") and refresh != config.refresh_token
    again = await embedded.client.post("/auth/o2/token", data=exchange)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    renewed = await embedded.client.post(
        "/auth/o2/token",
        data={**exchange, "grant_type": "refresh_token", "refresh_token": refresh},
    )
    assert renewed.status_code == 200


async def test_consent_refuses_unknown_client(embedded: EmbeddedSandbox) -> None:
    response = await embedded.client.get(
        "/ap/oa",
        params={"client_id": "other", "response_type": "code", "redirect_uri": "http://x/cb"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


async def test_missing_unknown_and_expired_bearer_get_401(tmp_path: Path) -> None:
    config = make_config(token_lifetime_seconds=3600, time_scale=3600)
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        ok = await api.request("GET", "/amc/accounts")
        assert ok.status_code == 200
        await asyncio.sleep(1.1)
        expired = await api.request("GET", "/amc/accounts")
        assert expired.status_code == 401
        assert expired.json()["code"] == "401"
        missing = await embedded.client.get(
            "/amc/accounts", headers={"Amazon-Advertising-API-ClientId": config.client_id}
        )
        assert missing.status_code == 401
        unknown = await api.request(
            "GET", "/amc/accounts", headers={"Authorization": "Bearer Atza|made-up"}
        )
        assert unknown.status_code == 401


async def test_expired_token_can_answer_403_like_amc(tmp_path: Path) -> None:
    config = make_config(
        token_lifetime_seconds=3600, time_scale=3600, faults={"expired_token_as_403": True}
    )
    async with EmbeddedSandbox(config, tmp_path) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        await asyncio.sleep(1.1)
        response = await api.request("GET", "/amc/accounts")
        assert response.status_code == 403
        assert response.json() == {"code": "403", "details": "Unauthorized request."}
