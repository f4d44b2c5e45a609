"""`amc worker` supervised: a failing tracking loop is restarted; SIGTERM drains and hands over."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from tests.engine.live import (
    END_TRACKING_FAULT,
    TRACKING_FAULT,
    Processes,
    enqueue_planned,
    list_executions,
    plan_daily,
    real_env,
    setup_real,
    wait_all_terminal,
)

RESTART = "tracking loop failed"
SHUTDOWN_TIMEOUT = 0.5


def _sql(home: Path, statement: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(home / "amc-manager.db", timeout=30)) as db, db:
        return list(db.execute(statement))


def _states(home: Path) -> set[str]:
    return {str(row[0]) for row in _sql(home, "SELECT DISTINCT state FROM workflow_executions")}


def _second_wave_creating(states: set[str]) -> bool:
    """A run is being created (its call just began) after others of the first wave ended."""
    return "submitting" in states and bool(states & {"downloading", "succeeded"})


def _wait_for_restarts(procs: Processes, name: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while procs.tail(name, 1_000_000).count(RESTART) < count:
        assert time.monotonic() < deadline, f"no {count} restarts: {procs.tail(name)}"
        time.sleep(0.05)


def test_a_failing_tracking_loop_is_restarted_and_keeps_tracking(tmp_path: Path) -> None:
    """The store refuses tracking's writes until the worker has logged two restarts of its
    tracking loop; the same worker process then tracks every run to its end. The store
    refuses only looks at runs still running, and the loop's second start comes a second
    after its first failure, so runs last 6-8 s: with 2-3 s, on a loaded machine, they had
    ended before that second look."""
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="6-8")
        home = tmp_path / "home"
        env = real_env(home, server.url, AMC_POLL_INTERVAL=0.5, AMC_DAILY_ADHOC_QUOTA=0)
        setup_real(env, tmp_path)
        ids = asyncio.run(enqueue_planned(home, None, plan_daily(server.instances, 6)))
        _sql(home, TRACKING_FAULT)
        worker = procs.worker("worker", env)
        _wait_for_restarts(procs, "worker", 2, timeout=120)  # generous: a loaded CI machine
        _sql(home, END_TRACKING_FAULT)
        asyncio.run(wait_all_terminal(home, None, timeout=60, alive=[worker]))
        assert procs.stop(worker) == 0, procs.tail("worker")
        rows = list_executions(env, tmp_path)
        stats = server.stats()
    log = procs.tail("worker", 1_000_000)
    assert "Traceback" in log and "injected fault: tracking write refused" in log
    assert sorted(r["id"] for r in rows) == sorted(ids)
    assert {r["state"] for r in rows} == {"succeeded"}, [(r["state"], r["error"]) for r in rows]
    assert stats["executions_created"] == len(ids)


def test_sigterm_drains_and_another_worker_finishes_without_duplicates(tmp_path: Path) -> None:
    """Every AMC call takes 1.5 s, the shutdown timeout is 0.5 s, leases last 60 s and two runs
    per instance may be active: SIGTERM while runs are at AMC and another's create has just
    begun, the worker cuts that call short and exits 0 within the timeout holding no lease,
    and a second worker finishes every run long before a lease could have lapsed, each
    created once at AMC (the create cut short is adopted, not repeated)."""
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="2-3", faults={"latency_ms": 1500})
        home = tmp_path / "home"
        env = real_env(
            home,
            server.url,
            AMC_POLL_INTERVAL=0.5,
            AMC_DAILY_ADHOC_QUOTA=0,
            AMC_LEASE_SECONDS=60,
            AMC_MAX_ACTIVE_PER_INSTANCE=2,
            AMC_SHUTDOWN_TIMEOUT=SHUTDOWN_TIMEOUT,
        )
        setup_real(env, tmp_path)
        ids = asyncio.run(enqueue_planned(home, None, plan_daily(server.instances, 6)))
        first = procs.worker("worker-first", env)
        deadline = time.monotonic() + 90
        while not _second_wave_creating(_states(home)):
            assert time.monotonic() < deadline, procs.tail("worker-first")
            time.sleep(0.05)
        assert procs.stop(first, timeout=SHUTDOWN_TIMEOUT + 5) == 0, procs.tail("worker-first")
        assert "cutting them short" in procs.tail("worker-first")
        held = _sql(home, "SELECT state, lease_owner FROM workflow_executions")
        assert not [h for h in held if h[1]], held
        assert any(state not in ("succeeded", "failed") for state, _ in held), held

        second = procs.worker("worker-second", env)
        asyncio.run(wait_all_terminal(home, None, timeout=45, alive=[second]))
        assert procs.stop(second, timeout=30) == 0, procs.tail("worker-second")
        rows = list_executions(env, tmp_path)
        stats = server.stats()
    assert sorted(r["id"] for r in rows) == sorted(ids)
    assert {r["state"] for r in rows} == {"succeeded"}, [(r["state"], r["error"]) for r in rows]
    amc_ids = {r["amc_execution_id"] for r in rows}
    assert None not in amc_ids and len(amc_ids) == len(ids), "an execution was submitted twice"
    assert stats["executions_created"] == len(ids) == stats["executions_stored"]
