"""The `amc` Typer application: entry point, global options and error-to-exit-code mapping."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from amc_manager.cli import run_cmd, setup_cmd
from amc_manager.cli.common import err
from amc_manager.cli.validate import validate
from amc_manager.errors import AmcManagerError
from amc_manager.sandbox.config import SandboxConfigError, load_config

app = typer.Typer(
    name="amc",
    help="Run Amazon Marketing Cloud SQL end to end (embedded AMC sandbox by default).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The built-in AMC sandbox.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.command("validate")(validate)
run_cmd.register(app)
setup_cmd.register(app)

_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


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
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(code)


def main() -> None:
    """Console-script entry point: our errors become one line and contracts.md's exit code."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except SandboxConfigError as exc:
        _fail(str(exc), 2)
    except AmcManagerError as exc:
        _fail(str(exc), exc.exit_code)
