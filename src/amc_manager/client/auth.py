"""The httpx auth flow for AMC: bearer and client id on every call, one refresh-and-replay."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Generator

import httpx

from amc_manager.client.tokens import TokenManager

UNAUTHORIZED_DETAILS = "Unauthorized request."


def _looks_like_expired_credentials(response: httpx.Response) -> bool:
    """401 always; a 403 `Unauthorized request.` too, since AMC answers so for expired tokens."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return False
    text = body.get("details") or body.get("message") if isinstance(body, dict) else None
    return text == UNAUTHORIZED_DETAILS


class AmcAuth(httpx.Auth):
    """Attach a valid token; on a refusal refresh once (coalesced) and replay once.

    A second refusal is returned as is, and the client maps it to a permission or
    authentication error. Tokens never leave this flow except in the Authorization header.
    Grants go to `token_url`: the token host of the region the request is for.
    """

    def __init__(self, tokens: TokenManager, token_url: str) -> None:
        self._tokens = tokens
        self.token_url = token_url

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("AmcAuth is async-only; use httpx.AsyncClient")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.current(token_url=self.token_url)
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        request.headers["Amazon-Advertising-API-ClientId"] = self._tokens.client_id
        response = yield request
        if response.status_code == 403:
            await response.aread()  # the body tells an expired token from a wrong id
        if not _looks_like_expired_credentials(response):
            return
        token = await self._tokens.refresh(stale=token, token_url=self.token_url)
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        yield request
