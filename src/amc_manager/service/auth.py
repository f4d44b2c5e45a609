"""A user's Login with Amazon connection: store a refresh token, or run the consent flow."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


# --- the web's "Connect Amazon" -------------------------------------------------------------

STATE_SECONDS = 10 * 60
MAX_PENDING = 10_000


@dataclass(frozen=True)
class PendingConsent:
    """Who asked to connect, bound to what (a session's nonce or an API token's key), the
    redirect URI the code is tied to, and until when the state is good."""

    email: str
    binding: str
    redirect_uri: str
    expires: float


@dataclass
class ConsentStates:
    """Single-use `state` values of consents under way, kept in this process as hashes (a
    state is only good in the process that made it, like the one-time sign-in links)."""

    lifetime: float = STATE_SECONDS
    clock: Callable[[], float] = time.time
    _pending: dict[str, PendingConsent] = field(default_factory=dict)

    def create(self, email: str, binding: str, redirect_uri: str) -> str:
        now = self.clock()
        if len(self._pending) >= MAX_PENDING:  # forget the expired ones before growing
            self._pending = {k: v for k, v in self._pending.items() if v.expires >= now}
        state = secrets.token_urlsafe(32)
        self._pending[_digest(state)] = PendingConsent(
            email, binding, redirect_uri, now + self.lifetime
        )
        return state

    def redeem(self, state: str) -> PendingConsent | None:
        """The consent a state stands for, once; None when unknown, used or expired."""
        found = self._pending.pop(_digest(state), None)
        if found is None or found.expires < self.clock():
            return None
        return found


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def begin_connect(
    runtime: Runtime, states: ConsentStates, email: str, *, binding: str, redirect_uri: str
) -> str:
    """Where to send the user's browser to connect their Amazon account: Login with Amazon's
    consent page with a fresh single-use state. The embedded sandbox is not reachable from a
    browser, and its consent page consents at once, so in sandbox mode the page is visited
    here and the browser goes straight to the callback it answered with."""
    await runtime.store.ensure_user(email)
    state = states.create(email, binding, redirect_uri)
    url = consent_url(runtime, redirect_uri=redirect_uri, state=state)
    if not runtime.sandbox_mode:
        return url
    consent = await runtime.http.get(url)
    location = consent.headers.get("location")
    if consent.status_code not in (302, 303) or not location:
        raise UsageError(
            "the embedded sandbox's consent page did not consent",
            hint="check the sandbox configuration's client_id",
        )
    return str(location)


async def finish_connect(
    runtime: Runtime,
    states: ConsentStates,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    binding: str | None,
) -> PendingConsent:
    """The consent's callback: check and consume the state (bound to the same session when it
    was made with one), exchange the code for the user's token (stored encrypted), connect
    the user to their accounts. Returns what the state stood for; a bad, reused or
    expired state raises BadConsent and stores nothing."""
    pending = states.redeem(state) if state else None
    if pending is None:
        raise BadConsent(
            "the connection's state is unknown, used or expired",
            hint="start again from Connect Amazon (GET /api/v1/amazon/connect)",
        )
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
