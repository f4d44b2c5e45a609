"""The sandbox's SQL engine: compile AMC SQL (rules, parameters, lineage) and run it on DuckDB."""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope

from amc_manager.catalogue import CATALOGUE, Catalogue, Column, Table, ThresholdClass
from amc_manager.sandbox import rules
from amc_manager.sandbox.dialect import AMC, CompileError, invalid, parse_statement
from amc_manager.sandbox.engine import (
    RuntimeFailure,
    compile_failure,
    empty_table,
    execute,
    normalize_types,
    output_names,
)
from amc_manager.sandbox.errors import SandboxError
from amc_manager.sandbox.functions import pin_clock, translate_functions
from amc_manager.sandbox.lineage import Lineage, is_metric, strictest
from amc_manager.sandbox.params import InputParameter, ParameterContext, substitute_parameters
from amc_manager.sandbox.privacy import ColumnPolicy, PrivacyPlan, apply_thresholds
from amc_manager.sandbox.userlists import add_user_lists

__all__ = [
    "CompileError",
    "CompiledQuery",
    "InputParameter",
    "PrivacyOptions",
    "QueryRequest",
    "QueryRuntimeError",
    "compile_query",
    "run_query",
]

_SQL_TYPES = {"STRING": "STRING", "LONG": "BIGINT", "INTEGER": "INT", "DECIMAL": "DECIMAL(38, 4)"}


def _sql_type(column: Column) -> str:
    name = _SQL_TYPES.get(column.data_type, str(column.data_type))
    return f"ARRAY<{name}>" if column.array else name


@functools.lru_cache(maxsize=16)
def _qualify_schema(catalogue: Catalogue) -> dict[str, object]:
    """The catalogue's tables as sqlglot's qualifier wants them (one per catalogue object)."""
    return {table.name: {c.name: _sql_type(c) for c in table.columns} for table in catalogue}


class QueryRuntimeError(SandboxError):
    """The query compiled but failed while running (AMC: a FAILED execution)."""


@dataclass(frozen=True)
class PrivacyOptions:
    """The workflow's privacy and output-shaping options (amc-api.md 3.1, 6.4)."""

    filtered_metrics_discriminator_column: str | None = None
    distinct_user_count_column: str | None = None
    filtered_reason_column: str | None = None
    privacy_filtering_behavior: str = "REMOVE_ROWS"  # or "REMOVE_VALUES"
    disable_aggregation_controls: bool = False


@dataclass(frozen=True)
class QueryRequest:
    """One AMC SQL query with its window, parameters and privacy options."""

    sql: str
    workflow_id: str
    window_start: datetime
    window_end: datetime
    time_zone: str = "UTC"
    input_parameters: tuple[InputParameter, ...] = ()
    parameter_values: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    privacy: PrivacyOptions = PrivacyOptions()


@dataclass(frozen=True)
class CompiledQuery:
    """A validated query, ready to run against any day's data."""

    request: QueryRequest
    tables: frozenset[str]
    output_columns: tuple[str, ...]
    plan: exp.Query  # DuckDB-ready AST with user lists; copied and clock-pinned per run
    privacy: PrivacyPlan
    catalogue: Catalogue = CATALOGUE  # the served tables it was compiled against


class WindowSource(Protocol):
    """What run_query needs from the data generator (SyntheticData)."""

    def window(
        self,
        table: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        columns: Iterable[str] | None = None,
    ) -> pa.Table: ...


def compile_query(request: QueryRequest, catalogue: Catalogue = CATALOGUE) -> CompiledQuery:
    """Validate `request` like AMC's compiler against the tables of `catalogue` (the sandbox's
    served tables); raises CompileError. Touches no data."""
    workflow_id = request.workflow_id
    query = parse_statement(request.sql, workflow_id)
    names = output_names(query)
    rules.check_grammar(query, workflow_id)
    substitute_parameters(query, _parameter_context(request))
    try:
        rules.check_tables(query, workflow_id, catalogue)
        qualified = qualify(
            query,
            schema=_qualify_schema(catalogue),
            dialect=AMC,
            validate_qualify_columns=False,
            allow_partial_qualification=True,
            quote_identifiers=False,
            identify=False,
        )
        lineage = Lineage(qualified, catalogue)
    except OptimizeError as error:
        raise invalid(workflow_id, _optimizer_message(str(error))) from None
    _check(lineage, request)
    privacy = _privacy_plan(lineage, request)
    translate_functions(qualified, workflow_id)
    plan = add_user_lists(lineage)
    compiled = CompiledQuery(
        request, _tables(plan, catalogue), tuple(names), plan, privacy, catalogue
    )
    _dry_run(compiled, catalogue)
    return compiled


