"""No secret in any log line: API tokens, passwords, session cookies, one-time sign-in links,
Login with Amazon codes and tokens, with logging at DEBUG and the access log on."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.conftest import SQL, bearer, make_settings, started, wait_done
from tests.api.test_executions import first_instance
from tests.windows import window_fields

PASSWORD = "planted password 7f3a9c"
REFRESH = "Atzr|planted-refresh-token-51c0ffee"


async def test_secrets_never_reach_the_logs(
    tmp_path: Path, clean_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, sandbox={"refresh_token": REFRESH})
    planted: list[str] = [PASSWORD, REFRESH]
    async with started(settings, worker=True) as api:
        from amc_manager.service.auth import consent_url, exchange_code
        from amc_manager.service.users import create_signin_link, create_user

        await create_user(api.runtime, "a@example.com", password=PASSWORD)
        signed = await api.client.post(
            "/api/v1/session", json={"email": "a@example.com", "password": PASSWORD}
        )
        assert signed.status_code == 200
        planted += [api.client.cookies["amc_session"], signed.json()["csrf_token"]]
        made = await api.client.post(
            "/api/v1/tokens", json={}, headers={"X-CSRF-Token": signed.json()["csrf_token"]}
        )
        token = made.json()["token"]
        planted.append(token)
        api.client.cookies.clear()
        link = await create_signin_link(api.runtime, "local@amc-manager")
        planted.append(link)
        assert (await api.client.get(f"/signin/{link}")).status_code == 303
        api.client.cookies.clear()
        redirect = "http://127.0.0.1:9/callback"
        consent = await api.runtime.http.get(
            consent_url(api.runtime, redirect_uri=redirect, state="s")
        )
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        planted.append(code)
        await exchange_code(api.runtime, "a@example.com", code, redirect)
        wrong = await api.client.get("/api/v1/me", headers=bearer(token + "x"))
        assert wrong.status_code == 401
        admin = await api.token()
        planted.append(admin)
        body = {"instance_id": await first_instance(api, admin), "sql": SQL, **window_fields()}
        run = await api.client.post(
            f"/api/v1/executions?token={admin}", json=body, headers=bearer(admin)
        )
        done = await wait_done(api, admin, run.json()["id"])
        assert done["state"] == "succeeded"
        access = await api.runtime.token_store().access_token("local@amc-manager")
        assert access is not None
        planted.append(access.value.reveal())
    # httpx logs the test's own requests to the app (its URLs, as the test wrote them): that
    # is the caller's log, not the server's, and is left out.
    text = "\n".join(
        r.getMessage() for r in caplog.records if "http://testserver/" not in r.getMessage()
    )
    assert "amc_manager.api.access" in {r.name for r in caplog.records}  # the access log ran
    assert "/signin/{token}" in text and "POST /api/v1/executions 201" in text
    leaked = [(i, line) for line in text.splitlines() for i, s in enumerate(planted) if s in line]
    assert leaked == []
