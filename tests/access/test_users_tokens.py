"""Users (Argon2id passwords, sessions that end at once) and API tokens (shown once, SHA-256
only, constant-time check, expiry, revocation, `last_used_at` at most once a minute)."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from amc_manager.errors import UsageError
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.service.tokens import (
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from amc_manager.service.users import (
    check_password,
    create_user,
    disable_user,
    enable_user,
    list_users,
    session_actor,
    set_password,
    sign_out_everywhere,
    update_user,
)
from amc_manager.store import Role
from tests.access.conftest import A, B, Site

PASSWORD = "correct horse battery"


async def test_users_passwords_and_sessions(site: Site) -> None:
    rt = site.runtime
    created = await create_user(rt, "d@example.com", password=PASSWORD)
    assert created.role == Role.MEMBER and created.has_password
    stored = await rt.store.get_user(email="d@example.com")
    assert stored is not None and stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    for bad in ("d@example.com", "not-an-email"):
        with pytest.raises(UsageError):
            await create_user(rt, bad)
    with pytest.raises(UsageError, match="too short"):
        await create_user(rt, "e@example.com", password="short")

    me = await check_password(rt, "d@example.com", PASSWORD)
    assert me is not None and me.email == "d@example.com"
    assert await check_password(rt, "d@example.com", PASSWORD + "!") is None
    assert await check_password(rt, "nobody@example.com", PASSWORD) is None
    assert await check_password(rt, B, PASSWORD) is None  # B has no password
    assert await session_actor(rt, me.id, me.session_epoch) == me

    await set_password(rt, "d@example.com", "another good one")  # ends the old sessions
    assert await session_actor(rt, me.id, me.session_epoch) is None
    again = await check_password(rt, "d@example.com", "another good one")
    assert again is not None and await session_actor(rt, again.id, again.session_epoch) == again
    await sign_out_everywhere(rt, "d@example.com")
    assert await session_actor(rt, again.id, again.session_epoch) is None
    third = await check_password(rt, "d@example.com", "another good one")
    assert third is not None
    await disable_user(rt, "d@example.com")
    assert await session_actor(rt, third.id, third.session_epoch) is None
    assert await check_password(rt, "d@example.com", "another good one") is None
    await enable_user(rt, "d@example.com")
    assert await check_password(rt, "d@example.com", "another good one") is not None

    listed = {u.email: u for u in await list_users(rt)}
    assert listed[A].role == Role.ADMIN and listed[B].role == Role.MEMBER
    with pytest.raises(NotPermitted):
        await list_users(rt, by=B)
    promoted = await update_user(rt, B, role=Role.ADMIN, by=A)
    assert promoted.role == Role.ADMIN
    with pytest.raises(NotFound):
        await update_user(rt, "ghost@example.com", disabled=True)


async def test_api_tokens(site: Site) -> None:
    rt = site.runtime
    created = await create_token(rt, B, name="ci", expires_in_days=1)
    assert re.fullmatch(r"amc_[A-Za-z0-9_-]{40,}", created.secret)
    async with rt.store.begin() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM api_tokens"))).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(created.secret.encode()).hexdigest()]
    assert not any(created.secret in str(value) for row in rows for value in row)
    [listed] = await list_tokens(rt, B)
    assert listed.to_json().keys() == {"id", "name", "created_at", "expires_at", "last_used_at"}
    assert listed.name == "ci" and listed.last_used_at is None and listed.expires_at

    actor = await authenticate_token(rt, created.secret)
    assert actor is not None and actor.email == B
    first_use = (await list_tokens(rt, B))[0].last_used_at
    assert first_use is not None
    site.clock.ahead += 30
    assert await authenticate_token(rt, created.secret) is not None
    assert (await list_tokens(rt, B))[0].last_used_at == first_use  # at most once a minute
    site.clock.ahead += 31
    assert await authenticate_token(rt, created.secret) is not None
    assert (await list_tokens(rt, B))[0].last_used_at == pytest.approx(rt.clock(), abs=5)
    for wrong in (created.secret[:-1] + "x", "amc_", "", "Bearer " + created.secret):
        assert await authenticate_token(rt, wrong) is None

    site.clock.ahead += 86400
    assert await authenticate_token(rt, created.secret) is None  # expired

    other = await create_token(rt, B)
    assert await authenticate_token(rt, other.secret) is not None
    await disable_user(rt, B)
    assert await authenticate_token(rt, other.secret) is None
    await enable_user(rt, B)
    assert await authenticate_token(rt, other.secret) is not None
    with pytest.raises(NotFound):
        await revoke_token(rt, A, other.view.id)  # not A's token
    assert (await revoke_token(rt, B, other.view.id[:8])).id == other.view.id
    assert await authenticate_token(rt, other.secret) is None
    assert [t.id for t in await list_tokens(rt, B)] == [created.view.id]
    with pytest.raises(UsageError, match="expires-in"):
        await create_token(rt, B, expires_in_days=0)
