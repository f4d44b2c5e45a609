"""Tokens: the store interface, an in-memory store and the coalescing LwA refresher.

Access tokens are global (amc-api.md 1: a token from any region's LwA host works in every
region), so one `TokenManager` serves a user in every region; each grant goes to the token
host of the region that needed it (`token_url=`), else to the manager's default host.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from amc_manager.client.audit import AuditContext, AuditSink, audit_scope, install_audit_hooks
from amc_manager.client.crypto import TokenCipher
from amc_manager.client.errors import (
    AmcError,
    AmcTransportError,
    AuthenticationError,
    ReauthenticationRequired,
    ServerError,
)
from amc_manager.client.responses import map_error, transport_errors
from amc_manager.client.retry import RetryPolicy
from amc_manager.client.secret import Secret

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class AccessToken:
    """An LwA access token and the moment (epoch seconds) it stops working."""

    value: Secret
    expires_at: float


@dataclass(frozen=True)
class LwaCredentials:
    """The LwA application's client id and secret."""

    client_id: str
    client_secret: Secret


class TokenStore(Protocol):
    """Where a user's refresh token (and the current access token) are kept."""

    async def refresh_token(self, user: str) -> Secret | None: ...

    async def save_refresh_token(self, user: str, token: Secret) -> None: ...

    async def access_token(self, user: str) -> AccessToken | None: ...

    async def save_access_token(self, user: str, token: AccessToken) -> None: ...


class InMemoryTokenStore:
    """A process-local store; with a cipher it keeps only ciphertext, as the database will."""

    def __init__(self, cipher: TokenCipher | None = None) -> None:
        self._cipher = cipher
        self._refresh: dict[str, bytes | Secret] = {}
        self._access: dict[str, AccessToken] = {}

    def _seal(self, token: Secret) -> bytes | Secret:
        return self._cipher.encrypt(token) if self._cipher else token

    def _open(self, sealed: bytes | Secret) -> Secret:
        if isinstance(sealed, Secret):
            return sealed
        if self._cipher is None:
            raise ReauthenticationRequired("the stored token is encrypted and no key is set")
        return self._cipher.decrypt(sealed)

    async def refresh_token(self, user: str) -> Secret | None:
        sealed = self._refresh.get(user)
        return None if sealed is None else self._open(sealed)

    async def save_refresh_token(self, user: str, token: Secret) -> None:
        self._refresh[user] = self._seal(token)

    async def access_token(self, user: str) -> AccessToken | None:
        return self._access.get(user)

    async def save_access_token(self, user: str, token: AccessToken) -> None:
        self._access[user] = token

    def sealed_refresh_token(self, user: str) -> bytes | Secret | None:
        """What is actually kept (ciphertext with a cipher), for inspection."""
        return self._refresh.get(user)


