"""`amc library list|show|run`: the query library's ready analyses (parse, call, render)."""

from __future__ import annotations

from typing import Annotated

import typer

from amc_manager.cli.common import JsonOption, emit, print_json, progress, table
from amc_manager.cli.runopts import RunArgs, takes_run_options

library_app = typer.Typer(
    help="The query library: ready AMC analyses to read, fill in and run.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The query's name (see `amc library list`).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(library_app, name="library")


@library_app.command("list")
def library_list(as_json: JsonOption = False) -> None:
    """Every analysis: its name, title and the tables it reads (--json adds the question
    and the parameters)."""
    from amc_manager.service.library import list_entries

    entries = list_entries()
    if as_json:
        print_json([e.summary() for e in entries])
        return
    table(
        ["name", "title", "tables"],
        [[e.name, e.title, ", ".join(e.tables)] for e in entries],
        keep=2,
    )


@library_app.command("show")
def library_show(name: NameArgument, as_json: JsonOption = False) -> None:
    """The analysis's SQL file: its header (title, question, tables, description,
    parameters) and its SQL, ready to save and edit."""
    from amc_manager.service.library import get_entry

    entry = get_entry(name)
    if as_json:
        print_json(entry.to_json())
        return
    emit(entry.sql.rstrip("\n"))
    progress(f"run it: amc library run {entry.name} --instance ID --start DATE --end DATE")


@takes_run_options
def library_run(name: NameArgument, *, options: RunArgs) -> None:
    """Run a library analysis as `amc run` runs a file (every option of `amc run`).

    The first line of stdout is the execution id. Without --output a preview follows
    and the full result stays in AMC_HOME/results. Ctrl-C detaches: the execution goes on.
    """
    from amc_manager.cli.runs import execute_run
    from amc_manager.service.library import get_entry

    entry = get_entry(name)
    execute_run(options, sql=entry.sql, source=entry.source)


library_app.command("run")(library_run)