class CompiledQueries:
    """Compiled queries kept by request, for one catalogue (a bounded LRU shared by threads).

    An execution is compiled when it is created (AMC answers a bad query at once) and again
    when it runs; the compile, a DuckDB dry run included, was about half of the sandbox's CPU
    under load. A `CompiledQuery` is never changed after compiling (each run copies its
    plan), so one can serve both. Compile errors are not kept.
    """

    def __init__(self, catalogue: Catalogue = CATALOGUE, size: int = 512) -> None:
        self.catalogue = catalogue
        self.size = size
        self._kept: OrderedDict[str, CompiledQuery] = OrderedDict()
        self._lock = threading.Lock()

    def compile(self, request: QueryRequest) -> CompiledQuery:
        """`compile_query(request, self.catalogue)`, once per distinct request."""
        key = _request_key(request)
        with self._lock:
            compiled = self._kept.get(key)
            if compiled is not None:
                self._kept.move_to_end(key)
                return compiled
        compiled = compile_query(request, self.catalogue)
        with self._lock:
            self._kept[key] = compiled
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return compiled


def _request_key(request: QueryRequest) -> str:
    """Everything a compile reads from the request, as one text."""
    return json.dumps(
        [
            request.sql,
            request.workflow_id,
            request.window_start.isoformat(),
            request.window_end.isoformat(),
            request.time_zone,
            [[p.name, p.data_type, p.default_value] for p in request.input_parameters],
            dict(request.parameter_values),
            dataclasses.asdict(request.privacy),
        ],
        sort_keys=True,
        default=repr,
    )


def _optimizer_message(message: str) -> str:
    """sqlglot's qualifier wording, turned into Calcite's where they differ."""
    if message.startswith("Unknown output column: "):
        return f"Ordinal out of range: {message.rsplit(' ', 1)[-1]}"
    if message.startswith("Alias already used: "):
        return f"Duplicate relation name '{message.rsplit(' ', 1)[-1]}' in FROM clause"
    return message


def _parameter_context(request: QueryRequest) -> ParameterContext:
    return ParameterContext(
        workflow_id=request.workflow_id,
        declared={p.name: p for p in request.input_parameters},
        values=request.parameter_values,
        window_start=request.window_start,
        window_end=request.window_end,
        time_zone=request.time_zone,
    )


def _check(lineage: Lineage, request: QueryRequest) -> None:
    rules.check_columns(lineage, request.workflow_id)
    rules.check_literal_filters(lineage, request.workflow_id)
    if not request.privacy.disable_aggregation_controls:
        rules.check_outputs(lineage, request.workflow_id)
        rules.check_aggregated(lineage, request.workflow_id)


def _tables(query: exp.Query, catalogue: Catalogue) -> frozenset[str]:
    return frozenset(t.name for t in query.find_all(exp.Table) if t.name in catalogue)


def _privacy_plan(lineage: Lineage, request: QueryRequest) -> PrivacyPlan:
    options = request.privacy
    classes = lineage.outputs(lineage.root)
    metrics = _metric_flags(lineage)
    root = lineage.root.expression
    ordered = [t.name for t in root.find_all(exp.Table) if t.name in lineage.catalogue]
    return PrivacyPlan(
        columns=tuple(
            ColumnPolicy(cls, metric and cls is ThresholdClass.NONE)
            for cls, metric in zip(classes, metrics, strict=True)
        ),
        floor=_hidden_key_class(lineage).min_users,
        enforce=not options.disable_aggregation_controls,
        fold=bool(options.filtered_metrics_discriminator_column)
        or options.privacy_filtering_behavior.upper() == "REMOVE_VALUES",
        discriminator=bool(options.filtered_metrics_discriminator_column),
        user_count=bool(options.distinct_user_count_column),
        reason=bool(options.filtered_reason_column),
        data_source=ordered[0] if ordered else "",
    )


