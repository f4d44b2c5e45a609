"""Schedules as front ends see and send them: the views of a schedule and of its runs, the
requests to create and change one, and parameter values as a schedule keeps them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from amc_manager.engine.scheduler import iso_utc
from amc_manager.errors import UsageError
from amc_manager.service.executions import iso
from amc_manager.sql import ParamValue
from amc_manager.sql.schedule import Slot
from amc_manager.store.schedules import ACTIVE, FIRED, FIRING, ScheduleRow, ScheduleRunRow

_WORKFLOW_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """One run of a schedule: its slot, window, execution and outcome (the execution's state
    while it runs; `skipped`, or `failed` with the error, when no execution was made)."""

    row: ScheduleRunRow
    time_zone: str
    execution_state: str | None = None

    @property
    def state(self) -> str:
        if self.row.status in (FIRING, FIRED) and self.execution_state is not None:
            return self.execution_state
        return self.row.status

    def to_json(self) -> dict[str, Any]:
        row = self.row
        local = datetime.fromtimestamp(row.fire_at, UTC).astimezone(ZoneInfo(self.time_zone))
        return {
            "id": row.id,
            "schedule_id": row.schedule_id,
            "fire_time": local.isoformat(),
            "fire_time_utc": iso_utc(row.fire_at),
            "manual": row.manual,
            "state": self.state,
            "execution_id": row.execution_id,
            "window_start": row.window_start,
            "window_end": row.window_end,
            "time_zone": self.time_zone,
            "error": row.error,
            "created_at": iso(row.created_at),
        }


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as every front end shows it; `show` adds the next slots and the history."""

    row: ScheduleRow
    instance_id: str  # AMC's
    created_by: str
    # None in lists; `show` sets both, so its JSON always carries `next_slots` and `runs`
    next_slots: tuple[Slot, ...] | None = None
    history: tuple[RunView, ...] | None = None

    @property
    def id(self) -> str:
        return self.row.id

    def to_json(self) -> dict[str, Any]:
        row = self.row
        item: dict[str, Any] = {
            "id": row.id,
            "name": row.name,
            "instance_id": self.instance_id,
            "workflow_id": row.workflow_id,
            "cron": row.cron,
            "every": row.every,
            "at": row.at,
            "time_zone": row.time_zone,
            "window": row.window,
            "parameters": {k: v["value"] for k, v in row.parameters.items()},
            "pause_after": row.pause_after,
            "notify_url": row.notify_url,
            "state": row.state,
            "paused_reason": row.paused_reason,
            "next_fire_time_utc": iso_utc(row.next_at) if row.state == ACTIVE else None,
            "created_by": self.created_by,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
        }
        if self.next_slots is not None:
            item["next_slots"] = [s.to_json() for s in self.next_slots]
        if self.history is not None:
            item["runs"] = [r.to_json() for r in self.history]
        return item


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRequest:
    """`amc schedules create` / `POST /schedules`: a SQL file or a saved workflow, a cadence
    (`cron` or `every` at `at`) in a zone, a relative window and the run's parameters."""

    instance: str
    window: str
    sql: str | None = None
    source: str = "<sql>"
    workflow_id: str | None = None
    cron: str | None = None
    every: str | None = None
    at: str | None = None
    time_zone: str | None = None
    values: Mapping[str, ParamValue] = field(default_factory=dict)
    name: str | None = None
    pause_after: int | None = None
    notify_url: str | None = None


@dataclass(frozen=True)
class ScheduleChanges:
    """`PATCH /schedules/{id}`: what to change (None: keep). A new cadence replaces the old
    one whole (cron, or every with at) and the next slot is counted from now."""

    name: str | None = None
    window: str | None = None
    cron: str | None = None
    every: str | None = None
    at: str | None = None
    time_zone: str | None = None
    values: Mapping[str, ParamValue] | None = None
    pause_after: int | None = None
    notify_url: str | None = None
    state: str | None = None


def check_options(pause_after: int | None, notify_url: str | None) -> None:
    if pause_after is not None and pause_after < 1:
        raise UsageError(f"--pause-after {pause_after} must be 1 or more", hint="e.g. 3")
    if notify_url is not None:
        parts = urlsplit(notify_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                "--notify needs an http(s) URL", hint="e.g. https://hooks.example.com/amc"
            )


def stored_values(values: Mapping[str, ParamValue]) -> dict[str, Any]:
    return {name: {"value": v.value, "raw": v.raw} for name, v in values.items()}


def loaded_values(stored: Mapping[str, Any]) -> dict[str, ParamValue]:
    return {
        name: ParamValue(name, v["value"], raw=bool(v["raw"]), origin="schedule")
        for name, v in stored.items()
    }


def workflow_id_for(source: str, sql: str) -> str:
    """The saved workflow a schedule's SQL file is pushed as: named after the file and its
    content, so pushing the same file again reuses it."""
    stem = source.rsplit("/", 1)[-1].removesuffix(".sql")
    stem = _WORKFLOW_CHARS.sub("-", stem).strip("-")[:60] or "query"
    digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()[:10]
    return f"amc-schedule-{stem}-{digest}"
