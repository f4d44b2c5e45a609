"""Consent states and one-time sign-in links live in the store: a state made by one `amc serve`
process is taken by another sharing the store (or by the same one after a restart), and two
concurrent uses of one state or link cannot both succeed (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from tests.api.conftest import bearer, make_settings, started
from tests.api.test_executions import BACKENDS
from tests.engine.live import fresh_postgres


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_state_or_link_is_good_once_in_any_process(
    backend: str, tmp_path: Path, clean_env: None
) -> None:
    from amc_manager.service.users import create_signin_link

    database_url = await fresh_postgres() if backend == "postgresql" else None
    settings = make_settings(tmp_path, database_url)
    async with started(settings) as one, started(settings) as two:
        token = await one.token("carol@example.com")
        start = await one.client.get("/api/v1/amazon/connect", headers=bearer(token))
        assert start.status_code == 303, start.text
        callback = start.headers["location"]
        # the browser comes back twice at once, to each process: one connects, one is refused
        answers = await asyncio.gather(one.client.get(callback), two.client.get(callback))
        assert sorted(a.status_code for a in answers) == [200, 400], [a.text for a in answers]
        assert await two.runtime.store.token_row("carol@example.com") is not None

        link = await create_signin_link(one.runtime, "carol@example.com")
        used = await asyncio.gather(
            one.client.get(f"/signin/{link}"), two.client.get(f"/signin/{link}")
        )
        assert sorted(a.status_code for a in used) == [303, 404], [a.text for a in used]
        winner = one if used[0].status_code == 303 else two
        me = await winner.client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["email"] == "carol@example.com"

    async with started(settings) as restarted:  # made before a restart, taken after it
        link = await create_signin_link(restarted.runtime, "carol@example.com")
    async with started(settings) as again:
        assert (await again.client.get(f"/signin/{link}")).status_code == 303
        assert (await again.client.get(f"/signin/{link}")).status_code == 404


async def test_expired_states_and_links_are_refused_and_dropped(
    tmp_path: Path, clean_env: None
) -> None:
    async with started(make_settings(tmp_path)) as api:
        store = api.runtime.store
        now = api.runtime.clock()
        for n in range(2):
            await store.add_consent_state(
                f"{n:064d}",
                email="x@example.com",
                binding="token:x",
                redirect_uri="http://testserver/cb",
                now=now - 700,
                expires_at=now - 100,
            )
        assert await store.take_consent_state(f"{0:064d}", now) is None
        assert await store.take_consent_state(f"{0:064d}", now) is None  # gone, not kept
        stale = hashlib.sha256(b"stale").hexdigest()
        await store.add_signin_link(stale, email="x@example.com", now=now - 60, expires_at=now - 1)
        assert (await api.client.get("/signin/stale")).status_code == 404
        await store.add_consent_state(
            "f" * 64,
            email="x@example.com",
            binding="token:x",
            redirect_uri="http://testserver/cb",
            now=now,
            expires_at=now + 600,
        )
        # making a new one dropped the expired one on the way: not there even for an earlier now
        assert await store.take_consent_state(f"{1:064d}", now - 200) is None
        taken = await store.take_consent_state("f" * 64, now)
        assert taken is not None and taken.email == "x@example.com"
