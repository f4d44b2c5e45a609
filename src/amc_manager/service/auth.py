"""A user's Login with Amazon connection: store a refresh token, or run the consent flow."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from amc_manager.client import Region, Secret
from amc_manager.client.identity import lwa_auth_url
from amc_manager.errors import UsageError
from amc_manager.service.errors import BadConsent
from amc_manager.service.runtime import Runtime

SCOPE = "advertising::campaign_management"
CONSENT_TIMEOUT = 600.0


async def add_token(runtime: Runtime, email: str, token: str) -> None:
    """Store the user's refresh token, encrypted."""
    if not token.strip():
        raise UsageError("no refresh token given", hint="pass --refresh-token TOKEN or pipe it in")
    await runtime.store.ensure_user(email)
    await runtime.token_store().save_refresh_token(email, Secret(token.strip()))


def consent_url(
    runtime: Runtime, *, redirect_uri: str, state: str, identity: int | None = None
) -> str:
    """Login with Amazon's consent page for this application, coming back to `redirect_uri`.
    `identity`: the sandbox's consent page signs in as that identity (its own parameter;
    Amazon's page has no such thing, so it is only sent when given)."""
    base = runtime.endpoints()["lwa_auth_url"] or lwa_auth_url(Region.NA, None)
    query: dict[str, str | int] = {
        "client_id": runtime.credentials().client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    if identity is not None:
        query["sandbox_identity"] = identity
    return f"{base}?{urlencode(query)}"


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


# --- the web's "Connect Amazon" -------------------------------------------------------------

STATE_SECONDS = 10 * 60


@dataclass(frozen=True)
class PendingConsent:
    """Who asked to connect, bound to what (a session's nonce or an API token's key), the
    redirect URI the code is tied to, and until when the state is good."""

    email: str
    binding: str
    redirect_uri: str
    expires: float


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def begin_connect(
    runtime: Runtime,
    email: str,
    *,
    binding: str,
    redirect_uri: str,
    identity: int | None = None,
) -> str:
    """Where to send the user's browser to connect their Amazon account: Login with Amazon's
    consent page with a fresh single-use state, kept hashed in the store (so any `amc serve`
    process sharing it takes the callback). The embedded sandbox is not reachable from a
    browser, and its consent page consents at once, so in sandbox mode the page is visited
    here and the browser goes straight to the callback it answered with; `identity` picks
    which of the sandbox's Login with Amazon identities signs in there (0: the default)."""
    await runtime.store.ensure_user(email)
    state = secrets.token_urlsafe(32)
    now = runtime.clock()
    await runtime.store.add_consent_state(
        _digest(state),
        email=email,
        binding=binding,
        redirect_uri=redirect_uri,
        now=now,
        expires_at=now + STATE_SECONDS,
    )
    url = consent_url(runtime, redirect_uri=redirect_uri, state=state, identity=identity)
    if not runtime.sandbox_mode:
        return url
    consent = await runtime.http.get(url)
    location = consent.headers.get("location")
    if consent.status_code not in (302, 303) or not location:
        raise UsageError(
            "the embedded sandbox's consent page did not consent",
            hint="check the sandbox configuration's client_id (and its identities)",
        )
    return str(location)


async def finish_connect(
    runtime: Runtime,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    binding: str | None,
) -> PendingConsent:
    """The consent's callback: check and consume the state (once, whichever process or
    concurrent request comes first; bound to the same session when it was made with one),
    exchange the code for the user's token (stored encrypted), connect the user to their
    accounts. Returns what the state stood for; a bad, reused or expired state raises
    BadConsent and stores nothing."""
    found = None
    if state:
        found = await runtime.store.take_consent_state(_digest(state), runtime.clock())
    if found is None:
        raise BadConsent(
            "the connection's state is unknown, used or expired",
            hint="start again from Connect Amazon (GET /api/v1/amazon/connect)",
        )
    pending = PendingConsent(found.email, found.binding, found.redirect_uri, found.expires_at)
    if pending.binding.startswith("session:") and binding != pending.binding:
        raise BadConsent(
            "the connection was started in another session",
            hint="start again from Connect Amazon in this browser",
        )
    if error is not None or not code:
        raise BadConsent(
            "Login with Amazon did not grant access",
            hint="start again and allow access on Amazon's consent page",
        )
    await exchange_code(runtime, pending.email, code, pending.redirect_uri)
    from amc_manager.service.access import sync_accounts

    await sync_accounts(runtime, pending.email)
    return pending
