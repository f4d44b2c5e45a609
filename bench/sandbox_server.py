"""`amc sandbox serve` for the benchmarks: started on a free port, its ready line read, stopped.

The benchmarks run as scripts (`python bench/x_bench.py`), so this module is imported by its
bare name from the scripts' own folder.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

AMC = Path(sys.executable).with_name("amc")
READY = re.compile(
    r"AMC sandbox ready on (http://\S+) account=(\S+) marketplace=(\S+) instances=(\S+)"
)
LEAKS = ("AMC_", "AMAZON_CLIENT_", "FERNET_KEY")  # settings of ours a child must not inherit
START_SECONDS = 60.0
STOP_SECONDS = 30.0


@dataclass(frozen=True)
class SandboxServer:
    """A running `amc sandbox serve` and what its ready line announced."""

    process: subprocess.Popen[bytes]
    url: str
    account: str
    marketplace: str
    instances: list[str]
    state_dir: Path | None
    log: Path

    def stats(self) -> dict[str, Any]:
        """The sandbox's counters (`stats_enabled` must be set in its config)."""
        response = httpx.get(f"{self.url}/__sandbox/stats", timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def clean_env() -> dict[str, str]:
    """This process's environment without any setting that would leak into a child `amc`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(LEAKS)}


@contextmanager
def sandbox_server(
    workdir: Path, config: Mapping[str, Any], *, name: str = "sandbox", state: bool = True
) -> Iterator[SandboxServer]:
    """`amc sandbox serve --port 0 --config` (and `--state-dir` unless `state` is false).

    The config, the log (stdout and stderr) and the state folder are `workdir/NAME.json`,
    `NAME.log` and `NAME-state`. The server is stopped with SIGTERM on leaving, killed if it
    does not end within 30 s.
    """
    config_file = workdir / f"{name}.json"
    config_file.write_text(json.dumps(dict(config)))
    state_dir = workdir / f"{name}-state" if state else None
    args = [str(AMC), "sandbox", "serve", "--port", "0", "--config", str(config_file)]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    log = workdir / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=handle,
            env=clean_env(),
            cwd=workdir,
        )
    try:
        found = _ready(process, log)
        yield SandboxServer(
            process,
            url=found.group(1),
            account=found.group(2),
            marketplace=found.group(3),
            instances=found.group(4).split(","),
            state_dir=state_dir,
            log=log,
        )
    finally:
        _stop(process)


def _ready(process: subprocess.Popen[bytes], log: Path) -> re.Match[str]:
    """The ready line once the server has written it; exits the benchmark if it never does."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = READY.search(log.read_text(errors="replace"))
        if found is not None:
            return found
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"sandbox did not start: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
