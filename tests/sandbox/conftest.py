"""Fixtures: the sandbox in-process over httpx's ASGI transport, and on a real socket."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.embedded import EmbeddedSandbox
from amc_manager.sandbox.server import build_server
from amc_manager.sandbox.service import Sandbox
from tests.sandbox.helpers import Api

FAST = {"duration": "0.2", "stats_enabled": True, "throttle_rate": 0}


def make_config(**overrides: Any) -> SandboxConfig:
    return SandboxConfig.model_validate({**FAST, **overrides})


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[EmbeddedSandbox]:
    async with EmbeddedSandbox(make_config(), tmp_path / "state") as sandbox:
        yield sandbox


@pytest.fixture
async def api(embedded: EmbeddedSandbox) -> Api:
    return await Api(embedded.client, embedded.sandbox).login()


@dataclass
class LiveServer:
    url: str
    sandbox: Sandbox


def start_server(
    config: SandboxConfig, state_dir: Path | None
) -> tuple[LiveServer, Any, threading.Thread]:
    """uvicorn on 127.0.0.1 with an ephemeral port, in a thread with its own event loop."""
    server = build_server(config, host="127.0.0.1", port=0, state_dir=state_dir, announce=False)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("sandbox server failed to start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return LiveServer(f"http://127.0.0.1:{port}", server.sandbox), server, thread


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[tuple[Any, threading.Thread]] = []

    def factory(state_dir: Path | None = None, **overrides: Any) -> LiveServer:
        live, server, thread = start_server(make_config(**overrides), state_dir)
        started.append((server, thread))
        return live

    yield factory
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def live_api(live: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        yield await Api(client, live.sandbox).login()