class TokenManager:
    """Hands out a valid access token for one user, refreshing before expiry.

    Refreshes are coalesced: callers that found the same stale token wait for one grant and
    share its result, so 50 concurrent calls with an expired token cause one LwA request.
    Every grant is audited to `audit` (kind `token`).
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        token_url: str,
        credentials: LwaCredentials,
        store: TokenStore,
        user: str,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._credentials = credentials
        self._store = store
        self.user = user
        self._margin = refresh_margin
        self._clock = clock
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._audit = audit
        self._lock = asyncio.Lock()
        self._lifetime: float | None = None
        # The token last read or granted, and when: while fresh it serves calls for up to
        # `reread_seconds` without a store read (a worker makes several calls a second).
        self._held: tuple[AccessToken, float] | None = None
        self.reread_seconds = 60.0
        self.grants = 0
        install_audit_hooks(http)

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    def _fresh(self, token: AccessToken | None) -> bool:
        """Valid beyond the margin; a short-lived token keeps at least a quarter of its life."""
        if token is None:
            return False
        margin = min(self._margin, self._lifetime / 4) if self._lifetime else self._margin
        return token.expires_at - margin > self._clock()

    async def current(self, *, token_url: str | None = None) -> Secret:
        """A token that is valid for at least the refresh margin (proactive refresh)."""
        held = self._held
        if (
            held is not None
            and self._fresh(held[0])
            and self._clock() - held[1] < self.reread_seconds
        ):
            return held[0].value
        token = await self._store.access_token(self.user)
        if token is not None and self._fresh(token):
            self._hold(token)
            return token.value
        return await self.refresh(stale=token.value if token else None, token_url=token_url)

    def _hold(self, token: AccessToken) -> None:
        self._held = (token, self._clock())

    async def expires_at(self) -> float | None:
        token = await self._store.access_token(self.user)
        return None if token is None else token.expires_at

    async def refresh(self, *, stale: Secret | None, token_url: str | None = None) -> Secret:
        """Get a new access token unless another caller already replaced `stale`."""
        async with self._lock:
            self._held = None  # a token AMC refused is never handed out again
            token = await self._store.access_token(self.user)
            if token is not None and token.value != stale and self._fresh(token):
                self._hold(token)
                return token.value
            fresh = await self._grant(token_url or self._token_url)
            await self._store.save_access_token(self.user, fresh)
            self._hold(fresh)
            return fresh.value

    async def exchange_code(
        self, code: str, redirect_uri: str, *, token_url: str | None = None
    ) -> None:
        """The first grant: trade a consent's code for the user's refresh token (stored) and
        an access token. A code is single-use, so a lost answer is not retried."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret.reveal(),
        }
        async with self._lock:
            body = await self._token_request(
                form, token_url or self._token_url, "lwa.authorization_code", retried=False
            )
            if not body.get("refresh_token"):
                raise ReauthenticationRequired(
                    "Login with Amazon's answer carried no refresh token"
                )
            await self._store.save_refresh_token(self.user, Secret(body["refresh_token"]))
            self._held = None
            await self._store.save_access_token(self.user, self._access_token(body))

    async def _grant(self, token_url: str) -> AccessToken:
        refresh_token = await self._store.refresh_token(self.user)
        if refresh_token is None:
            raise ReauthenticationRequired(f"no refresh token is stored for {self.user}")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.reveal(),
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret.reveal(),
        }
        body = await self._token_request(form, token_url, "lwa.token", retried=True)
        if body.get("refresh_token") and body["refresh_token"] != refresh_token.reveal():
            await self._store.save_refresh_token(self.user, Secret(body["refresh_token"]))
        return self._access_token(body)

    def _access_token(self, body: dict[str, Any]) -> AccessToken:
        self.grants += 1
        lifetime = float(body.get("expires_in", 3600))
        self._lifetime = lifetime
        return AccessToken(Secret(body["access_token"]), self._clock() + lifetime)

    async def _token_request(
        self, form: dict[str, str], token_url: str, operation: str, *, retried: bool
    ) -> dict[str, Any]:
        """POST to LwA's token endpoint, audited; unreachable or 5xx retried when `retried`."""
        path = urlsplit(token_url).path
        context = AuditContext(self.user, None, operation, kind="token")
        retry_on: tuple[type[AmcError], ...] = (AmcTransportError, ServerError) if retried else ()

        async def post(attempt: int) -> dict[str, Any]:
            with (
                audit_scope(context, self._audit, attempt),
                transport_errors("POST", path, host="Login with Amazon"),
            ):
                response = await self._http.post(token_url, data=form)
            if response.status_code >= 500:
                raise map_error(response, method="POST", path=path, account_id=None)
            if response.status_code != 200:
                raise _lwa_error(response, operation, path)
            body: dict[str, Any] = response.json()
            return body

        return await self._retry.run(post, self._sleep, retry_on)


def _lwa_error(response: httpx.Response, operation: str, path: str) -> AmcError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    if error == "invalid_grant":
        what = "code" if operation == "lwa.authorization_code" else "stored grant"
        return ReauthenticationRequired(f"Login with Amazon refused the {what} ({error})")
    return AuthenticationError(
        f"{error or 'error'}: {description or response.reason_phrase}",
        method="POST",
        path=path,
        status=response.status_code,
        code=error or None,
        hint="Check AMAZON_CLIENT_ID and AMAZON_CLIENT_SECRET (the LwA application's).",
    )
