"""Fixtures of the dashboard's browser tests: a real `amc serve` on 127.0.0.1 over the
embedded, time-scaled sandbox, users made through the CLI, and Debian's Chromium driven by
Playwright (never a downloaded browser). Without a browser the tests skip, saying so; CI
(`.ci/run`) installs Chromium and sets AMC_TEST_BROWSER, so there a skip fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

AMC = str(Path(sys.executable).with_name("amc"))
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "web"
BUILD = REPO / "src" / "amc_manager" / "web" / "static" / "build"
ADMIN = (
    "local@amc-manager"  # sandbox mode's default user: an admin whose token reaches both instances
)
MEMBER = "member@example.com"
PASSWORD = "correct horse battery"
FAIL_MARKER = "web_test_fail_once"


def browser_path() -> str | None:
    """Debian's chromium: AMC_TEST_BROWSER (CI), else on PATH, else /usr/bin/chromium."""
    chosen = os.environ.get("AMC_TEST_BROWSER") or shutil.which("chromium")
    if not chosen and Path("/usr/bin/chromium").exists():
        chosen = "/usr/bin/chromium"
    return chosen or None


@dataclass
class Server:
    """A running `amc serve`: its URL, environment (for CLI calls on the same store) and
    instances."""

    url: str
    env: dict[str, str]
    cwd: Path
    instances: list[str]

    def amc(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [AMC, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"amc {' '.join(args)}: {done.stderr}"
        return done.stdout


def _environment(home: Path) -> dict[str, str]:
    config = home.parent / "sandbox.json"
    config.write_text(
        json.dumps(
            {
                "duration": "1.5",
                "throttle_rate": 0,
                "faults": {"fail_markers": [{"marker": FAIL_MARKER, "times": 1}]},
            }
        )
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AMC_")}
    environ.update(
        AMC_HOME=str(home),
        AMC_SANDBOX_CONFIG=str(config),
        AMC_POLL_INTERVAL="0.2",
        AMC_REQUEST_RATE="0",
        AMC_SHUTDOWN_TIMEOUT="3",
    )
    return environ


def _ready(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line.rstrip())
        found = re.search(r"ready at (http://\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("amc serve did not start:\n" + "\n".join(seen[-30:]))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not (BUILD / "app.js").is_file():
        pytest.fail("the dashboard's assets are not built: run `make assets` (make test does)")
    root = tmp_path_factory.mktemp("web")
    environ = _environment(root / "home")
    process = subprocess.Popen(
        [AMC, "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environ,
        cwd=root,
    )
    try:
        url = _ready(process)
        drain = _drain(process)
        running = Server(url, environ, root, [])
        running.amc("users", "set-password", ADMIN, stdin=f"{PASSWORD}\n")
        running.amc("users", "create", MEMBER, "--password", "-", stdin=f"{PASSWORD}\n")
        listed = json.loads(running.amc("instances", "list", "--json"))
        running.instances = [i["instance_id"] for i in listed]
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        del drain


def _drain(process: subprocess.Popen[str]) -> Any:
    """Keep reading the server's log so its pipe never fills (kept for failures' sake)."""
    import threading

    lines: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            del lines[:-500]

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return lines


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: sync Playwright keeps an event loop running while it is open, which the
    async tests of other modules must not meet."""
    path = browser_path()
    wanted = os.environ.get("AMC_TEST_BROWSER")
    if wanted and not Path(wanted).exists():  # CI named a browser: its absence is a failure
        pytest.fail(f"AMC_TEST_BROWSER={wanted} does not exist")
    if path is None or not Path(path).exists():
        pytest.skip("no Chromium found (apt-get install -y chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=args, headless=True)
        yield launched
        launched.close()


def new_context(browser: Browser, server: Server, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=server.url, accept_downloads=True, **options)
    context.set_default_timeout(15_000)
    return context


def sign_in(page: Page, email: str = ADMIN, password: str = PASSWORD, target: str = "/") -> None:
    """Through the sign-in page, as a person would."""
    page.goto(f"/signin?next={target}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)


@pytest.fixture
def admin_page(browser: Browser, server: Server) -> Iterator[Page]:
    context = new_context(browser, server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page)
    yield page
    context.close()


@contextmanager
def session_client(server: Server, email: str = ADMIN) -> Iterator[httpx.Client]:
    """An HTTP client signed in as `email` (for setting up what a test then looks at)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client
