"""Fixtures: an AmcClient against the sandbox, on a real socket or in-process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from amc_manager.client import (
    AccountRef,
    AmcClient,
    InMemoryTokenStore,
    InstanceRef,
    LwaCredentials,
    MemoryAuditSink,
    RateLimiter,
    RetryPolicy,
    Secret,
)
from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.service import Sandbox
from tests.sandbox.conftest import LiveServer, make_config, start_server

USER = "analyst@example.com"


@dataclass
class Setup:
    """A client, the sandbox behind it, and what the client recorded."""

    client: AmcClient
    sandbox: Sandbox
    url: str
    store: InMemoryTokenStore
    audit: MemoryAuditSink
    sleeps: list[float] = field(default_factory=list)

    @property
    def instance(self) -> InstanceRef:
        account = self.sandbox.account
        ref = AccountRef(account.account_id, account.marketplace_id)
        return InstanceRef(account.instances[0].instance_id, ref)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url) as plain:
            result: dict[str, Any] = (await plain.get("/__sandbox/stats")).json()
            return result


def credentials(config: SandboxConfig) -> LwaCredentials:
    return LwaCredentials(config.client_id, Secret(config.client_secret))


@asynccontextmanager
async def client_for(
    sandbox: Sandbox,
    url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    rate: float = 50.0,
    store: InMemoryTokenStore | None = None,
    **kwargs: Any,
) -> AsyncIterator[Setup]:
    store = store or InMemoryTokenStore()
    if await store.refresh_token(USER) is None:
        await store.save_refresh_token(USER, Secret(sandbox.config.refresh_token))
    audit = MemoryAuditSink()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        client = AmcClient(
            http=http,
            credentials=credentials(sandbox.config),
            token_store=store,
            user=USER,
            api_base_url=url,
            lwa_token_url=f"{url}/auth/o2/token",
            budget=RateLimiter(rate, sleep=sleep),
            audit=audit,
            retry=kwargs.pop("retry", RetryPolicy(base_delay=0.05, max_delay=0.5)),
            sleep=sleep,
            **kwargs,
        )
        yield Setup(client, sandbox, url, store, audit, sleeps)


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every client test runs with DEBUG logs captured; none may carry a token or signature."""
    caplog.set_level(logging.DEBUG)
    yield
    text = caplog.text
    for marker in ("Atza|", "Atzr|", "X-Amz-Signature=", "sandbox-client-secret"):
        assert marker not in text, f"{marker} leaked into the logs"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Any]:
    """Start sandboxes on 127.0.0.1 with the given knobs; all stopped at the end."""
    started: list[tuple[Any, Any]] = []

    def factory(**overrides: Any) -> LiveServer:
        server_live, server, thread = start_server(make_config(**overrides), tmp_path / "state")
        started.append((server, thread))
        return server_live

    yield factory
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)
