"""A raw-HTTP AMC caller for the sandbox tests: what any client would send, nothing more."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field
from typing import Any

import httpx

from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.service import Sandbox
from tests.windows import amc_window

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED")


class Api:
    """Authenticated AMC calls against one sandbox."""

    def __init__(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        self.client = client
        self.sandbox = sandbox
        self.config: SandboxConfig = sandbox.config
        self.instance = sandbox.account.instances[0].instance_id
        self.headers: dict[str, str] = {}

    @property
    def base(self) -> str:
        return f"/amc/reporting/{self.instance}"

    async def login(self, refresh_token: str | None = None) -> Api:
        """Log in as the default identity, or as the identity of `refresh_token` (whose
        account's first instance becomes `instance`)."""
        token = refresh_token or self.config.refresh_token
        response = await self.client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
        )
        assert response.status_code == 200, response.text
        directory = self.sandbox.directory
        account = directory.account_of(directory.identity_of(token))
        self.instance = account.instances[0].instance_id
        self.headers = {
            "Authorization": f"Bearer {response.json()['access_token']}",
            "Amazon-Advertising-API-ClientId": self.config.client_id,
            "Amazon-Advertising-API-AdvertiserId": account.account_id,
            "Amazon-Advertising-API-MarketplaceId": account.marketplace_id,
        }
        return self

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def create(self, sql: str, **fields: Any) -> httpx.Response:
        body: dict[str, Any] = {"workflow": {"sqlQuery": sql}}
        if "start" in fields or "end" not in fields:
            start, end = fields.pop("start", None), fields.pop("end", None)
            if start is None:
                start, end = amc_window()
            body.update(timeWindowType="EXPLICIT", timeWindowStart=start, timeWindowEnd=end)
        body.update(fields)
        return await self.request("POST", f"{self.base}/workflowExecutions", json=body)

    async def status(self, execution_id: str) -> dict[str, Any]:
        response = await self.request("GET", f"{self.base}/workflowExecutions/{execution_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def wait(self, execution_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            body = await self.status(execution_id)
            if body["status"] in TERMINAL:
                return body
            assert asyncio.get_running_loop().time() < deadline, body
            await asyncio.sleep(0.05)

    async def rows(self, execution_id: str) -> list[list[str]]:
        """Download every result file and parse AMC's Spark-style CSV."""
        response = await self.request(
            "GET", f"{self.base}/workflowExecutions/{execution_id}/downloadUrls"
        )
        assert response.status_code == 200, response.text
        rows: list[list[str]] = []
        for index, url in enumerate(response.json()["downloadUrls"]):
            text = (await self.client.get(url)).text
            parsed = list(csv.reader(io.StringIO(text), escapechar="\\", doublequote=False))
            rows.extend(parsed if index == 0 else parsed[1:])
        return rows

    async def run(self, sql: str, **fields: Any) -> tuple[dict[str, Any], list[list[str]]]:
        created = await self.create(sql, **fields)
        assert created.status_code == 200, created.text
        final = await self.wait(created.json()["workflowExecutionId"])
        assert final["status"] == "SUCCEEDED", final
        return final, await self.rows(final["workflowExecutionId"])


@dataclass(frozen=True)
class Outcome:
    """What creating (and, when accepted, running) one ad-hoc execution gave."""

    status_code: int
    details: str = ""
    execution: dict[str, Any] = field(default_factory=dict)
    rows: list[list[str]] = field(default_factory=list)


async def run_adhoc(
    api: Api, workflow: dict[str, Any], start: str, end: str, *, timeout: float
) -> Outcome:
    """Create an ad-hoc execution of `workflow` over [start, end) UTC and, once accepted, wait
    for its end and read its rows."""
    body = {
        "workflow": workflow,
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": start,
        "timeWindowEnd": end,
        "timeWindowTimeZone": "UTC",
    }
    response = await api.request("POST", f"{api.base}/workflowExecutions", json=body)
    created: dict[str, Any] = response.json()
    if response.status_code != 200:
        return Outcome(response.status_code, str(created.get("details", created)))
    final = await api.wait(created["workflowExecutionId"], timeout=timeout)
    rows = await api.rows(final["workflowExecutionId"]) if final["status"] == "SUCCEEDED" else []
    return Outcome(response.status_code, execution=final, rows=rows)
