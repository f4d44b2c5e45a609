"""Login with Amazon as the sandbox plays it: token grants, the consent redirect, bearer checks."""

from __future__ import annotations

import math
import secrets
from html import escape
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

    The access token acts as the refresh token's identity: a configured one's (`directory`),
    or the identity that signed in on the consent page that issued it (the default unless
    the consent chose another)."""
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
        identity = st.consent_identity(conn, refresh)
        if identity is None:
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
    code = form.get("code", "")
    found = st.use_auth_code(conn, code)
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
    st.add_refresh_token(conn, refresh, client_id, st.consent_identity(conn, code) or 0)
    return refresh


async def authorize(
    store: st.SandboxStore,
    config: SandboxConfig,
    params: dict[str, str],
    now: float,
    directory: Directory,
) -> str:
    """`GET /ap/oa`: the user consents at once; returns the redirect with a one-time code.

    The sandbox's own parameter `sandbox_identity` (an index into the identities, 0 the
    default) says who signed in; a code (and the refresh token it is exchanged for) acts as
    that identity's account."""
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != config.client_id:
        raise OAuthError("invalid_client", "Unknown client_id")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise OAuthError("invalid_request", "redirect_uri must be an http(s) URL")
    identity = chosen_identity(params, directory)
    code = secrets.token_urlsafe(24)
    await store.transact(
        lambda c: st.add_auth_code(
            c, code, config.client_id, redirect_uri, now + CODE_LIFETIME, identity
        )
    )
    query = {"code": code, "scope": params.get("scope", "advertising::campaign_management")}
    if "state" in params:
        query["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(query)}"


def chosen_identity(params: dict[str, str], directory: Directory) -> int:
    """The identity a consent signs in as: `sandbox_identity`, else the default."""
    raw = params.get("sandbox_identity")
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) >= len(directory.accounts):
        raise OAuthError(
            "invalid_request",
            f"sandbox_identity must be 0 to {len(directory.accounts) - 1} "
            "(the sandbox configuration's identities)",
        )
    return int(raw)


def sign_in_page(params: dict[str, str], directory: Directory) -> str | None:
    """For a browser, when the sandbox has several identities and none was chosen: a page
    listing them (as Amazon's sign-in page comes before its consent), each a link to this
    consent with `sandbox_identity`. None when there is nothing to choose."""
    if "sandbox_identity" in params or len(directory.accounts) < 2:
        return None
    items = []
    for number, account in enumerate(directory.accounts):
        link = "/ap/oa?" + urlencode({**params, "sandbox_identity": str(number)})
        label = f"{account.name} ({account.account_id})" + (" - default" if number == 0 else "")
        items.append(f'<li><a href="{escape(link)}">{escape(label)}</a></li>')
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sign in - AMC sandbox</title></head><body>"
        "<h1>Sign in to the AMC sandbox</h1><p>Choose the Login with Amazon identity that "
        "allows access:</p><ul>" + "".join(items) + "</ul></body></html>"
    )


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
