"""Collection benchmark: a 52-week backfill as a collection against the peers' sequential way."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox_server import AMC, SandboxServer, clean_env, sandbox_server

ABOUT = """A 52-week collection's wall time against the peers' way, on the same time-scaled sandbox.

Run with `.venv/bin/python bench/collection_bench.py`. Prints figures; asserts nothing. Each side
gets a fresh `amc sandbox serve` (same seed, one instance, AMC's 10 running executions per
instance) whose executions last DURATION simulated seconds, with the sandbox's `time_scale`
and `AMC_TIME_SCALE` equal (a simulated minute lasts a second).

1. The peers' way (lessons.md: "weeks ran one by one 2 s apart"): one process submits week 1,
   waits until it finished (the engine's own polling, in-process), pauses 2 simulated seconds,
   then submits week 2, and so on.
2. The collection: `amc collections create FILE --every week` over the same 52 weeks, driven by
   one `amc worker` (collections may hold 8 of the instance's 10 slots), until `complete`.

Per side: wall time (real seconds, and simulated minutes), AMC API calls per execution (the
sandbox's counters: token grants and presigned downloads apart) and executions created.
"""

SCALE = 60.0
WEEKS = 52
DURATION = "60-180"  # simulated seconds per execution (AMC's own runs last longer)
PEER_PAUSE = 2.0  # simulated seconds between one week's end and the next week's submission
DEADLINE = 900.0  # real seconds per side before giving up
SQL = """-- Daily DSP delivery.
SELECT impression_date_utc AS day, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY 1
"""
REFRESH_TOKEN = "Atzr|sandbox-refresh-token"
CLIENT_ID = "amzn1.application-oa2-client.sandbox"
CLIENT_SECRET = "sandbox-client-secret"


def sandbox_config() -> dict[str, Any]:
    return {
        "stats_enabled": True,
        "instances": 1,
        "duration": DURATION,
        "time_scale": SCALE,
        "rows_per_file": 1000,
        # Small data: the sandbox computes each result in its one process, and this benchmark
        # measures orchestration, not the sandbox's query engine.
        "users": 2000,
        "dsp_impressions_per_day": 500,
    }


def weeks() -> list[tuple[str, str]]:
    """52 Monday weeks ending at least 3 days ago, as inclusive first and last days."""
    today = datetime.now(UTC).date() - timedelta(days=3)
    last_sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    first = last_sunday - timedelta(days=7 * WEEKS - 1)
    return [
        (str(first + timedelta(days=7 * n)), str(first + timedelta(days=7 * n + 6)))
        for n in range(WEEKS)
    ]


def environ(home: Path, sandbox: SandboxServer) -> dict[str, str]:
    from amc_manager.client import TokenCipher

    env = clean_env()
    env.update(
        AMC_HOME=str(home),
        AMC_USE_REAL_API="true",
        AMC_API_BASE_URL=sandbox.url,
        AMC_LWA_TOKEN_URL=f"{sandbox.url}/auth/o2/token",
        AMC_LWA_AUTH_URL=f"{sandbox.url}/ap/oa",
        AMAZON_CLIENT_ID=CLIENT_ID,
        AMAZON_CLIENT_SECRET=CLIENT_SECRET,
        FERNET_KEY=TokenCipher.generate_key(),
        AMC_SECRET_KEY=secrets.token_urlsafe(48),
        AMC_TIME_SCALE=str(SCALE),
        AMC_DAILY_ADHOC_QUOTA="0",
    )
    return env


def amc(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(AMC), *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"amc {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def connect(env: dict[str, str], cwd: Path) -> str:
    amc(env, cwd, "auth", "add-token", stdin=REFRESH_TOKEN + "\n")
    amc(env, cwd, "accounts", "sync")
    instances = json.loads(amc(env, cwd, "instances", "list", "--json"))
    return str(instances[0]["instance_id"])


def calls(stats: dict[str, Any], executions: int) -> str:
    api = stats["requests_total"]
    return (
        f"{api / executions:.1f} AMC API calls per execution ({api} in all; "
        f"{stats['token_grants']} token grants, {stats['downloads']} downloads apart), "
        f"{stats['executions_created']} executions created, at most {stats['max_open']} "
        "open at AMC at once"
    )


# --- 1. the peers' way ------------------------------------------------------------------------


async def peers(env: dict[str, str], instance: str) -> float:
    """Week after week, each submitted once the previous ended, plus the pause."""
    from amc_manager.config import Settings
    from amc_manager.engine.jobs import RunSpec, enqueue, finished, follow
    from amc_manager.service.access import actor, resolve_instance
    from amc_manager.service.runtime import Runtime
    from amc_manager.sql import resolve_window

    ours = ("AMC_", "AMAZON_", "FERNET_")
    given: dict[str, Any] = {k: v for k, v in env.items() if k.startswith(ours)}
    settings = Settings(**given)
    async with Runtime(settings) as runtime:
        me = await actor(runtime, settings.user)
        target = await resolve_instance(runtime, settings.user, instance)
        started = time.monotonic()
        for first, last in weeks():
            fields = resolve_window(start=first, end=last).amc_fields()
            spec = RunSpec(
                instance=target,
                sql=SQL,
                start=fields["timeWindowStart"],
                end=fields["timeWindowEnd"],
            )
            execution_id = await enqueue(runtime.store, me.id, spec)
            row = await follow(runtime.engine(), execution_id, until=finished, tick=0.05)
            if row.state != "succeeded":
                raise SystemExit(f"week {first} ended {row.state}: {row.error}")
            await asyncio.sleep(PEER_PAUSE / SCALE)
        return time.monotonic() - started


# --- 2. the collection ------------------------------------------------------------------------


def collection(env: dict[str, str], cwd: Path, home: Path, instance: str) -> float:
    """`amc collections create --every week` and one `amc worker`, until it is complete."""
    sql = cwd / "daily.sql"
    sql.write_text(SQL)
    spans = weeks()
    worker = subprocess.Popen(
        [str(AMC), "worker"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=(cwd / "worker.log").open("wb"),
    )
    try:
        time.sleep(2.0)  # the worker is up before the clock starts
        started = time.monotonic()
        made = amc(
            env, cwd, "collections", "create", str(sql), "--instance", instance,
            "--start", spans[0][0], "--end", spans[-1][1], "--every", "week",
        )  # fmt: skip
        collection_id = made.splitlines()[0]
        while time.monotonic() - started < DEADLINE:
            ended = _ended(home, collection_id)
            if ended is not None:
                if ended != "complete":
                    raise SystemExit(f"the collection ended {ended}")
                return time.monotonic() - started
            if worker.poll() is not None:
                raise SystemExit(f"the worker died: {(cwd / 'worker.log').read_text()[-2000:]}")
            time.sleep(0.05)
        raise SystemExit("the collection did not end in time")
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def _ended(home: Path, collection_id: str) -> str | None:
    with closing(sqlite3.connect(home / "amc-manager.db", timeout=30)) as db:
        row = db.execute(
            "SELECT ended_state FROM collections WHERE id = ?", (collection_id,)
        ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=ABOUT, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="amc-collection-bench-") as raw:
        work = Path(raw)
        (work / "peers").mkdir()
        (work / "collection").mkdir()
        with sandbox_server(work / "peers", sandbox_config()) as sandbox:
            env = environ(work / "peers" / "home", sandbox)
            instance = connect(env, work / "peers")
            base = sandbox.stats()
            peer_wall = asyncio.run(peers(env, instance))
            peer_stats = _minus(sandbox.stats(), base)
        with sandbox_server(work / "collection", sandbox_config()) as sandbox:
            home = work / "collection" / "home"
            env = environ(home, sandbox)
            instance = connect(env, work / "collection")
            base = sandbox.stats()
            ours = collection(env, work / "collection", home, instance)
            our_stats = _minus(sandbox.stats(), base)
    minutes = 60.0 / SCALE
    print(f"52 weekly windows, executions of {DURATION} simulated seconds, time scale {SCALE:g}")
    print(f"peers' way (sequential, +{PEER_PAUSE:g} s): {peer_wall:.1f} s real "
          f"({peer_wall / minutes:.0f} simulated minutes); {calls(peer_stats, WEEKS)}")  # fmt: skip
    print(f"collection (amc worker):        {ours:.1f} s real "
          f"({ours / minutes:.0f} simulated minutes); {calls(our_stats, WEEKS)}")  # fmt: skip
    print(f"ratio (peers' wall time / collection's): {peer_wall / ours:.1f}x")


def _minus(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    keys = ("requests_total", "token_grants", "downloads", "executions_created")
    delta: dict[str, Any] = {k: int(after[k]) - int(before[k]) for k in keys}
    delta["max_open"] = max(after.get("max_open_by_instance", {}).values(), default=0)
    return delta


if __name__ == "__main__":
    main()
