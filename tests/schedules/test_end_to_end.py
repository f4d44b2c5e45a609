"""End to end: a schedule's slot fires in the worker, the execution it makes runs to
`succeeded` against the embedded sandbox, and `amc schedules show` lists the run with it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from amc_manager.cli.app import app
from amc_manager.service.schedules import ScheduleRequest, create
from amc_manager.service.worker import build_worker
from tests.schedules.conftest import first_instance, make_settings, runtime_on

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign\n"


class Ahead:
    """The wall clock plus an offset the test sets (the worker lives a little in the future,
    so the next slot is due at once)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_a_fired_slot_runs_to_succeeded_and_show_lists_it(
    tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Ahead()
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    query = tmp_path / "campaigns.sql"
    query.write_text(SQL)
    async with runtime_on(settings, clock, bootstrap=True) as runtime:  # type: ignore[arg-type]
        instance = await first_instance(runtime)
        request = ScheduleRequest(
            instance=instance.instance_id,
            window="last:3d:lag:4d",
            sql=SQL,
            source=str(query),
            every="day",
            at="06:00",
        )
        view = await create(runtime, settings.user, request)
        assert view.row.workflow_id.startswith("amc-schedule-campaigns-")
        clock.offset = view.row.next_at + 30 - time.time()  # the slot is 30 s late
        worker = build_worker(runtime)
        running = asyncio.ensure_future(worker.run())
        try:
            execution_id = await _succeeded(runtime, view.id)
        finally:
            worker.stop()
            await running
    for name, value in (
        ("AMC_HOME", settings.amc_home),
        ("AMC_SANDBOX_CONFIG", settings.sandbox_config),
        ("AMC_DATABASE_URL", settings.database_url),
    ):
        monkeypatch.setenv(name, str(value))
    shown = await asyncio.to_thread(_cli, "schedules", "show", view.id[:8], "--json")
    (run,) = json.loads(shown)["runs"]
    assert (run["execution_id"], run["state"], run["manual"]) == (execution_id, "succeeded", False)
    assert run["window_end"] < run["fire_time"][:19]
    table = await asyncio.to_thread(_cli, "schedules", "show", view.id)
    (line,) = [x for x in table.splitlines() if "succeeded" in x]
    assert line.split()[-1] == execution_id[: len(line.split()[-1])]  # its shortest prefix
    assert len(line.split()[-1]) >= 6


async def _succeeded(runtime: object, schedule_id: str) -> str:
    """Wait (at most a minute) for the schedule's one run to succeed; its execution id."""
    from amc_manager.service.runtime import Runtime

    assert isinstance(runtime, Runtime)
    for _ in range(600):
        runs = await runtime.store.runs_of(schedule_id)
        if runs and runs[0].execution_id is not None:
            row = await runtime.store.get_execution(runs[0].execution_id)
            assert row is not None
            if row.terminal:
                assert row.state == "succeeded", row.error
                assert len(runs) == 1
                return row.id
        await asyncio.sleep(0.1)
    raise AssertionError(f"no succeeded run of schedule {schedule_id}: {runs}")


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout
