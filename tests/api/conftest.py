"""Fixtures: the REST API in-process (httpx's ASGI transport) over a real store and the
embedded sandbox, with the app's lifespan run as `amc serve` runs it."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from amc_manager.api import create_app
from amc_manager.api.deps import ApiState
from amc_manager.config import DEFAULT_USER, Settings
from amc_manager.service.runtime import Runtime
from amc_manager.store import TERMINAL_STATES
from tests.waiting import eventually

SECOND_TOKEN = "sandbox-second-identity-refresh-token"
SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


def make_settings(tmp_path: Path, database_url: str | None = None, **extra: Any) -> Settings:
    """Embedded-mode settings in a private AMC_HOME; a second sandbox identity for user B."""
    knobs = {
        "duration": "0.3",
        "throttle_rate": 0,
        "stats_enabled": True,
        "identities": [{"refresh_token": SECOND_TOKEN}],
        **extra.pop("sandbox", {}),
    }
    config = tmp_path / "sandbox.json"
    config.write_text(json.dumps(knobs))
    values: dict[str, Any] = {
        "AMC_HOME": str(tmp_path / "home"),
        "AMC_SANDBOX_CONFIG": str(config),
        "AMC_POLL_INTERVAL": 0.2,
        "AMC_LEASE_SECONDS": 10,
        "AMC_REQUEST_RATE": 0,
    }
    if database_url:
        values["AMC_DATABASE_URL"] = database_url
    values.update(extra)
    return Settings(**values)


@dataclass
class Api:
    """A started app: its HTTP client, its state, and helpers to make users and tokens."""

    client: httpx.AsyncClient
    state: ApiState

    @property
    def runtime(self) -> Runtime:
        return self.state.runtime

    async def token(self, email: str = DEFAULT_USER, *, admin: bool = False) -> str:
        """An API token for `email` (created as a user when new)."""
        from amc_manager.service.tokens import create_token
        from amc_manager.service.users import create_user

        if await self.runtime.store.get_user(email=email) is None:
            await create_user(self.runtime, email, admin=admin, password="correct horse 1")
        return (await create_token(self.runtime, email)).secret

    async def connect_second(self, email: str) -> str:
        """`email` connects the sandbox's second identity (another account); its instance id."""
        from amc_manager.service.access import sync_accounts
        from amc_manager.service.auth import add_token

        await add_token(self.runtime, email, SECOND_TOKEN)
        rows = await sync_accounts(self.runtime, email)
        return rows[0].instance_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def wait_done(
    api: Api, token: str, execution_id: str, *, seconds: float = 30.0
) -> dict[str, Any]:
    """The execution over REST once it ended."""

    async def read() -> dict[str, Any]:
        got = await api.client.get(f"/api/v1/executions/{execution_id}", headers=bearer(token))
        item: dict[str, Any] = got.json()
        return item

    return await eventually(read, lambda item: item["state"] in TERMINAL_STATES, seconds=seconds)


@asynccontextmanager
async def started(settings: Settings, *, worker: bool = False) -> AsyncIterator[Api]:
    states: list[ApiState] = []
    app = create_app(settings, worker=worker, state_hook=states)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, states[0])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No stray AMC_* settings from the machine leak into a test."""
    for name in list(os.environ):
        if name.startswith("AMC_") and name != "AMC_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
async def api(tmp_path: Path, clean_env: None) -> AsyncIterator[Api]:
    async with started(make_settings(tmp_path)) as opened:
        opened.state.event_poll = 0.1
        yield opened
