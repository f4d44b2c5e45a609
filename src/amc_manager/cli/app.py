"""The `amc` Typer application: entry point, global options and error-to-exit-code mapping."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from amc_manager.config import load_settings
from amc_manager.errors import AmcManagerError
from amc_manager.sandbox.config import SandboxConfigError, load_config

T = TypeVar("T")

app = typer.Typer(
    name="amc",
    help="Run Amazon Marketing Cloud SQL end to end (embedded AMC sandbox by default).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The built-in AMC sandbox.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

_state = {"debug": False}
err = Console(stderr=True)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def _guard(action: Callable[[], T]) -> T:
    """Run a command body; our errors become one line on stderr and contracts.md's exit code."""
    try:
        return action()
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except SandboxConfigError as exc:
        if _state["debug"]:
            raise
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except AmcManagerError as exc:
        if _state["debug"]:
            raise
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(exc.exit_code) from None


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8765,
    client_id: Annotated[str | None, typer.Option(help="LwA client id to accept.")] = None,
    client_secret: Annotated[str | None, typer.Option(help="LwA client secret to accept.")] = None,
    refresh_token: Annotated[str | None, typer.Option(help="Refresh token to accept.")] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Keep executions and results here across restarts.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Data seed (default fixed).")] = None,
    duration: Annotated[
        str | None, typer.Option(help="Execution time in seconds, or MIN-MAX drawn per run.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="JSON file with the other knobs (README).")
    ] = None,
) -> None:
    """Serve the AMC API, Login with Amazon and result downloads on a real socket."""

    def run() -> None:
        from amc_manager.sandbox.server import serve

        loaded = load_config(
            config,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            seed=seed,
            duration=duration,
        )
        serve(loaded, host=host, port=port, state_dir=state_dir)

    _guard(run)


@app.command("demo")
def demo() -> None:
    """Run example queries end to end on the embedded sandbox and print their results."""

    def run() -> int:
        from amc_manager.demo import run_demo

        settings = load_settings()
        return asyncio.run(run_demo(settings, Console()))

    code = _guard(run)
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
