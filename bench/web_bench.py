"""Web dashboard benchmark: the editor page's transferred JS+CSS, and Run to first live state."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ABOUT = """`amc serve` (a real process on 127.0.0.1, the worker inside, the embedded sandbox with
1-second executions) driven by Debian's Chromium through Playwright. Prints, asserts nothing:
- the editor page's JavaScript and CSS as transferred (gzip, as the server sends them; the
  bytes on the wire of every script and stylesheet response) and uncompressed;
- the time from the click on Run in the editor to the first live state update shown on the
  execution page (a state past `queued` arriving over the execution's event stream), over
  `--runs` runs: each value, median and worst.
Aims: under 300 KB transferred; under 1 s from Run to the first live update.
Run with `.venv/bin/python bench/web_bench.py [--runs 5]` after `make assets`.
"""

ROOT = Path(__file__).resolve().parent.parent
AMC = str(Path(sys.executable).with_name("amc"))
PASSWORD = "bench password 1"
USER = "local@amc-manager"


def start_server(home: Path) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    config = home.parent / "sandbox.json"
    config.write_text(json.dumps({"duration": "1", "throttle_rate": 0}))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AMC_")}
    environ.update(
        AMC_HOME=str(home),
        AMC_SANDBOX_CONFIG=str(config),
        AMC_POLL_INTERVAL="0.2",
        AMC_REQUEST_RATE="0",
    )
    process = subprocess.Popen(
        [AMC, "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environ,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"ready at (http://\S+)", line)
        if found:
            import threading

            threading.Thread(
                target=lambda: [None for _ in process.stderr or []], daemon=True
            ).start()
            return process, found.group(1), environ
        if not line:
            break
    process.kill()
    raise SystemExit("amc serve did not start")


def transferred(page: Any) -> dict[str, int]:
    """Wire bytes (gzip) and decoded bytes of the page's scripts and stylesheets."""
    found: dict[str, int] = page.evaluate(
        """() => {
          const parts = performance.getEntriesByType('resource')
            .filter(e => e.initiatorType === 'script' || e.initiatorType === 'link'
                         || /\\.(js|css)(\\?|$)/.test(e.name));
          return {
            files: parts.length,
            wire: parts.reduce((n, e) => n + e.transferSize, 0),
            body: parts.reduce((n, e) => n + e.encodedBodySize, 0),
            decoded: parts.reduce((n, e) => n + e.decodedBodySize, 0),
          };
        }"""
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=ABOUT, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="print each run's events")
    args = parser.parse_args()
    browser_path = (
        os.environ.get("AMC_TEST_BROWSER") or shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not Path(browser_path).exists():
        raise SystemExit("no Chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="amc-web-bench-") as tmp:
        process, url, environ = start_server(Path(tmp) / "home")
        try:
            subprocess.run(
                [AMC, "users", "set-password", USER],
                input=PASSWORD + "\n",
                text=True,
                env=environ,
                check=True,
                capture_output=True,
            )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=browser_path,
                    args=["--no-sandbox"] if os.geteuid() == 0 else [],
                )
                # bypass_csp: wait_for_function evaluates strings, which the pages' CSP forbids
                context = browser.new_context(
                    base_url=url, viewport={"width": 1280, "height": 900}, bypass_csp=True
                )
                page = context.new_page()
                page.goto("/signin")
                page.fill("#email", USER)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda u: "/signin" not in u)
                page.goto("/editor", wait_until="load")
                sizes = transferred(page)
                print(
                    f"editor page: {sizes['files']} JS/CSS files, {sizes['wire'] / 1024:.1f} KB "
                    f"transferred (gzip bodies {sizes['body'] / 1024:.1f} KB), "
                    f"{sizes['decoded'] / 1024:.1f} KB uncompressed (aim: under 300 KB)"
                )
                today = datetime.now(UTC).date()
                start = (today - timedelta(days=10)).isoformat()
                end = (today - timedelta(days=3)).isoformat()
                lags: list[float] = []
                for _ in range(args.runs):
                    page.goto("/editor")
                    page.fill("#start", start)
                    page.fill("#end", end)
                    page.wait_for_function("document.body.dataset.linted")
                    page.click("#run")
                    page.wait_for_url(re.compile(r"/executions/"))
                    page.wait_for_function("window.__firstLiveUpdate !== undefined", timeout=30_000)
                    lags.append(page.evaluate("window.__firstLiveUpdate") / 1000)
                    if args.verbose:
                        events = page.evaluate("window.__liveEvents")
                        print("  events (state, ms after Run):", events)
                    page.wait_for_function(
                        "document.getElementById('execution').dataset.state === 'succeeded'",
                        timeout=30_000,
                    )
                shown = ", ".join(f"{v:.2f}" for v in lags)
                print(
                    f"Run to first live state update: {shown} s; median "
                    f"{statistics.median(lags):.2f} s, worst {max(lags):.2f} s (aim: under 1 s)"
                )
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
