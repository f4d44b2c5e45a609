"""Two `amc worker` processes on one store share the work: once each, within AMC's limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.engine.live import (
    POSTGRES_URL,
    Processes,
    enqueue_planned,
    fresh_postgres,
    list_executions,
    plan_daily,
    real_env,
    setup_real,
    wait_all_terminal,
)

MAX_ACTIVE = 10  # AMC_MAX_ACTIVE_PER_INSTANCE's default, as AMC documents
BACKENDS = [
    pytest.param("sqlite", 60, 90, id="sqlite-60"),
    pytest.param(
        "postgresql",
        200,
        150,
        id="postgresql-200",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="AMC_TEST_POSTGRES_URL is not set (PostgreSQL tests skipped)"
        ),
    ),
]


@pytest.mark.parametrize(("backend", "count", "budget"), BACKENDS)
def test_two_workers_submit_each_once_within_limits(
    tmp_path: Path, backend: str, count: int, budget: float
) -> None:
    """Runs of 0.5-1.5 s on the two instances of one `amc sandbox serve` (throttle on at its
    default 10/s per instance, daily quota off), driven by two workers on one shared store.
    """
    database_url = asyncio.run(fresh_postgres()) if backend == "postgresql" else None
    if database_url is None:
        database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="0.5-1.5")
        home = tmp_path / "home"
        env = real_env(
            home,
            server.url,
            AMC_DATABASE_URL=database_url,
            AMC_POLL_INTERVAL=0.5,
            AMC_DAILY_ADHOC_QUOTA=0,
            AMC_LEASE_SECONDS=20,
        )
        setup_real(env, tmp_path)
        planned = plan_daily(server.instances, count, max_days=2)
        ids = asyncio.run(enqueue_planned(home, database_url, planned))

        began = server.stats()["uptime_seconds"]
        workers = procs.workers(["worker-0", "worker-1"], env)
        owners: set[str] = set()
        took = asyncio.run(
            wait_all_terminal(home, database_url, timeout=budget, alive=workers, owners=owners)
        )
        stopped = [procs.stop(w) for w in workers]
        assert stopped == [0, 0], procs.tail("worker-0") + procs.tail("worker-1")
        rows = list_executions(env, tmp_path)
        stats = server.stats()
    print(f"{backend}: {count} executions by two workers in {took:.1f} s")  # noqa: T201

    assert sorted(r["id"] for r in rows) == sorted(ids)
    pids = {int(owner.split("-")[-2]) for owner in owners}
    assert {w.pid for w in workers} <= pids, "one of the workers did no work"
    assert {r["state"] for r in rows} == {"succeeded"}, [
        (r["id"], r["state"], r["error"]) for r in rows if r["state"] != "succeeded"
    ]
    amc_ids = {r["amc_execution_id"] for r in rows}
    assert None not in amc_ids and len(amc_ids) == count, "an execution was submitted twice"
    assert stats["executions_created"] == count == stats["executions_stored"]

    # 429s only in the first seconds of the workers' run, if at all
    late = {
        instance: [s for s in seconds if int(s) >= began + 3]
        for instance, seconds in stats["throttled_by_second"].items()
    }
    assert not any(late.values()), (began, stats["throttled_by_second"])

    # never more than the active limit open at once per instance (the sandbox's own count)
    open_max = stats["max_open_by_instance"]
    assert set(open_max) == set(server.instances), open_max
    assert all(2 <= n <= MAX_ACTIVE for n in open_max.values()), open_max
