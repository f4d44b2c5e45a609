"""`amc validate FILE.sql`: parse, call the validation use case, print the problems."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amc_manager.cli.common import run_async, runtime_for, settings_for


def validate(
    file: Annotated[
        Path,
        typer.Argument(help="The AMC SQL file to check.", metavar="FILE.sql", show_default=False),
    ],
    start: Annotated[
        str | None,
        typer.Option(
            metavar="START",
            help="Window start: a day (its midnight in the zone), a time in the zone, "
            "or an instant with Z or an offset.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(metavar="END", help="Window end; a day alone is inclusive (that whole day)."),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            metavar="TYPE",
            help="A relative window instead: MOST_RECENT_DAY, MOST_RECENT_WEEK, CURRENT_MONTH, "
            "PREVIOUS_MONTH or ALL.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", metavar="TZ", help="IANA time zone of the window [UTC]."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", metavar="NAME=VALUE", help="A text value, taken as is (repeatable)."
        ),
    ] = None,
    param_json: Annotated[
        list[str] | None,
        typer.Option("--param-json", metavar="NAME=JSON", help="A typed JSON value (repeatable)."),
    ] = None,
    params_file: Annotated[
        Path | None,
        typer.Option("--params-file", metavar="FILE.json", help="A JSON object of name: value."),
    ] = None,
    instance: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help="Check names against this instance's AMC tables (real mode; cached a day).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Also compile at AMC (dryRun; needs --instance).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report instead.")] = False,
    as_user: Annotated[
        str | None, typer.Option("--as", metavar="EMAIL", help="Act as this user (AMC_USER).")
    ] = None,
) -> None:
    """Check SQL, its parameters and the window locally, before anything is submitted.

    Problems go to stdout as FILE:LINE:COLUMN: error|warning: message, a hint indented below;
    problems with no place in the file (window, parameter values) as FILE: error|warning: ...
    A summary goes to stderr. Exit 2 when any problem is an error.

    {{name}} placeholders take --param, --param-json or --params-file values.
    CUSTOM_PARAMETER('name') needs a leading comment line: -- @param NAME TYPE [DEFAULT].
    """
    from amc_manager.service.checks import Checked, WindowInput, read_sql
    from amc_manager.service.validation import ValidateRequest
    from amc_manager.service.validation import validate as check
    from amc_manager.sql import render_json, render_text
    from amc_manager.sql.problems import summary

    request = ValidateRequest(
        sql=read_sql(file),
        source=str(file),
        window=WindowInput(start=start, end=end, window=window, time_zone=timezone),
        params=tuple(param or ()),
        param_json=tuple(param_json or ()),
        params_file=params_file,
        instance=instance,
        dry_run=dry_run,
    )
    settings = settings_for(as_user)

    async def body() -> Checked:
        if instance is None:  # local checks open neither the store nor AMC
            return await check(
                request,
                sandbox_mode=not settings.use_real_api,
                sandbox_config=settings.sandbox_config,
            )
        async with runtime_for(settings) as runtime:
            return await check(
                request, sandbox_mode=runtime.sandbox_mode, runtime=runtime, email=settings.user
            )

    checked = run_async(body)
    name = str(file)
    if as_json:
        extra: dict[str, object] = {
            "window": checked.window.amc_fields() if checked.window else None
        }
        typer.echo(render_json(name, checked.problems, extra))
    else:
        typer.echo(render_text(checked.problems), nl=False)
        typer.echo(f"{name}: {summary(checked.problems)}", err=True)
    raise typer.Exit(0 if checked.ok else 2)
