"""Fixtures for identity and access: a runtime on the embedded sandbox over a real SQLite file
or a fresh PostgreSQL database, with users A (the local default admin, connected to the
sandbox's account) and B (a member with no token of their own)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from amc_manager.config import DEFAULT_USER
from amc_manager.service.access import bootstrap_embedded
from amc_manager.service.checks import WindowInput
from amc_manager.service.runs import RunRequest, submit
from amc_manager.service.runtime import Runtime
from amc_manager.store import InstanceRow
from tests.engine.conftest import make_settings
from tests.engine.live import fresh_postgres
from tests.windows import window_fields

POSTGRES_URL = os.environ.get("AMC_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="AMC_TEST_POSTGRES_URL is not set (PostgreSQL tests skipped)"
        ),
    ),
]
A = DEFAULT_USER
B = "b@example.com"
SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return asyncio.run(fresh_postgres())


@dataclass
class Clock:
    """The wall clock, which tests may move ahead (token expiry, once-a-minute
    `last_used_at`); the engine keeps running on it."""

    ahead: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@dataclass
class Site:
    runtime: Runtime
    instance: InstanceRow
    clock: Clock


@pytest.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[Site]:
    """A bootstrapped runtime: A connected the sandbox's account; B exists, with nothing."""
    clock = Clock()
    settings = make_settings(tmp_path, database_url)
    async with Runtime(settings, clock=clock) as runtime:
        await bootstrap_embedded(runtime)
        await runtime.store.ensure_user(B)
        instance = (await runtime.store.list_instances(None))[0]
        yield Site(runtime, instance, clock)


def window() -> WindowInput:
    return WindowInput(**window_fields())


async def queue(runtime: Runtime, email: str, instance: str, **extra: Any) -> str:
    """Queue a run for `email` (nothing is sent to AMC until the engine admits it)."""
    request = RunRequest(instance=instance, window=window(), sql=SQL, **extra)
    return (await submit(runtime, email, request)).execution_id


def raises_unknown(kind: str) -> Callable[[BaseException], bool]:
    return lambda exc: f"unknown {kind}" in str(exc)
