"""API tokens for programs: create (shown once), list, revoke, and authenticate a request.

A token is `amc_` followed by 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored; a presented token is hashed, looked up by hash and compared in constant time. Its
`last_used_at` is written at most once a minute, so authenticating stays a read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from amc_manager.errors import UsageError
from amc_manager.service.access import Actor, actor
from amc_manager.service.errors import NotFound
from amc_manager.service.executions import iso
from amc_manager.service.runtime import Runtime
from amc_manager.store.rows import ApiTokenRow

PREFIX = "amc_"
TOUCH_EVERY = 60.0
MAX_DAYS = 3650
MIN_ID_PREFIX = 6


@dataclass(frozen=True)
class TokenView:
    """A token as listed: never the token itself."""

    id: str
    name: str | None
    created_at: float
    expires_at: float | None
    last_used_at: float | None

    @classmethod
    def of(cls, row: ApiTokenRow) -> TokenView:
        return cls(row.id, row.name, row.created_at, row.expires_at, row.last_used_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
        }


@dataclass(frozen=True)
class CreatedToken:
    """A new token: `secret` is shown to its owner this once and never again."""

    secret: str
    view: TokenView


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    runtime: Runtime, email: str, *, name: str | None = None, expires_in_days: float | None = None
) -> CreatedToken:
    """A new API token for the user, valid until revoked or for `expires_in_days`."""
    me = await actor(runtime, email)
    if expires_in_days is not None and not 0 < expires_in_days <= MAX_DAYS:
        raise UsageError(
            f"--expires-in must be between 1 and {MAX_DAYS} days", hint="e.g. --expires-in 90"
        )
    if name is not None and len(name) > 200:
        raise UsageError("the token's name is too long (at most 200 characters)")
    secret = PREFIX + secrets.token_urlsafe(32)
    expires = None if expires_in_days is None else runtime.clock() + expires_in_days * 86400
    row = await runtime.store.add_api_token(
        me.id, name=name, token_hash=token_hash(secret), expires_at=expires
    )
    return CreatedToken(secret, TokenView.of(row))


async def list_tokens(runtime: Runtime, email: str) -> list[TokenView]:
    """The user's tokens not revoked, newest first."""
    me = await actor(runtime, email)
    return [TokenView.of(r) for r in await runtime.store.list_api_tokens(me.id)]


async def revoke_token(runtime: Runtime, email: str, ref: str, *, full: bool = False) -> TokenView:
    """Revoke one of the user's tokens (its id, or a unique prefix of 6+ characters unless
    `full`, as the REST API takes full ids); it is refused at once."""
    me = await actor(runtime, email)
    mine = await runtime.store.list_api_tokens(me.id)
    matches = [r for r in mine if r.id == ref] or (
        [r for r in mine if r.id.startswith(ref)] if len(ref) >= MIN_ID_PREFIX and not full else []
    )
    if len(matches) != 1:
        if matches:
            raise UsageError(f"token prefix {ref} is ambiguous", hint="give more of the id")
        raise NotFound(f"unknown token {ref}", hint="see `amc tokens list`")
    await runtime.store.revoke_api_token(me.id, matches[0].id)
    return TokenView.of(matches[0])


async def authenticate_token(runtime: Runtime, token: str) -> Actor | None:
    """The actor a presented API token stands for; None when it is unknown, revoked, expired,
    or its user is disabled."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    presented = token_hash(token)
    found = await runtime.store.token_caller(presented)
    if found is None:
        return None
    row, user = found
    now = runtime.clock()
    if (
        not hmac.compare_digest(row.token_hash, presented)
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
        or user.disabled
    ):
        return None
    if row.last_used_at is None or row.last_used_at <= now - TOUCH_EVERY:
        await runtime.store.touch_api_token(row.id, now, every=TOUCH_EVERY)
    return Actor.of(user)
