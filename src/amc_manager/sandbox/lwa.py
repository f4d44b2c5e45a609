"""Login with Amazon as the sandbox plays it: token grants, the consent redirect, bearer checks."""

from __future__ import annotations

import math
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from amc_manager.sandbox import store as st
from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.errors import SandboxError, Unauthenticated, Unauthorized
from amc_manager.sandbox.identity import Directory

CODE_LIFETIME = 300.0


class OAuthError(SandboxError):
    """An LwA refusal: HTTP 400 with `{"error", "error_description"}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _check_client(config: SandboxConfig, form: dict[str, str]) -> None:
    if (
        form.get("client_id") != config.client_id
        or form.get("client_secret") != config.client_secret
    ):
        raise OAuthError("invalid_client", "Client authentication failed")


async def grant(
    store: st.SandboxStore,
    config: SandboxConfig,
    form: dict[str, str],
    now: float,
    directory: Directory,
) -> dict[str, Any]:
    """`POST /auth/o2/token`: refresh_token and authorization_code grants.

    The access token acts as the refresh token's identity (`directory`); a refresh token
    issued through consent is the default identity's."""
    grant_type = form.get("grant_type")
    if grant_type not in ("refresh_token", "authorization_code"):
        raise OAuthError(
            "unsupported_grant_type", f"The grant type '{grant_type}' is not supported"
        )
    _check_client(config, form)
    lifetime = config.scaled(config.token_lifetime_seconds)
    access = "Atza|" + secrets.token_urlsafe(48)

    def op(conn: Any) -> str:
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            if st.refresh_token_client(conn, refresh) != config.client_id:
                raise OAuthError(
                    "invalid_grant", "The request has an invalid grant parameter : refresh_token"
                )
        else:
            refresh = _exchange_code(conn, form, now)
        identity = directory.identity_of(refresh)
        st.add_access_token(conn, access, config.client_id, now + lifetime, identity)
        return refresh

    refresh_token = await store.transact(op)
    return {
        "access_token": access,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": max(1, math.floor(lifetime)),
    }


def _exchange_code(conn: Any, form: dict[str, str], now: float) -> str:
    found = st.use_auth_code(conn, form.get("code", ""))
    if found is None:
        raise OAuthError("invalid_grant", "The request has an invalid grant parameter : code")
    client_id, redirect_uri, expires = found
    if expires < now:
        raise OAuthError("invalid_grant", "The authorization code has expired")
    if form.get("redirect_uri") != redirect_uri:
        raise OAuthError(
            "invalid_grant", "The redirect_uri does not match the authorization request"
        )
    refresh = "Atzr|" + secrets.token_urlsafe(48)
    st.add_refresh_token(conn, refresh, client_id)
    return refresh


async def authorize(
    store: st.SandboxStore, config: SandboxConfig, params: dict[str, str], now: float
) -> str:
    """`GET /ap/oa`: the user consents at once; returns the redirect with a one-time code."""
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != config.client_id:
        raise OAuthError("invalid_client", "Unknown client_id")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise OAuthError("invalid_request", "redirect_uri must be an http(s) URL")
    code = secrets.token_urlsafe(24)
    await store.transact(
        lambda c: st.add_auth_code(c, code, config.client_id, redirect_uri, now + CODE_LIFETIME)
    )
    query = {"code": code, "scope": params.get("scope", "advertising::campaign_management")}
    if "state" in params:
        query["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(query)}"


async def check_bearer(
    store: st.SandboxStore,
    config: SandboxConfig,
    authorization: str | None,
    client_id: str | None,
    now: float,
    cache: dict[str, tuple[str, float, int]],
) -> int:
    """The identity the bearer acts as; 401 for a missing, unknown or expired bearer (403
    when the config says AMC answers so).

    Issued tokens never change, so `cache` keeps the ones already looked up in this process.
    """
    token = (authorization or "").removeprefix("Bearer ").removeprefix("bearer ").strip()
    found = cache.get(token)
    if found is None and token:
        found = await store.transact(lambda c: st.access_token(c, token))
        if found is not None:
            cache[token] = found
    if found is None or found[1] <= now:
        if config.faults.expired_token_as_403 and found is not None:
            raise Unauthorized()
        raise Unauthenticated("Unauthorized. The access token is missing, invalid or expired.")
    if client_id != found[0]:
        raise Unauthorized()
    return found[2]
