"""`amc validate FILE.sql`: SQL, parameters and the window checked locally (contracts.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from amc_manager.cli import validate_remote as remote
from amc_manager.config import load_settings
from amc_manager.errors import AmcManagerError, UsageError
from amc_manager.sql import (
    KnownSchema,
    ParamValue,
    Problem,
    TimeWindow,
    lint,
    read_values,
    render_json,
    render_text,
    resolve_window,
    window_problems,
)
from amc_manager.sql.problems import placeless, summary
from amc_manager.sql.windows import zone_named


@dataclass(frozen=True)
class ValidateRequest:
    """What `amc validate` was asked to check."""

    file: Path
    start: str | None = None
    end: str | None = None
    window: str | None = None
    time_zone: str | None = None
    params: Sequence[str] = ()
    param_json: Sequence[str] = ()
    params_file: Path | None = None


def read_sql(path: Path) -> str:
    """The file's text; UsageError when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", hint="give the path of an .sql file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="give a UTF-8 text file") from None


def check_file(
    request: ValidateRequest, schema: KnownSchema | None, *, now: datetime
) -> tuple[list[Problem], TimeWindow | None]:
    """Every problem of the file, its parameter values and its window; the resolved window."""
    sql = read_sql(request.file)
    name = str(request.file)
    problems: list[Problem] = []
    values = _values(request, name, problems)
    window = _window(request, name, problems, now)
    problems += lint(sql, file=name, schema=schema, values=values)
    return problems, window


def _values(request: ValidateRequest, name: str, problems: list[Problem]) -> dict[str, ParamValue]:
    try:
        return read_values(request.params, request.param_json, request.params_file)
    except AmcManagerError as exc:
        problems.append(placeless(name, exc.message, exc.hint))
        return {}


def _window(
    request: ValidateRequest, name: str, problems: list[Problem], now: datetime
) -> TimeWindow | None:
    if request.start is None and request.end is None and request.window is None:
        # No window to check; a lone --timezone is still checked.
        if request.time_zone is not None:
            try:
                zone_named(request.time_zone)
            except AmcManagerError as exc:
                problems.append(placeless(name, exc.message, exc.hint))
        return None
    try:
        window = resolve_window(
            start=request.start,
            end=request.end,
            window=request.window,
            time_zone=request.time_zone,
        )
    except AmcManagerError as exc:
        problems.append(placeless(name, exc.message, exc.hint))
        return None
    problems += window_problems(window, now=now, file=name)
    return window


def schema_for_mode() -> KnownSchema | None:
    """The sandbox's catalogue in sandbox mode; unknown in real mode until `--instance`."""
    settings = load_settings()
    return None if settings.use_real_api else KnownSchema.from_catalogue()


def report(
    request: ValidateRequest, *, as_json: bool, instance: str | None = None, dry_run: bool = False
) -> int:
    """Check, print the problems to stdout (a summary to stderr); 2 when any is an error."""
    if dry_run and not instance:
        raise UsageError("--dry-run needs --instance", hint="add --instance AMC_INSTANCE_ID")
    schema = schema_for_mode()
    if instance and load_settings().use_real_api:
        schema = KnownSchema.from_data_sources(remote.data_sources(instance))
    problems, window = check_file(request, schema, now=datetime.now(UTC))
    if dry_run and not any(p.is_error for p in problems):
        problems += remote.dry_run(request, instance or "", window)
    name = str(request.file)
    if as_json:
        extra: dict[str, object] = {"window": window.amc_fields() if window else None}
        typer.echo(render_json(name, problems, extra))
    else:
        typer.echo(render_text(problems), nl=False)
        typer.echo(f"{name}: {summary(problems)}", err=True)
    return 2 if any(p.is_error for p in problems) else 0


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
) -> None:
    """Check SQL, its parameters and the window locally, before anything is submitted.

    Problems go to stdout as FILE:LINE:COLUMN: error|warning: message, a hint indented below;
    problems with no place in the file (window, parameter values) as FILE: error|warning: ...
    A summary goes to stderr. Exit 2 when any problem is an error.

    {{name}} placeholders take --param, --param-json or --params-file values.
    CUSTOM_PARAMETER('name') needs a leading comment line: -- @param NAME TYPE [DEFAULT].
    """
    request = ValidateRequest(
        file=file,
        start=start,
        end=end,
        window=window,
        time_zone=timezone,
        params=tuple(param or ()),
        param_json=tuple(param_json or ()),
        params_file=params_file,
    )
    raise typer.Exit(report(request, as_json=as_json, instance=instance, dry_run=dry_run))
