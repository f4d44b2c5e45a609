"""Fixtures for schedules: a clock the test moves, runtimes on the embedded sandbox over one
real store (SQLite, and PostgreSQL with AMC_TEST_POSTGRES_URL), and a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from amc_manager.config import Settings
from amc_manager.service.access import bootstrap_embedded
from amc_manager.service.runtime import Runtime
from amc_manager.store import InstanceRow
from tests.engine.conftest import clean_env, database_url, make_settings

__all__ = [
    "Clock",
    "Receiver",
    "clean_env",
    "database_url",
    "first_instance",
    "make_settings",
    "runtime_on",
    "utc",
]


class Clock:
    """The engine's clock, moved by the test (seconds since the epoch)."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@asynccontextmanager
async def runtime_on(
    settings: Settings, clock: Clock, *, bootstrap: bool = False
) -> AsyncIterator[Runtime]:
    async with Runtime(settings, clock=clock) as runtime:
        if bootstrap:
            await bootstrap_embedded(runtime)
        yield runtime


async def first_instance(runtime: Runtime) -> InstanceRow:
    user_id = await runtime.store.ensure_user(runtime.settings.user)
    return (await runtime.store.list_instances(user_id))[0]


@dataclass
class Receiver:
    """A local HTTP server keeping every request's body and signature header."""

    url: str
    received: list[tuple[bytes, str | None]] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got: list[tuple[bytes, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            got.append((self.rfile.read(length), self.headers.get("X-AMC-Signature")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", got)
    finally:
        server.shutdown()
        server.server_close()
