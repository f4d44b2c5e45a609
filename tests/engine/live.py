"""Real processes for the end-to-end engine tests: `amc sandbox serve`, `amc` commands, workers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from amc_manager.client import TokenCipher
from amc_manager.config import DEFAULT_USER
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.sandbox.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
)
from amc_manager.sql import resolve_window
from amc_manager.store import Store, database_url_for
from tests.windows import day_window

AMC = Path(sys.executable).with_name("amc")
READY = re.compile(r"AMC sandbox ready on (http://\S+) .*instances=(\S+)")
POSTGRES_URL = os.environ.get("AMC_TEST_POSTGRES_URL")

# One row per day of the window: the expected row count is known without asking AMC.
DAILY_SQL = """-- Daily DSP delivery: one row per day of the window.
SELECT
  impression_date_utc AS day,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY 1
"""


# A store fault for SQLite: tracking's writes to a run still pending or running (the runs put
# back on the polling grid, a status change within the state) fail, as a database that refuses
# writes would. Submission, downloads and state changes are untouched.
TRACKING_FAULT = """
CREATE TRIGGER tracking_fault BEFORE UPDATE OF next_check_at ON workflow_executions
WHEN OLD.state IN ('pending', 'running') AND NEW.state = OLD.state
BEGIN SELECT RAISE(ABORT, 'injected fault: tracking write refused'); END
"""
END_TRACKING_FAULT = "DROP TRIGGER tracking_fault"


def clean_environ() -> dict[str, str]:
    """The parent's environment without any setting that would leak into a child `amc`."""
    leaks = ("AMC_", "AMAZON_CLIENT_", "FERNET_KEY")
    return {k: v for k, v in os.environ.items() if not k.startswith(leaks)}


