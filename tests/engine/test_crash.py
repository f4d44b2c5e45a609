"""Crash test: `amc worker` SIGKILLed at random moments loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import time
from collections import Counter
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from tests.engine.live import (
    Processes,
    enqueue_planned,
    list_executions,
    plan_daily,
    real_env,
    setup_real,
    wait_all_terminal,
)

EXECUTIONS = 50
KILLS = 5


def test_worker_killed_five_times_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """50 runs of 1-4 s against `amc sandbox serve --state-dir` (its throttle on, 10/s per
    instance), result files of 2 rows each; the worker is SIGKILLed 5 times and restarted.
    """
    rng = random.Random(20240601)
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="1-4", rows_per_file=2)
        home = tmp_path / "home"
        env = real_env(
            home,
            server.url,
            AMC_POLL_INTERVAL=0.5,
            AMC_LEASE_SECONDS=2,
            AMC_DAILY_ADHOC_QUOTA=0,
        )
        setup_real(env, tmp_path)
        planned = plan_daily(server.instances, EXECUTIONS)
        ids = asyncio.run(enqueue_planned(home, None, planned))

        killed_during: list[dict[str, int]] = []
        for incarnation in range(KILLS):
            worker = procs.worker(f"worker-{incarnation}", env)
            time.sleep(rng.uniform(0.3, 3.0))
            assert worker.poll() is None, procs.tail(f"worker-{incarnation}")
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            killed_during.append(_states(home))
        last = procs.worker("worker-last", env)
        asyncio.run(wait_all_terminal(home, None, timeout=90, alive=[last]))
        print("states when killed:", killed_during)  # noqa: T201 - shown with -s
        assert procs.stop(last) == 0, procs.tail("worker-last")

        rows = {r["id"]: r for r in list_executions(env, tmp_path)}
        stats = server.stats()

    assert sorted(rows) == sorted(ids)
    assert {r["state"] for r in rows.values()} == {"succeeded"}, [
        (r["id"], r["state"], r["error"]) for r in rows.values() if r["state"] != "succeeded"
    ]
    amc_ids = [r["amc_execution_id"] for r in rows.values()]
    assert None not in amc_ids and len(set(amc_ids)) == EXECUTIONS
    assert stats["executions_stored"] == EXECUTIONS, (killed_during, stats)
    assert stats["executions_created"] == EXECUTIONS, (killed_during, stats)

    for execution_id, plan in zip(ids, planned, strict=True):
        row = rows[execution_id]
        assert row["instance_id"] == plan.instance_id
        path = Path(row["result_path"])
        assert path.is_file(), row
        table = pq.read_table(path)
        assert table.num_rows == row["row_count"] == plan.days, (row, plan)
        first = date.fromisoformat(plan.first_day)
        expected = {str(first + timedelta(days=n)) for n in range(plan.days)}
        assert {str(d) for d in table.column("day").to_pylist()} == expected
    assert not list((home / "results" / ".parts").glob("*/*.csv")), "scratch parts left behind"


def _states(home: Path) -> dict[str, int]:
    """How many executions are in each state (read straight from the SQLite store)."""
    with closing(sqlite3.connect(home / "amc-manager.db", timeout=30)) as db:
        found = db.execute("SELECT state, COUNT(*) FROM workflow_executions GROUP BY state")
        return dict(Counter({str(state): int(n) for state, n in found}))
