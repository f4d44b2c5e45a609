"""Real `amc worker` processes (embedded sandbox, one SQLite store, time scale 10, a beat every
second: lost after 3 s of silence): the registry as `amc workers list --json` shows
it, the metrics port, JSON log lines, and a SIGKILLed worker whose leases another worker takes
over."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from amc_manager.config import DEFAULT_USER
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.store import Store, database_url_for
from amc_manager.store.workers import list_workers
from tests.engine.conftest import SQL
from tests.engine.live import Processes, clean_environ, run_amc
from tests.windows import amc_window

STARTED = re.compile(r"worker (\S+) started")
METRICS = re.compile(r"metrics at (http://\S+)")


def sandbox_env(tmp_path: Path, name: str, **knobs: Any) -> dict[str, str]:
    config = tmp_path / f"{name}.json"
    config.write_text(json.dumps({"duration": "0.3", "throttle_rate": 0, **knobs}))
    env = clean_environ()
    env.update(
        AMC_HOME=str(tmp_path / "home"),
        AMC_SANDBOX_CONFIG=str(config),
        AMC_TIME_SCALE="10",
        AMC_POLL_INTERVAL="1",
        AMC_REQUEST_RATE="0",
        AMC_LEASE_SECONDS="120",
        AMC_HEARTBEAT_SECONDS="1",
    )
    return env


def workers_json(env: dict[str, str], cwd: Path) -> dict[str, dict[str, Any]]:
    listed = json.loads(run_amc(env, cwd, "workers", "list", "--json").stdout)
    return {w["id"]: w for w in listed}


async def enqueue_runs(home: Path, count: int) -> list[str]:
    """Queue runs on the first instance, as `amc run --no-wait` would."""
    async with Store(database_url_for(None, home)) as store:
        user_id = await store.ensure_user(DEFAULT_USER)
        instance = (await store.list_instances(user_id))[0]
        start, end = amc_window()
        spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
        return [await enqueue(store, user_id, spec) for _ in range(count)]


async def wait_for(home: Path, done: Any, timeout: float, what: str) -> None:
    """Until `done(store)` is true (checked every 0.1 s)."""
    deadline = time.monotonic() + timeout
    async with Store(database_url_for(None, home)) as store:
        while time.monotonic() < deadline:
            if await done(store):
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"not {what} after {timeout} s")


def all_ended(ids: list[str]) -> Any:
    async def check(store: Store) -> bool:
        rows = [await store.get_execution(i) for i in ids]
        return all(r is not None and r.terminal for r in rows)

    return check


def test_worker_registers_serves_metrics_logs_json_and_stops(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path, "sandbox")
    env["AMC_LOG_FORMAT"] = "json"
    home = Path(env["AMC_HOME"])
    with Processes(tmp_path) as procs:
        child = procs.spawn("worker", ["worker", "--metrics-port", "0", "--concurrency", "2"], env)
        worker_id = procs.wait_for_line("worker", child, STARTED, timeout=60).group(1)
        url = procs.wait_for_line("worker", child, METRICS, timeout=5).group(1)
        assert url.startswith("http://127.0.0.1:")  # loopback unless told otherwise

        listed = workers_json(env, tmp_path)[worker_id]
        assert listed["pid"] == child.pid and listed["host"] == socket.gethostname()
        assert listed["state"] == "alive" and listed["version"]
        assert set(listed) == {
            "id",
            "host",
            "pid",
            "version",
            "started_at",
            "last_heartbeat",
            "leases",
            "state",
        }

        [run_id] = asyncio.run(enqueue_runs(home, 1))
        asyncio.run(wait_for(home, all_ended([run_id]), 30, "finished"))
        scraped = httpx.get(url, timeout=10).text
        assert 'amc_executions{state="succeeded"} 1.0' in scraped
        created = r'amc_api_calls_total\{operation="executions.create",status="200"\}'
        assert re.search(created, scraped)
        queries = re.search(r"^amc_store_queries_total (\S+)$", scraped, re.M)
        assert queries is not None and float(queries.group(1)) > 0
        assert httpx.get(url.replace("/metrics", "/nothing"), timeout=10).status_code == 404

        assert procs.stop(child) == 0
        log = procs.log("worker").read_text()
        stopped = workers_json(env, tmp_path)[worker_id]
    assert stopped["state"] == "stopped" and stopped["leases"] == 0
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    about_run = [line for line in lines if line.get("execution_id") == run_id]
    assert about_run, log[-2000:]
    assert {"instance", "user"} <= set(about_run[0])
    assert any("store queries" in line["message"] for line in lines)


def test_killed_worker_is_lost_and_another_takes_its_leases(tmp_path: Path) -> None:
    """Worker A's AMC calls take 1 s each and it runs one step at a time, so when it is
    killed it holds leases (2 minutes long). Worker B marks A lost at its first beats and
    finishes A's runs long before those leases would have lapsed."""
    slow = sandbox_env(tmp_path, "slow", faults={"latency_ms": 1000})
    fast = sandbox_env(tmp_path, "fast")
    home = Path(slow["AMC_HOME"])
    with Processes(tmp_path) as procs:
        a = procs.spawn("worker-a", ["worker", "--concurrency", "1"], slow)
        a_id = procs.wait_for_line("worker-a", a, STARTED, timeout=60).group(1)
        ids = asyncio.run(enqueue_runs(home, 3))

        async def a_holds_leases(store: Store) -> bool:
            workers = {w.id: w for w in await list_workers(store, now=time.time())}
            return workers[a_id].leases >= 1

        asyncio.run(wait_for(home, a_holds_leases, 30, "holding leases"))
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)
        began = time.monotonic()

        b = procs.spawn("worker-b", ["worker"], fast)
        b_id = procs.wait_for_line("worker-b", b, STARTED, timeout=60).group(1)
        asyncio.run(wait_for(home, all_ended(ids), 60, "finished by worker B"))
        took = time.monotonic() - began
        listed = workers_json(fast, tmp_path)
        rows = json.loads(run_amc(fast, tmp_path, "executions", "list", "--json").stdout)
        assert procs.stop(b) == 0
    assert listed[a_id]["state"] == "lost" and listed[a_id]["leases"] == 0
    assert listed[b_id]["state"] == "alive"
    assert {r["id"]: r["state"] for r in rows} == dict.fromkeys(ids, "succeeded")
    assert took < 100, "B waited for A's leases to lapse instead of taking them over"
