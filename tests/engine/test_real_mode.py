"""Real mode (`AMC_USE_REAL_API=true`) against `amc sandbox serve`: rows, login, audit log."""

from __future__ import annotations

import json
import select
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import httpx

from amc_manager.sandbox.config import DEFAULT_SEED
from tests.engine.live import (
    DAILY_SQL,
    Processes,
    clean_environ,
    real_env,
    run_amc,
    setup_real,
)
from tests.rows import assert_same_rows
from tests.windows import day_window

EXAMPLES = Path(__file__).parents[2] / "examples"


def _audit_counts(home: Path) -> dict[str, int]:
    """The store's audit log by kind, read straight from the SQLite file."""
    with closing(sqlite3.connect(home / "amc-manager.db")) as db:
        found = db.execute("SELECT kind, COUNT(*) FROM audit_log GROUP BY kind").fetchall()
    return {str(kind): int(n) for kind, n in found}


def _server_counts(stats: dict[str, int]) -> dict[str, int]:
    """The sandbox's counters under the audit log's kinds (kinds never seen left out)."""
    counts = {
        "api": stats["requests_total"],
        "token": stats["token_grants"],
        "download": stats["downloads"],
    }
    return {kind: n for kind, n in counts.items() if n}


def test_real_mode_gives_the_rows_of_embedded_mode(tmp_path: Path) -> None:
    """Same seed, queries and window: `amc run --output` over HTTP and in-process agree.

    The queries have no ORDER BY, so AMC promises no row order: the rows are compared as
    multisets of CSV lines (every value as written, header first).
    """
    first, last = day_window(7)
    daily = tmp_path / "daily.sql"
    daily.write_text(DAILY_SQL, encoding="utf-8")
    queries = {"campaigns": EXAMPLES / "campaign_performance.sql", "daily": daily}
    window = ["--start", first, "--end", last]
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="1", seed=DEFAULT_SEED)
        env = real_env(tmp_path / "real-home", server.url, AMC_POLL_INTERVAL=0.3)
        instances = [i["instance_id"] for i in setup_real(env, tmp_path)]
        assert instances == sorted(server.instances)
        for name, sql in queries.items():
            output = str(tmp_path / f"real-{name}.csv")
            run_amc(
                env,
                tmp_path,
                "run",
                str(sql),
                "--instance",
                instances[-1],
                *window,
                "--output",
                output,
            )

    embedded_config = tmp_path / "embedded.json"
    embedded_config.write_text(json.dumps({"duration": "1", "seed": DEFAULT_SEED}))
    embedded_env = clean_environ()
    embedded_env.update(
        AMC_HOME=str(tmp_path / "embedded-home"),
        AMC_USE_REAL_API="false",
        AMC_SANDBOX_CONFIG=str(embedded_config),
        AMC_POLL_INTERVAL="0.3",
    )
    listed = json.loads(run_amc(embedded_env, tmp_path, "instances", "list", "--json").stdout)
    assert [i["instance_id"] for i in listed] == instances
    for name, sql in queries.items():
        output = str(tmp_path / f"embedded-{name}.csv")
        run_amc(
            embedded_env,
            tmp_path,
            "run",
            str(sql),
            "--instance",
            instances[-1],
            *window,
            "--output",
            output,
        )

    for name in queries:
        real = (tmp_path / f"real-{name}.csv").read_text(encoding="utf-8").splitlines()
        embedded = (tmp_path / f"embedded-{name}.csv").read_text(encoding="utf-8").splitlines()
        assert len(real) > 2, real
        assert_same_rows(real, embedded, header=True, label=name)
    daily_rows = (tmp_path / "real-daily.csv").read_text(encoding="utf-8").splitlines()
    assert len(daily_rows) == 1 + 7


def test_auth_login_completes_against_the_consent_page(tmp_path: Path) -> None:
    """`amc auth login` prints the consent URL; a plain HTTP client following the sandbox's
    redirect to the loopback callback completes it, and discovery then works."""
    with Processes(tmp_path) as procs:
        server = procs.sandbox(state=False)
        home = tmp_path / "home"
        env = real_env(home, server.url)
        login = procs.spawn("login", ["auth", "login"], env, stdout=subprocess.PIPE)
        assert login.stdout is not None
        ready, _, _ = select.select([login.stdout], [], [], 60)
        assert ready, f"no consent URL printed: {procs.tail('login')}"
        url = login.stdout.readline().decode().strip()
        assert url.startswith(f"{server.url}/ap/oa?"), url
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url and "state=" in url

        page = httpx.get(url, follow_redirects=True, timeout=30)
        assert page.status_code == 200 and page.history[0].status_code == 302
        assert page.url.host == "127.0.0.1" and "code=" in str(page.url)
        assert login.wait(timeout=30) == 0, procs.tail("login")
        login.stdout.close()
        assert "logged in" in procs.tail("login")

        run_amc(env, tmp_path, "accounts", "sync")
        listed = json.loads(run_amc(env, tmp_path, "instances", "list", "--json").stdout)
        assert sorted(i["instance_id"] for i in listed) == sorted(server.instances)
        stats = server.stats()
    # the code exchange is a token grant like the refreshes, and audited like them
    assert stats["token_grants"] >= 1 and stats["requests_total"] >= 2
    assert _audit_counts(home) == _server_counts(stats)


def test_audit_log_counts_what_the_sandbox_saw(tmp_path: Path) -> None:
    """Every AMC request of `amc accounts sync` and `amc run` (a result in several files) is in
    the audit log once: API calls, token grants and presigned downloads, counted apart."""
    first, last = day_window(7)
    with Processes(tmp_path) as procs:
        server = procs.sandbox(state=False, duration="1", rows_per_file=3)
        home = tmp_path / "home"
        env = real_env(home, server.url, AMC_POLL_INTERVAL=0.3)
        instance = setup_real(env, tmp_path)[0]["instance_id"]
        done = run_amc(
            env,
            tmp_path,
            "run",
            str(EXAMPLES / "campaign_performance.sql"),
            "--instance",
            instance,
            "--start",
            first,
            "--end",
            last,
            "--output",
            str(tmp_path / "out.csv"),
        )
        stats = server.stats()
    rows = len((tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert rows > 3 and stats["downloads"] == -(-rows // 3), (rows, stats["downloads"])
    assert stats["executions_created"] == 1 and stats["token_grants"] >= 1
    assert stats["requests_total"] >= 5, stats  # discovery, create, status, result URLs
    assert _audit_counts(home) == _server_counts(stats), done.stderr
