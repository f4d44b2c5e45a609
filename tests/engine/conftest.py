"""Fixtures: stores on SQLite and (when AMC_TEST_POSTGRES_URL is set) on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from amc_manager.config import Settings
from amc_manager.service.access import bootstrap_embedded
from amc_manager.service.runtime import Runtime
from amc_manager.store import InstanceRow, Store, database_url_for
from tests.engine.live import fresh_postgres

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"

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


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return asyncio.run(fresh_postgres())


@pytest.fixture
async def store(database_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    async with Store(database_url_for(database_url, tmp_path)) as opened:
        yield opened


def sandbox_config_file(tmp_path: Path, **knobs: Any) -> Path:
    path = tmp_path / "sandbox.json"
    path.write_text(
        json.dumps({"duration": "0.3", "throttle_rate": 0, "stats_enabled": True, **knobs})
    )
    return path


def make_settings(tmp_path: Path, database_url: str | None = None, **extra: Any) -> Settings:
    """Embedded-mode settings in a private AMC_HOME; fast polling for tests."""
    values: dict[str, Any] = {
        "AMC_HOME": str(tmp_path / "home"),
        "AMC_SANDBOX_CONFIG": str(sandbox_config_file(tmp_path, **extra.pop("sandbox", {}))),
        "AMC_POLL_INTERVAL": 0.2,
        "AMC_LEASE_SECONDS": 10,
        "AMC_REQUEST_RATE": 0,
    }
    if database_url:
        values["AMC_DATABASE_URL"] = database_url
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No stray AMC_* settings from the machine leak into a test."""
    for name in list(os.environ):
        if name.startswith("AMC_") and name != "AMC_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@asynccontextmanager
async def opened(
    tmp_path: Path, database_url: str, **extra: Any
) -> AsyncIterator[tuple[Runtime, InstanceRow, str]]:
    """A runtime on the embedded sandbox, bootstrapped: (runtime, first instance, user id)."""
    settings = make_settings(tmp_path, database_url, **extra)
    async with Runtime(settings) as runtime:
        await bootstrap_embedded(runtime)
        user_id = await runtime.store.ensure_user(settings.user)
        instance = (await runtime.store.list_instances(user_id))[0]
        yield runtime, instance, user_id
