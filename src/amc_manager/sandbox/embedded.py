"""The embedded sandbox: the same app in-process over httpx's ASGI transport, state in AMC_HOME."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import httpx

from amc_manager.sandbox.app import create_app
from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.service import Sandbox

EMBEDDED_BASE_URL = "http://amc-sandbox.internal"


class EmbeddedSandbox:
    """An async context manager owning a Sandbox and an httpx client that reaches it.

    `client` sends plain requests (absolute URLs on `EMBEDDED_BASE_URL`), so presigned result
    URLs the sandbox hands out work through the same client.
    """

    def __init__(self, config: SandboxConfig, state_dir: Path | None) -> None:
        self.sandbox = Sandbox(config, state_dir)
        self._app = create_app(self.sandbox)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._app), base_url=EMBEDDED_BASE_URL, timeout=60
        )

    @property
    def base_url(self) -> str:
        return EMBEDDED_BASE_URL

    async def __aenter__(self) -> EmbeddedSandbox:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.sandbox.aclose()
