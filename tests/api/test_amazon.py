"""Connecting a user's Amazon account over REST against the embedded sandbox's consent page:
the state is single-use and bound to the session, disconnecting removes access, and each
sandbox identity's user reaches its own account's instances only."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from amc_manager.config import DEFAULT_USER
from amc_manager.service.auth import consent_url
from tests.api.conftest import Api, bearer

PROBLEM = "application/problem+json"
PASSWORD = "correct horse 1"
CALLBACK = "http://testserver/api/v1/amazon/callback"


@asynccontextmanager
async def _signed_in(api: Api, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (cookie jar) signed in as `email`, sending its CSRF token."""
    await api.token(email)  # creates the user with PASSWORD
    transport = httpx.ASGITransport(app=api.client._transport.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        answer = await browser.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        browser.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield browser


async def _instance_ids(client: httpx.AsyncClient, **headers: str) -> set[str]:
    answer = await client.get("/api/v1/instances", headers=headers)
    assert answer.status_code == 200, answer.text
    return {i["instance_id"] for i in answer.json()["items"]}


async def _sandbox_instances(api: Api) -> set[str]:
    default = await api.runtime.store.get_user(email=DEFAULT_USER)
    assert default is not None
    rows = await api.runtime.store.list_instances(default.id)
    return {r.instance_id for r in rows}


async def _consent(browser: httpx.AsyncClient) -> str:
    """Connect Amazon: the callback URL the consent page sent the browser back to."""
    start = await browser.get("/api/v1/amazon/connect")
    assert start.status_code == 303, start.text
    location = start.headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    query = parse_qs(urlsplit(location).query)
    assert query["code"] and query["state"]
    return location


async def test_a_user_connects_through_the_consent_page_and_sees_the_instances(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with _signed_in(api, "alice@example.com") as browser:
        assert await _instance_ids(browser) == set()
        callback = await _consent(browser)
        done = await browser.get(callback)
        assert done.status_code == 303 and done.headers["location"] == "/", done.text
        expected = await _sandbox_instances(api)
        assert expected and await _instance_ids(browser) == expected
        listed = (await browser.get("/api/v1/instances")).json()["items"]
        assert {i["access"] for i in listed} == {"connected"}
        assert await api.runtime.store.token_row("alice@example.com") is not None

        replay = await browser.get(callback)
        assert replay.status_code == 400, replay.text
        assert replay.headers["content-type"] == PROBLEM

        gone = await browser.delete("/api/v1/amazon/connection")
        assert gone.status_code == 200 and gone.json() == {"accounts": 1}, gone.text
        assert await _instance_ids(browser) == set()
        some = next(iter(expected))
        assert (await browser.get(f"/api/v1/instances/{some}")).status_code == 404
        assert await api.runtime.store.token_row("alice@example.com") is None
    secrets = [parse_qs(urlsplit(callback).query)[k][0] for k in ("code", "state")]
    # httpx logs the test's own requests to the app as the test wrote them; the app's lines
    # (and its requests to the sandbox) must not carry the code or the state.
    lines = [r.getMessage() for r in caplog.records if "http://testserver/" not in r.getMessage()]
    assert lines and not [line for line in lines if any(s in line for s in secrets)]


async def test_forged_state_and_another_session_are_refused_and_store_nothing(api: Api) -> None:
    async with _signed_in(api, "bob@example.com") as browser:
        # a real, fresh code from the consent page, with a state this app never made
        page = consent_url(api.runtime, redirect_uri=CALLBACK, state="forged-state")
        forged = (await api.runtime.http.get(page)).headers["location"]
        refused = await browser.get(forged)
        assert refused.status_code == 400 and refused.headers["content-type"] == PROBLEM
        assert (await browser.get("/api/v1/amazon/callback")).status_code == 400

        # a callback started in bob's session but completed in another browser (no session)
        callback = await _consent(browser)
        elsewhere = await api.client.get(callback)
        assert elsewhere.status_code == 400, elsewhere.text
        assert "session" in elsewhere.json()["detail"]
        # the state was consumed by that attempt: bob cannot finish with it either
        assert (await browser.get(callback)).status_code == 400
        assert await api.runtime.store.token_row("bob@example.com") is None
        assert await _instance_ids(browser) == set()


async def test_an_api_client_connects_with_its_token_and_gets_json(api: Api) -> None:
    token = await api.token("carol@example.com")
    start = await api.client.get("/api/v1/amazon/connect", headers=bearer(token))
    assert start.status_code == 303, start.text
    done = await api.client.get(start.headers["location"])  # the browser: no credentials
    assert done.status_code == 200, done.text
    body = done.json()
    expected = await _sandbox_instances(api)
    assert body["email"] == "carol@example.com"
    assert {i["instance_id"] for i in body["instances"]} == expected
    assert await _instance_ids(api.client, **bearer(token)) == expected


async def test_each_identity_reaches_its_own_account_only(api: Api) -> None:
    """alice consents as the sandbox's default identity, dave as its second identity, both
    through the consent page; neither reaches the other's instances."""
    async with _signed_in(api, "alice@example.com") as browser:
        assert (await browser.get(await _consent(browser))).status_code == 303
        alice = await _instance_ids(browser)
    dave_token = await api.token("dave@example.com")
    start = await api.client.get(
        "/api/v1/amazon/connect?sandbox_identity=1", headers=bearer(dave_token)
    )
    assert start.status_code == 303, start.text
    done = await api.client.get(start.headers["location"])
    assert done.status_code == 200, done.text
    dave = await _instance_ids(api.client, **bearer(dave_token))
    assert dave == {i["instance_id"] for i in done.json()["instances"]}
    assert alice == await _sandbox_instances(api)
    assert dave and not alice & dave
    for other in alice:
        answer = await api.client.get(f"/api/v1/instances/{other}", headers=bearer(dave_token))
        assert answer.status_code == 404
    unknown = await api.client.get(
        "/api/v1/amazon/connect?sandbox_identity=7", headers=bearer(dave_token)
    )
    assert unknown.status_code == 400 and unknown.headers["content-type"] == PROBLEM


async def test_a_browser_chooses_the_identity_on_the_sandbox_consent_page(api: Api) -> None:
    """As Amazon's sign-in comes before its consent, a browser (Accept: text/html) on the
    sandbox's consent page with several identities gets a page listing them; each link is
    the same consent with its choice, answered by the redirect with a code and the state."""
    page = consent_url(api.runtime, redirect_uri=CALLBACK, state="st-1")
    listing = await api.runtime.http.get(page, headers={"Accept": "text/html"})
    assert listing.status_code == 200 and listing.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', listing.text)
    assert len(links) == 2 and all("sandbox_identity=" in link for link in links)
    chosen = await api.runtime.http.get(html.unescape(links[1]))
    assert chosen.status_code == 302
    back = parse_qs(urlsplit(chosen.headers["location"]).query)
    assert back["state"] == ["st-1"] and back["code"]
    # a program (no text/html) is answered at once, as the default identity
    direct = await api.runtime.http.get(page)
    assert direct.status_code == 302
