"""The cost curve (issue 13): how each execution's cost moves as workers, executions and
instances grow together, on PostgreSQL against a time-scaled `amc sandbox serve`."""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sandbox_server import AMC, SandboxServer, clean_env, sandbox_server
from tracking_bench import (
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    SQL,
    cpu_seconds,
    peak_rss_mb,
    percentile,
    terminal_times,
)

ABOUT = """Three runs, each on a fresh PostgreSQL database and a fresh sandbox (real mode):

    1 worker,   500 executions, 10 instances
    2 workers, 1000 executions, 20 instances
    4 workers, 2000 executions, 40 instances

so every instance gets 50 executions (AMC's 10 at a time each) whatever the run, and every
AMC account has 10 instances (one account in run 1, four in run 3, each connected by a user of
its own): AMC runs at most 200 executions of an account at once, so 40 instances on one account
would measure that cap (run 3 took twice as long), not the engine. Durations
are AMC-like (15 to 45 simulated minutes) at time scale 10 (`--scale`; `AMC_TIME_SCALE` and
the sandbox's `time_scale`): each run takes about 16 minutes. At 20x, run 3's four workers,
the sandbox serving 40 instances and PostgreSQL keep both cores of a 2-core machine busy
while runs end in waves: recording a status then took 140 ms at the median and 1.8 s at
p99 (on average 12 of 29 connections sat idle inside a transaction, their process waiting for
a core), so its lags measured the queue for the cores, not the engine. "busy" below is the CPU the
workers and the sandbox used over the run's wall time, as a share of the machine's cores.
Needs AMC_TEST_POSTGRES_URL.

Per run: AMC calls per execution (the sandbox's counters, token grants apart), detection lag
(AMC's end to the store recording AMC's final status: the execution's own event), total lag
(to `succeeded`) and between them the download (result URLs, files, Parquet, publication),
p50/p95 in simulated seconds, 429s, store statements per execution (each worker's
`amc_store_queries_total` from its --metrics-port), CPU seconds and peak RSS per worker,
executions finished per (real) minute. Aims: calls, store statements and CPU per execution in
run 3 at most 1.2x run 1's; lag p95 at most 1.5x run 1's.
"""

SCALE = 10.0  # default of --scale
DURATION = "900-2700"
PER_INSTANCE = 50
PER_ACCOUNT = 10  # instances per AMC account (AMC: 200 active executions per account)
RUNS = ((1, 500, 10), (2, 1000, 20), (4, 2000, 40))
DEADLINE = 60 * 900.0  # real seconds per run at time scale 1 (divided by --scale)
STARTED = re.compile(r"worker (\S+) started")
METRICS = re.compile(r"metrics at (http://\S+)")
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED")


@dataclass
class Run:
    workers: int
    executions: int
    instances: int
    calls: int = 0
    throttled: int = 0
    detection: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    download: list[float] = field(default_factory=list)
    store_queries: float = 0.0
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    succeeded: int = 0
    wall: float = 0.0
    scale: float = SCALE
    sandbox_cpu: float = 0.0

    @property
    def busy(self) -> float:
        """CPU of the workers and the sandbox over the wall time, a share of every core."""
        used = sum(self.cpu) + self.sandbox_cpu
        return used / (self.wall * (os.cpu_count() or 1)) if self.wall else float("nan")


def windows(count: int) -> list[tuple[str, str]]:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    out = []
    for index in range(count):
        start = today - timedelta(days=3 + index % 20)
        out.append((start.isoformat(), (start + timedelta(days=1)).isoformat()))
    return out


