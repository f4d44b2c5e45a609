"""A user's Login with Amazon connection: store a refresh token, or run the consent flow."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from amc_manager.client import Region, Secret
from amc_manager.client.identity import lwa_auth_url
from amc_manager.errors import UsageError
from amc_manager.service.runtime import Runtime

SCOPE = "advertising::campaign_management"
CONSENT_TIMEOUT = 600.0


async def add_token(runtime: Runtime, email: str, token: str) -> None:
    """Store the user's refresh token, encrypted."""
    if not token.strip():
        raise UsageError("no refresh token given", hint="pass --refresh-token TOKEN or pipe it in")
    await runtime.store.ensure_user(email)
    await runtime.token_store().save_refresh_token(email, Secret(token.strip()))


def consent_url(runtime: Runtime, *, redirect_uri: str, state: str) -> str:
    """Login with Amazon's consent page for this application, coming back to `redirect_uri`."""
    base = runtime.endpoints()["lwa_auth_url"] or lwa_auth_url(Region.NA, None)
    query = urlencode(
        {
            "client_id": runtime.credentials().client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{base}?{query}"


async def exchange_code(runtime: Runtime, email: str, code: str, redirect_uri: str) -> None:
    """Trade the consent's code for a refresh token (audited like every grant) and store it."""
    await runtime.store.ensure_user(email)
    client = await runtime.client(email)
    await client.tokens.exchange_code(code, redirect_uri)


async def login_on_loopback(
    runtime: Runtime, email: str, *, port: int, announce: Callable[[str], None]
) -> None:
    """The consent flow for a terminal: `announce` the consent URL, receive the code on a
    loopback callback, exchange it. The embedded sandbox's consent page answers at once."""
    state = secrets.token_urlsafe(16)
    received: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode(errors="replace")
        query = parse_qs(urlsplit(line.split(" ")[1] if " " in line else "/").query)
        ok = query.get("state") == [state] and "code" in query
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            + (b"amc-manager: you may close this page." if ok else b"bad callback")
        )
        await writer.drain()
        writer.close()
        if ok and not received.done():
            received.set_result(query["code"][0])

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    redirect = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/callback"
    url = consent_url(runtime, redirect_uri=redirect, state=state)
    announce(url)
    async with server:
        if runtime.embedded is not None or runtime.sandbox_mode:
            consent = await runtime.http.get(url)
            async with httpx.AsyncClient() as plain:
                await plain.get(consent.headers["location"])
        code = await asyncio.wait_for(received, CONSENT_TIMEOUT)
    await exchange_code(runtime, email, code, redirect)
