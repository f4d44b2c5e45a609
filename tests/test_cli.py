"""The `amc` command as users run it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq

AMC = str(Path(sys.executable).with_name("amc"))


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "AMC_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}


def test_sandbox_serve_announces_and_answers(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [AMC, "sandbox", "serve", "--port", "0", "--state-dir", str(tmp_path / "state")],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("AMC sandbox ready on http://127.0.0.1:"), line
        url = line.split()[4]
        response = httpx.post(
            f"{url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|sandbox-refresh-token",
                "client_id": "amzn1.application-oa2-client.sandbox",
                "client_secret": "sandbox-client-secret",
            },
        )
        assert response.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
    assert (tmp_path / "state" / "sandbox.db").exists()


def test_bad_sandbox_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"throttle_rate": -1}))
    done = subprocess.run(
        [AMC, "sandbox", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "throttle_rate" in done.stderr
    config.write_text(json.dumps({"no_such_knob": 1}))
    done = subprocess.run(
        [AMC, "sandbox", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    assert done.returncode == 2 and "no_such_knob" in done.stderr
    done = subprocess.run(
        [AMC, "sandbox", "serve", "--duration", "9-3"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
    )
    assert done.returncode == 2 and "duration" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_runs_end_to_end_and_is_safe_to_rerun(tmp_path: Path) -> None:
    for _ in range(2):
        started = time.monotonic()
        done = subprocess.run(
            [AMC, "demo"], capture_output=True, text=True, env=_env(tmp_path), timeout=300
        )
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 300
    for name in ("campaign_performance", "reach_and_frequency", "dsp_sponsored_ads_overlap"):
        assert name in done.stdout
    files = [
        line.split(": ", 1)[1]
        for line in done.stdout.splitlines()
        if line.startswith("result file: ")
    ]
    assert len(files) == 3
    for file in files:
        assert Path(file).parent == tmp_path / "home" / "results"
        assert pq.read_metadata(file).num_rows > 0
