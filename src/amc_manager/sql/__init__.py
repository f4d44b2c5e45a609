"""AMC SQL on the client side: lint, parameters, and time windows, before anything is submitted.

schema = schema_for_sandbox()           # real mode: schema_for_data_sources(AMC's dataSources)
problems = lint(sql, file="q.sql", schema=schema, values=values)
prepared = prepare(sql, values)          # sqlQuery, inputParameters, parameterValues
window = resolve_window(start="2025-07-01", end="2025-07-31", time_zone="Europe/Paris")
"""

from __future__ import annotations

from amc_manager.sql.dialect import AmcDialect
from amc_manager.sql.lint import lint
from amc_manager.sql.params import (
    DEFAULT_LIST_THRESHOLD,
    PreparedQuery,
    input_parameters,
    prepare,
    quote_string,
    substitute,
)
from amc_manager.sql.problems import (
    Problem,
    Severity,
    format_problem,
    raise_for_errors,
    render_json,
    render_text,
)
from amc_manager.sql.schema import (
    KnownSchema,
    SchemaColumn,
    SchemaTable,
    schema_for_data_sources,
    schema_for_sandbox,
)
from amc_manager.sql.template import Declaration, PlaceholderUse, Template, scan_template
from amc_manager.sql.values import (
    ParamType,
    ParamValue,
    parse_type,
    read_values,
    values_from_mapping,
)
from amc_manager.sql.windows import (
    RELATIVE_WINDOWS,
    TimeWindow,
    resolve_window,
    retention_start,
    window_problems,
)

__all__ = [
    "DEFAULT_LIST_THRESHOLD",
    "RELATIVE_WINDOWS",
    "AmcDialect",
    "Declaration",
    "KnownSchema",
    "ParamType",
    "ParamValue",
    "PlaceholderUse",
    "PreparedQuery",
    "Problem",
    "SchemaColumn",
    "SchemaTable",
    "Severity",
    "Template",
    "TimeWindow",
    "format_problem",
    "input_parameters",
    "lint",
    "parse_type",
    "prepare",
    "quote_string",
    "raise_for_errors",
    "read_values",
    "render_json",
    "render_text",
    "resolve_window",
    "retention_start",
    "scan_template",
    "schema_for_data_sources",
    "schema_for_sandbox",
    "substitute",
    "values_from_mapping",
    "window_problems",
]