def _root_branches(scope: Scope) -> list[tuple[Scope, exp.Select]]:
    """The SELECTs whose rows form the result: the root, or the branches of its UNIONs."""
    query = scope.expression
    if isinstance(query, exp.SetOperation):
        return [b for branch in scope.set_operation_scopes for b in _root_branches(branch)]
    return [(scope, query)] if isinstance(query, exp.Select) else []


def _metric_flags(lineage: Lineage) -> list[bool]:
    branches = [select.selects for _, select in _root_branches(lineage.root)]
    return [all(is_metric(b[i].unalias()) for b in branches) for i in range(len(branches[0]))]


def _hidden_key_class(lineage: Lineage) -> ThresholdClass:
    """Grouping keys of the result that are not output still identify its rows' users."""
    classes = []
    for scope, select in _root_branches(lineage.root):
        group = select.args.get("group")
        outputs = [projection.unalias() for projection in select.selects]
        for key in group.expressions if group else []:
            if key not in outputs:
                classes.append(lineage.expression_class(key, scope))
    return strictest(classes)


def _dry_run(compiled: CompiledQuery, catalogue: Catalogue) -> None:
    """Bind the query in DuckDB over empty tables, so unknown functions and type errors fail
    at compile time as they do in AMC."""
    request = compiled.request
    tables = {name: empty_table(_served(catalogue, name)) for name in compiled.tables}
    try:
        with execute(_runnable_sql(compiled, request.window_end), tables):
            pass
    except RuntimeFailure as failure:
        raise compile_failure(request.workflow_id, failure, compiled.plan) from None


def _served(catalogue: Catalogue, name: str) -> Table:
    table = catalogue.table(name)
    assert table is not None, name  # compiled.tables holds only the catalogue's tables
    return table


def _referenced_names(plan: exp.Query) -> frozenset[str]:
    """Every column name the query mentions, whatever its table: a table's window builds only
    these (a name another table also has costs a column built for nothing, never a miss)."""
    return frozenset(column.name.lower() for column in plan.find_all(exp.Column))


def _runnable_sql(compiled: CompiledQuery, now: datetime) -> str:
    plan = pin_clock(compiled.plan.copy(), now)
    return plan.sql(dialect="duckdb", identify=True)


def run_query(compiled: CompiledQuery, data: WindowSource, *, now: datetime) -> pa.Table:
    """Run a compiled query on the window's data; the rows left after privacy filtering."""
    request = compiled.request
    read = _referenced_names(compiled.plan)
    tables = {
        name: data.window(
            name,
            request.window_start,
            request.window_end,
            now=now,
            columns=[c for c in _served(compiled.catalogue, name).column_names if c in read],
        )
        for name in sorted(compiled.tables)
    }
    try:
        with execute(_runnable_sql(compiled, now), tables) as (conn, result):
            result = normalize_types(result)
            shown = apply_thresholds(conn, result, compiled.privacy)
    except RuntimeFailure as failure:
        raise QueryRuntimeError(failure.message) from None
    return _finish(shown, result.schema, compiled)


def _finish(shown: pa.Table, schema: pa.Schema, compiled: CompiledQuery) -> pa.Table:
    """Restore the result's column types (folding sums widen integers) and names."""
    options = compiled.request.privacy
    count = len(compiled.output_columns)
    columns = [shown.column(i).cast(schema.field(i).type) for i in range(count)]
    names = list(compiled.output_columns)
    extras = [
        (options.filtered_metrics_discriminator_column, pa.bool_()),
        (options.distinct_user_count_column, pa.int64()),
        (options.filtered_reason_column, pa.string()),
    ]
    index = count
    for name, data_type in extras:
        if name:
            columns.append(shown.column(index).cast(data_type))
            names.append(name)
            index += 1
    return pa.Table.from_arrays(columns, names=names)
