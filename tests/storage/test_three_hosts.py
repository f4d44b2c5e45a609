"""Three hosts simulated: three `amc worker` processes with their own AMC_HOME (no shared
disk), one PostgreSQL, one S3-compatible server, one `amc sandbox serve`, real mode. 60 runs
over 6 instances end with 60 result objects, each run created once at AMC; a REST app on a
fourth folder serves every result; one worker, SIGKILLed in the middle of an upload, shows as
lost in `amc workers list`, leaves no partial object, and the others finish its work."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from amc_manager.config import Settings
from amc_manager.storage import PAUSE_ENV
from amc_manager.store import Store, database_url_for
from amc_manager.store.uploads import PendingUpload
from tests.api.conftest import bearer, started
from tests.engine.live import (
    POSTGRES_URL,
    Processes,
    enqueue_planned,
    fresh_postgres,
    plan_daily,
    real_env,
    run_amc,
    setup_real,
    wait_all_terminal,
)
from tests.storage.conftest import S3Server

RUNS = 60
STARTED = re.compile(r"worker \S+ started")
INSTANCES = 6

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="AMC_TEST_POSTGRES_URL is not set (PostgreSQL tests skipped)"
)


def test_three_hosts_share_postgres_and_s3(s3: S3Server, tmp_path: Path, clean_env: None) -> None:
    database_url = asyncio.run(fresh_postgres())
    bucket = s3.new_bucket()
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="0.2-0.8", instances=INSTANCES)
        shared = real_env(
            tmp_path / "host-0",
            server.url,
            AMC_DATABASE_URL=database_url,
            AMC_RESULTS_URL=f"s3://{bucket}/results",
            AMC_TIME_SCALE=10,
            AMC_POLL_INTERVAL=5,
            AMC_LEASE_SECONDS=60,
            AMC_DAILY_ADHOC_QUOTA=0,
            **s3.env(),
        )
        hosts = [{**shared, "AMC_HOME": str(tmp_path / f"host-{n}")} for n in range(4)]
        setup_real(hosts[0], tmp_path)
        planned = plan_daily(server.instances, RUNS, max_days=3)
        assert len({p.instance_id for p in planned}) == INSTANCES
        ids = asyncio.run(enqueue_planned(tmp_path / "host-0", database_url, planned))

        # Host 0's worker starts first and stops for good in its first upload (it holds many
        # leases by then); it is SIGKILLed there, and the other two hosts take over.
        doomed = procs.worker("worker-0", {**hosts[0], PAUSE_ENV: "600"})
        cut = asyncio.run(_uploads_of(database_url, doomed.pid))
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        visible = s3.keys(bucket)
        assert not [i for i in cut if f"results/{i}.parquet" in visible], "a partial result"
        others = [procs.spawn(f"worker-{n}", ["worker"], hosts[n]) for n in (1, 2)]
        for n, child in zip((1, 2), others, strict=True):
            procs.wait_for_line(f"worker-{n}", child, STARTED, timeout=60)

        asyncio.run(wait_all_terminal(tmp_path / "host-0", database_url, 90, alive=others))
        lost = _workers_until_lost(hosts[3], tmp_path, doomed.pid)
        stopped = [procs.stop(w) for w in others]
        assert stopped == [0, 0], procs.tail("worker-1") + procs.tail("worker-2")
        stats = server.stats()
        rows = asyncio.run(_served(_settings(hosts[3])))
        pending = asyncio.run(_pending(database_url))

    assert lost["state"] == "lost", lost
    assert stats["executions_created"] == RUNS == stats["executions_stored"], stats
    assert sorted(rows) == sorted(ids)
    assert {r["state"] for r in rows.values()} == {"succeeded"}
    for execution_id, plan in zip(ids, planned, strict=True):
        assert rows[execution_id]["rows"] == plan.days == rows[execution_id]["row_count"]
    assert sorted(s3.keys(bucket)) == sorted(f"results/{i}.parquet" for i in ids)
    assert pending == [], "an upload's temporary was never cleaned"
    # No host kept a result on its own disk; the killed one left only its local scratch.
    for n in range(1, 4):
        assert not list((tmp_path / f"host-{n}").rglob("*.parquet")), n
    # The killed host may also have downloaded runs it never began to upload (under load it
    # gets further before the kill): all of it is scratch, which `amc db prune` sweeps.
    left = list((tmp_path / "host-0").rglob("*.parquet"))
    assert all(".parts" in p.parts for p in left), left
    assert {p.name for p in left} <= {f"{i}.parquet" for i in ids}, left


async def _uploads_of(database_url: str, pid: int, timeout: float = 60) -> list[str]:
    """The executions whose uploads the process `pid` has begun (pending upload rows), once
    there is one."""
    deadline = time.monotonic() + timeout
    async with Store(database_url_for(database_url, Path("."))) as store:
        while time.monotonic() < deadline:
            if any(u.owner.split("-")[-2] == str(pid) for u in await store.pending_uploads()):
                await asyncio.sleep(0.3)  # into the pause, after the first chunk
                found = await store.pending_uploads()
                return [u.execution_id for u in found if u.owner.split("-")[-2] == str(pid)]
            await asyncio.sleep(0.05)
    raise AssertionError(f"worker {pid} never began an upload")


async def _pending(database_url: str) -> list[PendingUpload]:
    async with Store(database_url_for(database_url, Path("."))) as store:
        return await store.pending_uploads()


def _workers_until_lost(env: dict[str, str], cwd: Path, pid: int) -> dict[str, Any]:
    """`amc workers list --json` (from the fourth host) until the killed worker shows lost."""
    deadline = time.monotonic() + 30
    while True:
        listed = json.loads(run_amc(env, cwd, "workers", "list", "--json").stdout)
        mine = [w for w in listed if w["pid"] == pid]
        assert len(mine) == 1, listed
        if mine[0]["state"] == "lost" or time.monotonic() > deadline:
            return dict(mine[0])
        time.sleep(0.5)


def _settings(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {
        n: v for n, v in env.items() if n.startswith(("AMC_", "AMAZON_", "FERNET_KEY"))
    }
    return Settings(**values)


async def _served(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every execution and its rows, through the REST API of a process on the fourth host."""
    async with started(settings) as api:
        token = await api.token()
        got = await api.client.get("/api/v1/executions?limit=500", headers=bearer(token))
        found: dict[str, dict[str, Any]] = {}
        for item in got.json()["items"]:
            url = f"/api/v1/executions/{item['id']}/results?limit=10000"
            page = (await api.client.get(url, headers=bearer(token))).json()
            found[item["id"]] = {**item, "rows": len(page["rows"])}
        return found
