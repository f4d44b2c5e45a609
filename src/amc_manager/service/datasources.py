"""AMC's tables for an instance (`dataSources`, cached a day) and the schema SQL is linted with."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from amc_manager.service.access import client_for, instance_or_first, resolve_instance
from amc_manager.service.runtime import Runtime
from amc_manager.sql import KnownSchema, schema_for_data_sources, schema_for_sandbox

CACHE_SECONDS = 86400.0


def _cache_file(home: Path, instance_id: str) -> Path:
    return home / "cache" / f"datasources-{instance_id}.json"


async def data_sources(runtime: Runtime, email: str, instance: str) -> list[dict[str, Any]]:
    """The instance's `dataSources` as AMC lists them, from a one-day cache in AMC_HOME."""
    target = await resolve_instance(runtime, email, instance)
    cached = _cache_file(runtime.settings.amc_home, target.instance_id)
    if cached.exists() and runtime.clock() - cached.stat().st_mtime < CACHE_SECONDS:
        loaded: list[dict[str, Any]] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded
    client = await client_for(runtime, email, target)
    items = [s.model_dump(by_alias=True) for s in await client.list_data_sources(target.ref())]
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(items), encoding="utf-8")
    partial.replace(cached)  # readers never see half a file
    return items


def sandbox_schema(config_path: Path | None) -> KnownSchema:
    """Sandbox mode: the catalogue plus the extra tables the sandbox's config lists; an
    unknown table is an error."""
    from amc_manager.sandbox.config import load_config

    return schema_for_sandbox(load_config(config_path).extra_data_sources())


async def schema_for(runtime: Runtime, email: str, instance: str | None) -> KnownSchema | None:
    """The schema chosen once per mode: the sandbox's tables in sandbox mode; in real mode the
    instance's `dataSources` (None, names unchecked, when no instance is named)."""
    if runtime.sandbox_mode:
        config = runtime.sandbox_config
        return schema_for_sandbox(config.extra_data_sources() if config else ())
    if instance is None:
        return None
    return schema_for_data_sources(await data_sources(runtime, email, instance))


async def list_sources(runtime: Runtime, email: str, instance: str | None) -> list[dict[str, Any]]:
    """Name, description and column count of each table of the instance (or the first)."""
    target = await instance_or_first(runtime, email, instance)
    client = await client_for(runtime, email, target)
    return [
        {"name": s.data_source_id, "description": s.description, "columns": len(s.columns)}
        for s in await client.list_data_sources(target.ref())
    ]


async def show_source(
    runtime: Runtime, email: str, instance: str | None, name: str
) -> list[dict[str, Any]]:
    """One table's columns as AMC describes them."""
    target = await instance_or_first(runtime, email, instance)
    client = await client_for(runtime, email, target)
    source = await client.get_data_source(target.ref(), name)
    return [dict(c) for c in source.columns]
