"""`amc worker` (the background engine) and `amc workers list`: parse, call, render."""

from __future__ import annotations

from typing import Annotated

import typer

from amc_manager.cli.common import (
    AsOption,
    JsonOption,
    print_json,
    run_async,
    runtime_for,
    say,
    settings_for,
    table,
)

workers_app = typer.Typer(
    help="Worker processes sharing the store.", no_args_is_help=True, rich_markup_mode=None
)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.add_typer(workers_app, name="workers")


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="At most N steps in flight at once (submissions, downloads, an instance's "
            "status check); default: no bound.",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            help="Serve the Prometheus metrics of `amc serve`'s /metrics at "
            "http://HOST:PORT/metrics (0 picks a free port).",
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(metavar="HOST", help="Interface for --metrics-port (loopback by default)."),
    ] = "127.0.0.1",
    as_user: AsOption = None,
) -> None:
    """The background engine (submission, tracking, downloads, token refresh) until
    SIGINT/SIGTERM, then a graceful stop (in-flight steps finish or hand back their leases).

    It registers in the workers table (`amc workers list`) and beats every few seconds; logs
    go to stderr, as JSON lines with AMC_LOG_FORMAT=json.
    """
    settings = settings_for(as_user)
    from amc_manager.logs import configure

    configure(settings.log_format)

    async def body() -> None:
        from amc_manager.service.worker import count_store_queries, run_worker

        async with runtime_for(settings) as runtime:
            queries = count_store_queries(runtime)
            server = None
            if metrics_port is not None:
                from amc_manager.api.metrics_server import MetricsServer

                server = MetricsServer(
                    runtime, host=metrics_host, port=metrics_port, store_queries=queries
                )
                say(f"metrics at {await server.start()}")
            try:
                await run_worker(
                    runtime, announce=say, concurrency=concurrency, store_queries=queries
                )
            finally:
                if server is not None:
                    await server.stop()

    run_async(body)


@workers_app.command("list")
def list_(json_out: JsonOption = False) -> None:
    """Every worker: host, pid, version, start, last heartbeat, leases held, and state
    (alive; lost: silent for three heartbeats, its leases released; stopped)."""
    settings = settings_for(None)

    async def body() -> list[dict[str, object]]:
        from amc_manager.service.workers import list_workers

        async with runtime_for(settings, calls_amc=False) as runtime:
            return [w.as_json() for w in await list_workers(runtime)]

    found = run_async(body)
    if json_out:
        print_json(found)
        return
    table(  # what matters first: the rightmost columns give way on a narrow terminal
        ("id", "state", "leases", "host", "pid", "heartbeat", "started", "version"),
        [
            (
                w["id"],
                w["state"],
                w["leases"],
                w["host"],
                w["pid"],
                w["last_heartbeat"],
                w["started_at"],
                w["version"],
            )
            for w in found
        ],
    )