def real_env(home: Path, url: str, **extra: object) -> dict[str, str]:
    """Real mode (`AMC_USE_REAL_API=true`) against a sandbox server at `url`."""
    env = clean_environ()
    env.update(
        AMC_HOME=str(home),
        AMC_USE_REAL_API="true",
        AMC_API_BASE_URL=url,
        AMC_LWA_TOKEN_URL=f"{url}/auth/o2/token",
        AMC_LWA_AUTH_URL=f"{url}/ap/oa",
        AMAZON_CLIENT_ID=DEFAULT_CLIENT_ID,
        AMAZON_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
        FERNET_KEY=TokenCipher.generate_key(),
        AMC_SECRET_KEY=secrets.token_urlsafe(48),
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_amc(
    env: dict[str, str],
    cwd: Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = 120,
    expect: int | None = 0,
) -> subprocess.CompletedProcess[str]:
    """One `amc` command to its end; fails the test with its stderr if the exit code differs."""
    done = subprocess.run(
        [str(AMC), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if expect is not None:
        assert done.returncode == expect, (
            f"amc {' '.join(args)} exited {done.returncode}\n"
            f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
        )
    return done


def setup_real(env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
    """`amc auth add-token` then `amc accounts sync`; returns `amc instances list --json`."""
    run_amc(env, cwd, "auth", "add-token", stdin=DEFAULT_REFRESH_TOKEN + "\n")
    run_amc(env, cwd, "accounts", "sync")
    found: list[dict[str, Any]] = json.loads(
        run_amc(env, cwd, "instances", "list", "--json").stdout
    )
    return found


def list_executions(env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        run_amc(env, cwd, "executions", "list", "--json").stdout
    )
    return rows


@dataclass
class SandboxServer:
    """An `amc sandbox serve` child process and what its ready line announced."""

    process: subprocess.Popen[bytes]
    url: str
    instances: list[str]
    state_dir: Path | None

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/__sandbox/stats", timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


class Processes:
    """Starts child processes with their output in files, and never leaves one behind."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.children: list[subprocess.Popen[bytes]] = []
        self._count = 0

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def spawn(
        self, name: str, args: Sequence[str], env: dict[str, str], *, stdout: int | None = None
    ) -> subprocess.Popen[bytes]:
        """`amc ARGS...` with stderr (and stdout unless piped) in `name.log`."""
        with self.log(name).open("wb") as log:
            child = subprocess.Popen(
                [str(AMC), *args],
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=stdout if stdout is not None else log,
                stderr=log,
            )
        self.children.append(child)
        return child

    def wait_for_line(
        self, name: str, child: subprocess.Popen[bytes], pattern: re.Pattern[str], timeout: float
    ) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log(name).read_text(errors="replace")
            found = pattern.search(text)
            if found is not None:
                return found
            if child.poll() is not None:
                raise AssertionError(f"{name} exited {child.returncode}: {text[-2000:]}")
            time.sleep(0.05)
        raise AssertionError(f"{name} not ready after {timeout} s: {self.tail(name)}")

    def tail(self, name: str, size: int = 3000) -> str:
        return self.log(name).read_text(errors="replace")[-size:]

    def sandbox(self, name: str = "sandbox", *, state: bool = True, **knobs: Any) -> SandboxServer:
        """`amc sandbox serve --port 0 [--state-dir] --config` with counters on."""
        config = self.workdir / f"{name}.json"
        config.write_text(json.dumps({"stats_enabled": True, **knobs}))
        state_dir = self.workdir / f"{name}-state" if state else None
        args = ["sandbox", "serve", "--port", "0", "--config", str(config)]
        if state_dir is not None:
            args += ["--state-dir", str(state_dir)]
        child = self.spawn(name, args, clean_environ())
        ready = self.wait_for_line(name, child, READY, timeout=60)
        return SandboxServer(child, ready.group(1), ready.group(2).split(","), state_dir)

    def worker(self, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """`amc worker`, returned once it has announced that it runs."""
        return self.workers([name], env)[0]

    def workers(self, names: Sequence[str], env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
        """Several `amc worker` processes started together, returned once each runs."""
        children = [self.spawn(name, ["worker"], env) for name in names]
        for name, child in zip(names, children, strict=True):
            self.wait_for_line(name, child, re.compile(r"worker \S+ started"), timeout=60)
        return children

    def stop(self, child: subprocess.Popen[bytes], timeout: float = 30) -> int:
        """SIGTERM (graceful stop) and the exit code."""
        child.send_signal(signal.SIGTERM)
        return child.wait(timeout=timeout)


@dataclass(frozen=True)
class Planned:
    """One execution the test enqueues: where, which days, hence how many rows."""

    instance_id: str
    first_day: str
    last_day: str
    days: int


def plan_daily(instances: Sequence[str], count: int, *, max_days: int = 4) -> list[Planned]:
    """`count` daily-delivery runs spread over the instances, windows of 1..max_days days."""
    planned = []
    for index in range(count):
        days = 1 + index % max_days
        first, last = day_window(days, end_days_ago=3 + index % 5)
        planned.append(Planned(instances[index % len(instances)], first, last, days))
    return planned


async def enqueue_planned(
    home: Path, database_url: str | None, planned: Sequence[Planned], sql: str = DAILY_SQL
) -> list[str]:
    """Queue the runs in the store, as `amc run --no-wait` would before the engine takes over."""
    async with Store(database_url_for(database_url, home)) as store:
        user_id = await store.ensure_user(DEFAULT_USER)
        instances = {i.instance_id: i for i in await store.list_instances(user_id)}
        ids = []
        for plan in planned:
            fields = resolve_window(
                start=plan.first_day, end=plan.last_day, window=None, time_zone="UTC"
            ).amc_fields()
            spec = RunSpec(
                instance=instances[plan.instance_id],
                sql=sql,
                start=fields["timeWindowStart"],
                end=fields["timeWindowEnd"],
                window_type=fields["timeWindowType"],
                time_zone=fields["timeWindowTimeZone"],
                options={"ignore_data_gaps": False},
            )
            ids.append(await enqueue(store, user_id, spec))
        return ids


async def wait_all_terminal(
    home: Path,
    database_url: str | None,
    timeout: float,
    *,
    alive: Sequence[subprocess.Popen[bytes]] = (),
    owners: set[str] | None = None,
) -> float:
    """Until no execution is open in the store; returns the seconds it took.

    `owners` collects the lease holders seen on the way (`HOST-PID-RANDOM`).
    """
    started = time.monotonic()
    left = -1
    async with Store(database_url_for(database_url, home)) as store:
        while time.monotonic() - started < timeout:
            rows = await store.list_executions()
            if owners is not None:
                owners.update(r.lease_owner for r in rows if r.lease_owner)
            left = sum(1 for r in rows if not r.terminal)
            if left == 0:
                return time.monotonic() - started
            dead = [c.returncode for c in alive if c.poll() is not None]
            assert not dead, f"a worker died (exit {dead})"
            await asyncio.sleep(0.2)
    raise AssertionError(f"{left} executions still open after {timeout} s")


async def fresh_postgres() -> str:
    """A new empty PostgreSQL database per test, so tests never see each other's rows."""
    import asyncpg  # type: ignore[import-untyped]

    assert POSTGRES_URL is not None
    name = f"amc_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
