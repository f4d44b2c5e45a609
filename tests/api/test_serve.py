"""`amc serve` as a real process on a real socket: the ready line, the one-time sign-in link,
metrics, and a graceful stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.conftest import make_settings

AMC = str(Path(sys.executable).with_name("amc"))


def _serve(tmp_path: Path) -> subprocess.Popen[str]:
    settings = make_settings(tmp_path)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AMC_")}
    environ.update(
        AMC_HOME=str(settings.amc_home),
        AMC_SANDBOX_CONFIG=str(settings.sandbox_config),
        AMC_POLL_INTERVAL="0.2",
        AMC_SHUTDOWN_TIMEOUT="5",
    )
    return subprocess.Popen(
        [AMC, "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environ,
        cwd=tmp_path,
    )


def _lines_until(process: subprocess.Popen[str], pattern: str) -> list[str]:
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line.rstrip())
        if re.search(pattern, line):
            return seen
    raise AssertionError("no line matching " + pattern + ":\n" + "\n".join(seen))


def test_serve_announces_its_url_signs_in_and_stops_cleanly(tmp_path: Path) -> None:
    process = _serve(tmp_path)
    try:
        lines = _lines_until(process, r"sign in as ")
        ready = [line for line in lines if "ready at" in line]
        assert len(ready) == 1, lines
        url = re.search(r"ready at (http://\S+)", ready[0])
        assert url is not None
        base = url.group(1)
        link = re.search(r"(http://\S+/signin/\S+)", lines[-1])
        assert link is not None
        with httpx.Client(base_url=base) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            assert client.get("/metrics").status_code == 401
            signed = client.get(link.group(1).removeprefix(base))
            assert signed.status_code == 303
            me = client.get("/api/v1/me")
            assert me.status_code == 200 and me.json()["role"] == "admin"
            metrics = client.get("/metrics")
            assert metrics.status_code == 200
            assert 'amc_executions{state="queued"}' in metrics.text
            assert "amc_http_request_duration_seconds_bucket" in metrics.text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()
