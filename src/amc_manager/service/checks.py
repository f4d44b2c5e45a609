"""One check for every way in: SQL, parameters and the window, as `run`, `validate` and the
REST API see them, so no front end submits what another would refuse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amc_manager.engine.jobs import RunSpec
from amc_manager.errors import AmcManagerError, UsageError
from amc_manager.sql import (
    KnownSchema,
    ParamValue,
    PreparedQuery,
    Problem,
    TimeWindow,
    lint,
    prepare,
    raise_for_errors,
    read_values,
    resolve_window,
    window_problems,
)
from amc_manager.sql.problems import placeless
from amc_manager.sql.windows import zone_named
from amc_manager.store.rows import InstanceRow

TIMEOUT_RANGE = (900, 86400)


def read_sql(path: Path) -> str:
    """The SQL file's text; a UsageError naming the file when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"cannot read SQL file {path}: no such file", hint="give the path of an .sql file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(
            f"cannot read SQL file {path}: {reason}", hint="give a readable UTF-8 .sql file"
        ) from None


def parse_values(
    params: Sequence[str] = (), param_json: Sequence[str] = (), params_file: Path | None = None
) -> dict[str, ParamValue]:
    """`--param NAME=VALUE`, `--param-json NAME=JSON` and `--params-file` as typed values."""
    return read_values(params, param_json, params_file)


@dataclass(frozen=True)
class WindowInput:
    """START/END (a date-only END is inclusive) or one of AMC's relative windows, in a zone."""

    start: str | None = None
    end: str | None = None
    window: str | None = None
    time_zone: str | None = None

    @property
    def given(self) -> bool:
        return self.start is not None or self.end is not None or self.window is not None


@dataclass(frozen=True)
class RunOptions:
    """AMC execution options a run may set."""

    timeout: int | None = None
    ignore_data_gaps: bool = False
    filtered_column: str | None = None

    def check(self, *, saved_workflow: bool) -> None:
        low, high = TIMEOUT_RANGE
        if self.timeout is not None and not low <= self.timeout <= high:
            raise UsageError(f"--timeout {self.timeout} is outside {low}-{high} seconds")
        if self.filtered_column and saved_workflow:
            raise UsageError(
                "--filtered-column applies to SQL files; a saved workflow keeps "
                "its own privacy settings"
            )

    def stored(self) -> dict[str, Any]:
        """The engine's `options` column."""
        options: dict[str, Any] = {"ignore_data_gaps": self.ignore_data_gaps}
        if self.filtered_column:
            options["filtered_column"] = self.filtered_column
        if self.timeout is not None:
            options["timeout_seconds"] = self.timeout
        return options


@dataclass(frozen=True)
class Checked:
    """The outcome of the check: every problem, the resolved window and the prepared SQL."""

    problems: list[Problem]
    window: TimeWindow | None
    prepared: PreparedQuery | None = None
    values: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def raise_for_errors(self) -> None:
        """The first error as an InvalidQuery (exit 2), with the same words `validate` prints."""
        raise_for_errors(self.problems)


def check_window(
    window: WindowInput, *, source: str, now: datetime | None = None
) -> tuple[list[Problem], TimeWindow | None]:
    """AMC's time rules: retention (error), the last 48 hours (warning), whole hours, zones."""
    if not window.given:
        if window.time_zone is not None:  # a lone --timezone is still checked
            try:
                zone_named(window.time_zone)
            except AmcManagerError as exc:
                return [placeless(source, exc.message, exc.hint)], None
        return [], None
    try:
        resolved = resolve_window(
            start=window.start, end=window.end, window=window.window, time_zone=window.time_zone
        )
    except AmcManagerError as exc:
        return [placeless(source, exc.message, exc.hint)], None
    return window_problems(resolved, now=now or datetime.now(UTC), file=source), resolved


def check_sql(
    sql: str | None,
    *,
    source: str,
    values: Mapping[str, ParamValue] | None,
    window: WindowInput,
    schema: KnownSchema | None,
    lint_sql: bool = True,
    now: datetime | None = None,
) -> Checked:
    """Every problem of the SQL (unless `lint_sql` is off), its values and its window.

    `sql` None is a saved workflow: only the window is checked here (AMC holds the SQL).
    """
    problems, resolved = check_window(window, source=source, now=now)
    prepared = None
    if sql is not None:
        if lint_sql:
            problems += lint(sql, file=source, schema=schema, values=values)
        if not any(p.is_error for p in problems):
            prepared = prepare(sql, dict(values or {}))
    return Checked(problems, resolved, prepared, dict(values or {}))


def run_spec(
    instance: InstanceRow,
    prepared: PreparedQuery | None,
    window: TimeWindow,
    options: Mapping[str, Any],
    *,
    workflow_id: str | None = None,
    values: Mapping[str, ParamValue] | None = None,
) -> RunSpec:
    """A checked request as the engine's run: prepared SQL (or a saved workflow), AMC's
    window fields and the options."""
    fields = window.amc_fields()
    return RunSpec(
        instance=instance,
        sql=prepared.sql if prepared else None,
        workflow_id=workflow_id,
        start=fields.get("timeWindowStart"),
        end=fields.get("timeWindowEnd"),
        window_type=fields["timeWindowType"],
        time_zone=fields["timeWindowTimeZone"],
        parameter_values=dict(prepared.parameter_values)
        if prepared
        else {k: v.value for k, v in (values or {}).items()},
        input_parameters=[dict(p) for p in prepared.input_parameters] if prepared else [],
        options=dict(options),
    )
