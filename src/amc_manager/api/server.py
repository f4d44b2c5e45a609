"""Running the app under uvicorn: one ready line naming the URL, the sandbox-mode sign-in
link, and a shutdown that first ends event streams so connections can drain."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import uvicorn

from amc_manager.api.app import create_app
from amc_manager.api.deps import ApiState
from amc_manager.config import Settings

GRACE_SECONDS = 10  # open requests finish within this before uvicorn cuts them


class _Server(uvicorn.Server):
    """uvicorn's server that tells event streams to end as soon as a stop is asked for."""

    def __init__(self, config: uvicorn.Config, states: list[ApiState]) -> None:
        super().__init__(config)
        self._states = states

    def handle_exit(self, sig: int, frame: object) -> None:
        for state in self._states:
            state.draining.set()
        super().handle_exit(sig, frame)  # type: ignore[arg-type]
        # uvicorn re-raises the signal after its graceful stop; ours is a clean exit (0), as
        # `amc worker`'s is.
        self._captured_signals.clear()


def run_server(
    settings: Settings, *, host: str, port: int, worker: bool, announce: Callable[[str], None]
) -> int:
    """Serve until SIGINT/SIGTERM; 0 after a clean stop."""
    _logging(settings.log_format)
    states: list[ApiState] = []
    app = create_app(settings, worker=worker, state_hook=states)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,  # ours drops query strings and secrets (api.middleware.AccessLog)
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=GRACE_SECONDS,
        server_header=False,
    )
    server = _Server(config, states)
    # uvicorn's loop (uvloop when installed, as with uvicorn[standard]): a plain asyncio.run
    # would keep asyncio's own, a good part slower per request and per thread hop
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(_serve(server, states, settings, announce))
    return 0 if server.started else 1


async def _serve(
    server: _Server, states: list[ApiState], settings: Settings, announce: Callable[[str], None]
) -> None:
    from amc_manager.service.runtime import Runtime

    async with Runtime(settings) as runtime:  # a bad key or setting: one line, exit 2
        await runtime.secret_key()
    task = asyncio.ensure_future(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        url = _url(server)
        announce(f"amc serve: ready at {url} (API docs: {url}/api/v1/docs)")
        if states and states[0].runtime.sandbox_mode:
            from amc_manager.service.users import create_signin_link

            token = await create_signin_link(states[0].runtime, settings.user)
            announce(f"sign in as {settings.user}: {url}/signin/{token} (one use, 15 minutes)")
    await task


def _url(server: uvicorn.Server) -> str:
    host, port = server.config.host, server.config.port
    for listener in server.servers:
        for sock in listener.sockets:
            host, port = sock.getsockname()[:2]
            break
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}"


def _logging(log_format: str = "text") -> None:
    """Our loggers at INFO on stderr unless the process configured logging already; JSON
    lines with AMC_LOG_FORMAT=json (amc_manager.logs)."""
    root = logging.getLogger()
    if log_format == "json":
        from amc_manager.logs import configure

        configure("json")
    elif not root.handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
