"""Real mode over REST: against `amc sandbox serve` with AMC_USE_REAL_API=true, a user connects
through the served consent page and a run created over REST gives the rows of `amc run`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from amc_manager.config import Settings
from amc_manager.sandbox.config import DEFAULT_SEED
from tests.api.conftest import Api, bearer, started, wait_done
from tests.engine.live import DAILY_SQL, Processes, real_env, run_amc, setup_real
from tests.rows import assert_same_rows
from tests.windows import day_window

REST_USER = "rest@example.com"


def _settings(env: dict[str, str]) -> Settings:
    """The settings `amc serve` would read from `env` (the same store, keys and hosts)."""
    prefixes = ("AMC_", "AMAZON_", "FERNET_KEY")
    values: dict[str, Any] = {k: v for k, v in env.items() if k.startswith(prefixes)}
    return Settings(**values)


async def _connect(api: Api, token: str, consent_page: str) -> set[str]:
    """Connect Amazon with an API token: the served consent page, followed by a plain
    client (the browser), sends it back to the callback; the instances it answers."""
    start = await api.client.get("/api/v1/amazon/connect", headers=bearer(token))
    assert start.status_code == 303, start.text
    assert start.headers["location"].startswith(consent_page + "?")
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(start.headers["location"])
    assert consent.status_code == 302, consent.text
    done = await api.client.get(consent.headers["location"])
    assert done.status_code == 200, done.text
    return {i["instance_id"] for i in done.json()["instances"]}


async def _rest_run(api: Api, token: str, body: dict[str, Any]) -> list[str]:
    made = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
    assert made.status_code == 201, made.text
    execution_id = made.json()["id"]
    done = await wait_done(api, token, execution_id, seconds=60)
    assert done["state"] == "succeeded", done
    rows = await api.client.get(
        f"/api/v1/executions/{execution_id}/results?format=csv", headers=bearer(token)
    )
    assert rows.status_code == 200, rows.text
    return rows.text.splitlines()


def test_a_rest_run_gives_the_rows_of_amc_run(tmp_path: Path, clean_env: None) -> None:
    first, last = day_window(5)
    daily = tmp_path / "daily.sql"
    daily.write_text(DAILY_SQL, encoding="utf-8")
    with Processes(tmp_path) as procs:
        server = procs.sandbox(duration="1", seed=DEFAULT_SEED)
        env = real_env(tmp_path / "real-home", server.url, AMC_POLL_INTERVAL=0.3)
        instance = setup_real(env, tmp_path)[-1]["instance_id"]
        output = tmp_path / "cli.csv"
        cli = ["run", str(daily), "--instance", instance, "--start", first, "--end", last]
        run_amc(env, tmp_path, *cli, "--output", str(output))

        async def over_rest() -> list[str]:
            async with started(_settings(env), worker=True) as api:
                token = await api.token(REST_USER)
                reached = await _connect(api, token, f"{server.url}/ap/oa")
                assert instance in reached
                body = {"instance_id": instance, "sql": DAILY_SQL, "start": first, "end": last}
                return await _rest_run(api, token, body)

        rest = asyncio.run(over_rest())
    cli_rows = output.read_text(encoding="utf-8").splitlines()
    assert len(cli_rows) == 1 + 5, cli_rows
    assert_same_rows(rest, cli_rows, header=True, label="daily")
