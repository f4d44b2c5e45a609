"""`amc sandbox serve`: the sandbox on a real socket with uvicorn, one log line when ready."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import uvicorn

from amc_manager.sandbox.app import create_app
from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.service import Sandbox

logger = logging.getLogger("amc_manager.sandbox")


class _Server(uvicorn.Server):
    """Uvicorn server that announces the URL and the credentials once it listens."""

    def __init__(self, config: uvicorn.Config, sandbox: Sandbox, announce: bool) -> None:
        super().__init__(config)
        self.sandbox = sandbox
        self._announce = announce

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().startup(sockets=sockets)  # type: ignore[arg-type]
        if self.started and self._announce:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            account = self.sandbox.account
            ids = ",".join(i.instance_id for i in account.instances)
            print(  # noqa: T201 - the ready line is the command's output
                f"AMC sandbox ready on http://{host}:{port} account={account.account_id} "
                f"marketplace={account.marketplace_id} instances={ids} "
                f"client_id={self.sandbox.config.client_id}",
                file=sys.stderr,
                flush=True,
            )


def build_server(
    config: SandboxConfig, *, host: str, port: int, state_dir: Path | None, announce: bool = True
) -> _Server:
    sandbox = Sandbox(config, state_dir)
    app = create_app(sandbox)
    uv_config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    return _Server(uv_config, sandbox, announce)


def serve(config: SandboxConfig, *, host: str, port: int, state_dir: Path | None) -> None:
    """Run until SIGINT/SIGTERM."""
    server = build_server(config, host=host, port=port, state_dir=state_dir)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    asyncio.run(server.serve())