async def fresh_database(admin_url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]

    name = f"amc_cost_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def users(run: Run) -> list[tuple[str, str]]:
    """(e-mail, refresh token) of the user connecting each AMC account of the run."""
    from amc_manager.config import DEFAULT_USER

    accounts = max(1, run.instances // PER_ACCOUNT)
    return [(DEFAULT_USER, REFRESH_TOKEN)] + [
        (f"agency-{k}@example.com", f"{REFRESH_TOKEN}-{k}") for k in range(1, accounts)
    ]


async def enqueue_all(database_url: str, home: Path, count: int, emails: list[str]) -> None:
    """The work in the store, as `amc run --no-wait` would queue it (each instance's runs by
    the user who connected its account): round robin over the instances, a different day
    each."""
    from amc_manager.engine.jobs import RunSpec, enqueue
    from amc_manager.store import Store, database_url_for

    async with Store(database_url_for(database_url, home)) as store:
        owned = []
        for email in emails:
            user_id = await store.ensure_user(email)
            owned += [(i, user_id) for i in await store.list_instances(user_id)]
        owned.sort(key=lambda pair: pair[0].instance_id)
        for index, (start, end) in enumerate(windows(count)):
            instance, user_id = owned[index % len(owned)]
            spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
            await enqueue(store, user_id, spec)


async def open_count(database_url: str, home: Path) -> int:
    from amc_manager.store import Store, database_url_for

    async with Store(database_url_for(database_url, home)) as store:
        counts = await store.execution_counts()
    return sum(n for s, n in counts.items() if s not in ("succeeded", "failed", "cancelled"))


Seen = dict[str, tuple[float | None, float | None]]


async def event_times(database_url: str, home: Path) -> Seen:
    """AMC execution id -> (AMC's final status first recorded, succeeded), store clock."""
    import sqlalchemy as sa

    from amc_manager.store import Store, database_url_for
    from amc_manager.store import schema as t

    e, ev = t.workflow_executions.c, t.execution_events.c
    async with Store(database_url_for(database_url, home)) as store, store.begin() as conn:
        rows = (
            await conn.execute(
                sa.select(e.amc_execution_id, ev.state, ev.amc_status, ev.at).join(
                    t.execution_events, ev.execution_id == e.id
                )
            )
        ).all()
    out: Seen = {}
    for amc_id, state, amc_status, at in rows:
        seen, done = out.get(amc_id, (None, None))
        if amc_status in FINAL:
            seen = float(at) if seen is None else min(seen, float(at))
        if state == "succeeded":
            done = float(at)
        out[amc_id] = (seen, done)
    return out


def amc(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(AMC), *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"amc {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def worker_env(
    home: Path, sandbox: SandboxServer, database_url: str, scale: float
) -> dict[str, str]:
    from amc_manager.client import TokenCipher

    env = clean_env()
    env.update(
        AMC_HOME=str(home),
        AMC_DATABASE_URL=database_url,
        AMC_USE_REAL_API="true",
        AMC_API_BASE_URL=sandbox.url,
        AMC_LWA_TOKEN_URL=f"{sandbox.url}/auth/o2/token",
        AMC_LWA_AUTH_URL=f"{sandbox.url}/ap/oa",
        AMAZON_CLIENT_ID=CLIENT_ID,
        AMAZON_CLIENT_SECRET=CLIENT_SECRET,
        FERNET_KEY=TokenCipher.generate_key(),
        AMC_SECRET_KEY=secrets.token_urlsafe(48),
        AMC_TIME_SCALE=str(scale),
        AMC_DAILY_ADHOC_QUOTA="0",
    )
    return env


def start_workers(workdir: Path, env: dict[str, str], count: int) -> list[tuple[Any, str]]:
    """`amc worker --metrics-port 0` processes, once each announced its metrics URL."""
    started = []
    for index in range(count):
        log = workdir / f"worker-{index}.log"
        with log.open("wb") as handle:
            child = subprocess.Popen(
                [str(AMC), "worker", "--metrics-port", "0"],
                env=env,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
            )
        started.append((child, log))
    out = []
    for child, log in started:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            found = METRICS.search(text)
            if found and STARTED.search(text):
                out.append((child, found.group(1)))
                break
            if child.poll() is not None:
                raise SystemExit(f"worker exited: {text[-2000:]}")
            time.sleep(0.1)
        else:
            raise SystemExit(f"worker did not start: {log.read_text()[-2000:]}")
    return out


def scrape_queries(url: str) -> float:
    text = httpx.get(url, timeout=30).text
    found = re.search(r"^amc_store_queries_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else float("nan")


def one_run(root: Path, admin_url: str, run: Run) -> None:
    workdir = root / f"run-{run.workers}"
    workdir.mkdir()
    people = users(run)
    config = {
        "instances": min(run.instances, PER_ACCOUNT),
        "identities": [
            {"refresh_token": token, "instances": PER_ACCOUNT} for _, token in people[1:]
        ],
        "duration": DURATION,
        "time_scale": run.scale,
        "stats_enabled": True,
    }
    with sandbox_server(workdir, config, name="sandbox") as sandbox:
        database_url = asyncio.run(fresh_database(admin_url))
        home = workdir / "home"
        env = worker_env(home, sandbox, database_url, run.scale)
        for email, token in people:
            amc(env, workdir, "auth", "add-token", "--as", email, stdin=token + "\n")
            amc(env, workdir, "accounts", "sync", "--as", email)
        asyncio.run(enqueue_all(database_url, home, run.executions, [e for e, _ in people]))
        began = time.time()
        workers = start_workers(workdir, env, run.workers)
        try:
            while time.time() - began < DEADLINE / run.scale:
                if asyncio.run(open_count(database_url, home)) == 0:
                    break
                time.sleep(1.0)
            run.wall = time.time() - began
            for child, url in workers:
                run.store_queries += scrape_queries(url)
                run.cpu.append(cpu_seconds(child.pid))
                run.rss.append(peak_rss_mb(child.pid))
            run.sandbox_cpu = cpu_seconds(sandbox.process.pid)
        finally:
            for child, _ in workers:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child, _ in workers:
                child.wait(timeout=60)
        stats = sandbox.stats()
        ends = terminal_times(sandbox)
        seen = asyncio.run(event_times(database_url, home))
    run.calls = sum(n for key, n in stats["requests_by_instance"].items() if key != "-")
    run.throttled = int(stats["throttled_total"])
    for amc_id, (status, ended) in ends.items():
        detected, done = seen.get(amc_id, (None, None))
        if detected is not None:
            run.detection.append((detected - ended) * run.scale)
        if done is not None:
            run.total.append((done - ended) * run.scale)
        if detected is not None and done is not None:
            run.download.append((done - detected) * run.scale)
        run.succeeded += status == "SUCCEEDED" and done is not None


def report(runs: list[Run]) -> None:
    print(
        f"\ntime scale {runs[0].scale:g}, durations {DURATION} simulated s, "
        f"{runs[0].executions // runs[0].instances} executions per instance; lags in simulated "
        "seconds"
    )
    print(
        f"{'workers':>7} {'execs':>5} {'inst':>4} {'calls/ex':>8} {'det p50':>7} {'p95':>6} "
        f"{'tot p50':>7} {'p95':>6} {'dl p50':>6} {'p95':>6} {'429s':>5} {'queries/ex':>10} "
        f"{'CPU s/worker':>14} "
        f"{'CPU ms/ex':>9} {'RSS MB/worker':>16} {'done/min':>8} {'ok':>5} {'busy':>5}"
    )
    for r in runs:
        cpu = " ".join(f"{c:.0f}" for c in r.cpu)
        rss = " ".join(f"{m:.0f}" for m in r.rss)
        print(
            f"{r.workers:7d} {r.executions:5d} {r.instances:4d} {r.calls / r.executions:8.2f} "
            f"{percentile(r.detection, 0.5):7.1f} {percentile(r.detection, 0.95):6.1f} "
            f"{percentile(r.total, 0.5):7.1f} {percentile(r.total, 0.95):6.1f} "
            f"{percentile(r.download, 0.5):6.1f} {percentile(r.download, 0.95):6.1f} "
            f"{r.throttled:5d} {r.store_queries / r.executions:10.1f} {cpu:>14} "
            f"{1000 * sum(r.cpu) / r.executions:9.1f} {rss:>16} "
            f"{r.succeeded / (r.wall / 60):8.0f} {r.succeeded:5d} {r.busy:5.0%}"
        )
    if len(runs) < 2:
        return
    first, last = runs[0], runs[-1]
    aims = [
        ("calls per execution", first.calls / first.executions, last.calls / last.executions, 1.2),
        (
            "store queries per execution",
            first.store_queries / first.executions,
            last.store_queries / last.executions,
            1.2,
        ),
        (
            "CPU per execution",
            sum(first.cpu) / first.executions,
            sum(last.cpu) / last.executions,
            1.2,
        ),
        (
            "detection lag p95",
            percentile(first.detection, 0.95),
            percentile(last.detection, 0.95),
            1.5,
        ),
        ("total lag p95", percentile(first.total, 0.95), percentile(last.total, 0.95), 1.5),
    ]
    print("aims (last run against the first):")
    for name, a, b, limit in aims:
        ratio = b / a if a else float("nan")
        verdict = "met" if ratio <= limit else "MISSED"
        print(f"  {name}: {b:.3g} vs {a:.3g} = {ratio:.2f}x (aim <= {limit}x: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=ABOUT, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs",
        default=",".join(str(n) for n in range(1, len(RUNS) + 1)),
        help="which of the 3 runs, comma-separated (default 1,2,3; 1,3 compares the ends)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=SCALE,
        help=f"time scale of the sandbox and the workers (default {SCALE:g})",
    )
    parser.add_argument(
        "--per-instance",
        type=int,
        default=PER_INSTANCE,
        help=f"executions per instance (default {PER_INSTANCE}; fewer for a quick look)",
    )
    options = parser.parse_args()
    admin_url = os.environ.get("AMC_TEST_POSTGRES_URL")
    if not admin_url:
        raise SystemExit("set AMC_TEST_POSTGRES_URL (bash .ci/postgres.sh prints one)")
    import tempfile

    try:
        chosen = [RUNS[int(n) - 1] for n in options.runs.split(",")]
    except (ValueError, IndexError):
        raise SystemExit(f"--runs takes run numbers 1 to {len(RUNS)}, e.g. 1,3") from None
    runs = [Run(w, i * options.per_instance, i, scale=options.scale) for w, _, i in chosen]
    with tempfile.TemporaryDirectory(prefix="amc-cost-curve-") as tmp:
        for run in runs:
            began = time.time()
            one_run(Path(tmp), admin_url, run)
            print(
                f"{run.workers} workers, {run.executions} executions: {time.time() - began:.0f} s",
                file=sys.stderr,
            )
    report(runs)
    lags = {"detection": None, "total": None, "download": None}
    print(json.dumps([r.__dict__ | lags for r in runs]))


if __name__ == "__main__":
    main()
