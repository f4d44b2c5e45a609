"""The `amc` Typer application: entry point, global options and error-to-exit-code mapping.

Commands import the application layer inside their bodies, so `amc --help` loads typer alone.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

import amc_manager.cli.workers as workers_cli
from amc_manager.cli import collections, library, runs, schedules, serve, setup, users
from amc_manager.cli.common import private_files, say
from amc_manager.cli.validate import validate

app = typer.Typer(
    name="amc",
    help="Run Amazon Marketing Cloud SQL end to end (embedded AMC sandbox by default).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
sandbox_app = typer.Typer(
    help="The built-in AMC sandbox.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(sandbox_app, name="sandbox")
app.command("validate")(validate)
runs.register(app)
setup.register(app)
users.register(app)
library.register(app)
serve.register(app)
workers_cli.register(app)
schedules.register(app)
collections.register(app)

_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Port to listen on (0 picks a free one).")
    ] = 8765,
    client_id: Annotated[
        str | None, typer.Option(metavar="ID", help="LwA client id to accept.")
    ] = None,
    client_secret: Annotated[
        str | None, typer.Option(metavar="SECRET", help="LwA client secret to accept.")
    ] = None,
    refresh_token: Annotated[
        str | None, typer.Option(metavar="TOKEN", help="Refresh token to accept.")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Keep executions and results here across restarts."),
    ] = None,
    seed: Annotated[int | None, typer.Option(metavar="N", help="Data seed (default fixed).")] = (
        None
    ),
    duration: Annotated[
        str | None,
        typer.Option(
            metavar="SECONDS|MIN-MAX", help="Execution time in seconds, or a range drawn per run."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE.json", help="JSON file with the other knobs."),
    ] = None,
) -> None:
    """Serve the AMC API, Login with Amazon and result downloads on a real socket."""
    from amc_manager.sandbox.config import load_config
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


@app.command("demo")
def demo() -> None:
    """The main job on the embedded sandbox: example queries end to end, live progress,
    result tables and where the result files are. Safe to re-run."""
    from amc_manager.cli.common import settings_for
    from amc_manager.demo import run_demo

    raise typer.Exit(run_demo(settings_for(None)))


def _fail(message: str, code: int) -> None:
    if _state["debug"]:
        traceback.print_exc()
    say("error: " + " ".join(message.split()))  # one line, whatever the message holds
    sys.exit(code)


def main() -> None:
    """Console-script entry point: our errors become one line and contracts.md's exit code."""
    from amc_manager.errors import AmcManagerError

    private_files()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except AmcManagerError as exc:
        _fail(str(exc), exc.exit_code)
