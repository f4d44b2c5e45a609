"""The pages without a browser: sign-in redirects, the 404 page, CSP, and `amc serve`'s
answer when the browser assets are not built (the API still serves, one warning logged)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from amc_manager.web.assets import load_assets
from tests.api.conftest import Api, clean_env, make_settings, started

__all__ = ["clean_env"]
PAGES = ["/", "/instances", "/editor", "/executions", "/executions/x", "/tokens", "/admin"]


@pytest.fixture
async def web(tmp_path: Path, clean_env: None) -> AsyncIterator[Api]:
    async with started(make_settings(tmp_path)) as opened:
        yield opened


async def signed_in(api: Api, email: str, *, admin: bool = False) -> None:
    from amc_manager.service.users import create_user

    await create_user(api.runtime, email, admin=admin, password="correct horse 1")
    answer = await api.client.post(
        "/api/v1/session", json={"email": email, "password": "correct horse 1"}
    )
    assert answer.status_code == 200


async def test_without_a_session_every_page_goes_to_sign_in(web: Api) -> None:
    for path in PAGES:
        answer = await web.client.get(path + "?a=1")
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/signin?next={path.replace('/', '%2F')}%3Fa%3D1"
    page = await web.client.get("/signin")
    assert page.status_code == 200 and 'id="signin"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert 'src="http' not in page.text and 'href="http' not in page.text  # no CDN


async def test_pages_of_what_a_member_cannot_use_are_404_pages(web: Api) -> None:
    await signed_in(web, "member@example.com")
    for path in ("/executions/0f0f0f0f-0000-0000-0000-000000000000", "/admin", "/admin/audit"):
        answer = await web.client.get(path)
        if path == "/admin/audit":  # the audit page shows a member their own rows
            assert answer.status_code == 200
            continue
        assert answer.status_code == 404, path
        assert "text/html" in answer.headers["content-type"]
        assert "404" in answer.text and "member@example.com" in answer.text
    listed = await web.client.get("/instances")
    assert listed.status_code == 200 and "No instances yet" in listed.text


async def test_without_built_assets_pages_answer_503_and_the_api_serves(
    web: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await signed_in(web, "admin@example.com", admin=True)
    app = web.client._transport.app  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="amc_manager.web"):
        app.state.web_assets = load_assets(tmp_path / "no-build")
    warnings = [r for r in caplog.records if r.name == "amc_manager.web"]
    assert len(warnings) == 1 and "make assets" in warnings[0].getMessage()
    for path in ("/", "/editor", "/signin"):
        answer = await web.client.get(path)
        assert answer.status_code == 503, path
        assert "make assets" in answer.text
    assert (await web.client.get("/api/v1/me")).status_code == 200
    assert (await web.client.get("/healthz")).status_code == 200
