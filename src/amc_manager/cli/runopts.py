"""The options of `amc run`, written once and shared by every command that runs SQL
(`amc run`, `amc library run`): `@takes_run_options` gives a command all of them."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from amc_manager.cli.common import AsOption

R = TypeVar("R")
FormatOption = Annotated[
    str | None, typer.Option("--format", metavar="FORMAT", help="csv, parquet, json or jsonl.")
]
SqlFileArgument = Annotated[
    Path | None,
    typer.Argument(metavar="FILE.sql", help="The SQL file (omit with --workflow)."),
]
WorkflowOption = Annotated[
    str | None, typer.Option(metavar="WORKFLOW_ID", help="Run this saved workflow instead.")
]
StartOption = Annotated[
    str | None, typer.Option(metavar="START", help="Window start: a date or a date-time.")
]
EndOption = Annotated[
    str | None,
    typer.Option(metavar="END", help="Window end; a date alone is inclusive (that day)."),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(metavar="NAME=VALUE", help="A text value, taken as is (repeatable)."),
]
ParamJsonOption = Annotated[
    list[str] | None,
    typer.Option(metavar="NAME=JSON", help="A typed JSON value (repeatable)."),
]
ParamsFileOption = Annotated[
    Path | None, typer.Option(metavar="FILE.json", help="A JSON object of name: value.")
]
NameOption = Annotated[str | None, typer.Option(metavar="NAME", help="A name to show.")]
NoLintOption = Annotated[bool, typer.Option("--no-lint", help="Skip the local SQL check.")]


@dataclass(frozen=True)
class RunArgs:
    """Every option of `amc run` as the user gave it."""

    instance: str | None
    start: str | None
    end: str | None
    window: str | None
    timezone: str
    param: list[str]
    param_json: list[str]
    params_file: Path | None
    output: Path | None
    fmt: str | None
    timeout: int | None
    ignore_data_gaps: bool
    filtered_column: str | None
    no_lint: bool
    no_wait: bool
    as_user: str | None


def run_options(
    instance: Annotated[
        str | None, typer.Option(metavar="ID", help="AMC instance id or internal id.")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    window: Annotated[
        str | None,
        typer.Option(
            metavar="TYPE",
            help="A relative window instead: MOST_RECENT_DAY, MOST_RECENT_WEEK, "
            "CURRENT_MONTH, PREVIOUS_MONTH or ALL.",
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option(metavar="TZ", help="IANA time zone of the window.")
    ] = "UTC",
    param: ParamOption = None,
    param_json: ParamJsonOption = None,
    params_file: ParamsFileOption = None,
    output: Annotated[
        Path | None, typer.Option(metavar="PATH", help="Write the rows to this file.")
    ] = None,
    fmt: FormatOption = None,
    timeout: Annotated[
        int | None, typer.Option(metavar="SECONDS", help="AMC's execution timeout, 900-86400.")
    ] = None,
    ignore_data_gaps: Annotated[
        bool, typer.Option("--ignore-data-gaps", help="Run despite incomplete data.")
    ] = False,
    filtered_column: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="AMC's filteredMetricsDiscriminatorColumn: keep under-threshold rows, "
            "folded into NULL dimensions and flagged in this column.",
        ),
    ] = None,
    no_lint: NoLintOption = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return once submitted or queued.")
    ] = False,
    as_user: AsOption = None,
) -> RunArgs:
    """The options as one value (typer reads this signature; see `takes_run_options`)."""
    return RunArgs(
        instance=instance,
        start=start,
        end=end,
        window=window,
        timezone=timezone,
        param=list(param or ()),
        param_json=list(param_json or ()),
        params_file=params_file,
        output=output,
        fmt=fmt,
        timeout=timeout,
        ignore_data_gaps=ignore_data_gaps,
        filtered_column=filtered_column,
        no_lint=no_lint,
        no_wait=no_wait,
        as_user=as_user,
    )


def takes_run_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give `command` every option of `amc run`.

    `command`'s last parameter receives them as one `RunArgs`; typer sees the command's other
    parameters followed by the options of `run_options`, so the option list lives only there.
    """
    own = list(inspect.signature(command, eval_str=True).parameters.values())
    gathered = own.pop().name
    shared = list(inspect.signature(run_options, eval_str=True).parameters.values())
    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own + shared]

    @functools.wraps(command)
    def wrapper(**given: Any) -> R:
        mine = {p.name: given.pop(p.name) for p in own}
        return command(**mine, **{gathered: run_options(**given)})

    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
