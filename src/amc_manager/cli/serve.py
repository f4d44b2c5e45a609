"""`amc serve`: the REST API (and the worker, unless --no-worker) in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from amc_manager.cli.common import AsOption, say, settings_for


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Port to listen on (0 picks a free one).")
    ] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve the API only; `amc worker` runs the work.")
    ] = False,
    as_user: AsOption = None,
) -> None:
    """Serve the REST API under /api/v1 (OpenAPI at /api/v1/docs), with the worker inside.

    Logs one line when ready, naming the URL. In sandbox mode it prints a one-time sign-in
    link for the acting user. SIGINT/SIGTERM stop it gracefully: requests finish, event
    streams end, and the worker hands over what it holds within AMC_SHUTDOWN_TIMEOUT.
    """
    settings = settings_for(as_user)
    from amc_manager.api.server import run_server

    raise typer.Exit(run_server(settings, host=host, port=port, worker=not no_worker, announce=say))
