"""DuckDB plumbing for the SQL engine: connections, Arrow types, output names, error wording."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pyarrow as pa
from sqlglot import exp

from amc_manager.catalogue import Table
from amc_manager.sandbox.dialect import CompileError, invalid
from amc_manager.sandbox.errors import SandboxError
from amc_manager.sandbox.tables import USER_KEY_COLUMN
from amc_manager.sandbox.values import ARROW_TYPES, column_type

__all__ = [
    "ARROW_TYPES",
    "RuntimeFailure",
    "compile_failure",
    "empty_table",
    "execute",
    "failure_from",
    "normalize_types",
    "output_names",
]


class RuntimeFailure(SandboxError):
    """DuckDB refused or failed the query; `message` is its first line, prefix removed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def empty_table(table: Table) -> pa.Table:
    """A zero-row table shaped like the generator's window of `table` (for dry runs)."""
    fields = [pa.field(c.name, column_type(c)) for c in table.columns]
    fields.append(pa.field(USER_KEY_COLUMN, pa.int64()))
    return pa.schema(fields).empty_table()


def failure_from(error: duckdb.Error) -> RuntimeFailure:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    kind, _, message = first.partition(": ")
    return RuntimeFailure(kind, message or first)


@contextmanager
def execute(
    sql: str, tables: Mapping[str, pa.Table]
) -> Iterator[tuple[duckdb.DuckDBPyConnection, pa.Table]]:
    """Run `sql` over `tables` in a fresh in-memory DuckDB; yields the connection and result.

    Raises RuntimeFailure for any DuckDB error, including ones raised inside the block.
    """
    conn = duckdb.connect(":memory:")
    try:
        # Naive timestamps are UTC; CONVERT_TIME_ZONE_* casts rely on the session zone.
        conn.execute("SET TimeZone = 'UTC'")
        for name, table in tables.items():
            conn.register(name, table)
        relation = conn.sql(sql)
        wide = [i for i, t in enumerate(relation.types) if str(t) in ("HUGEINT", "UHUGEINT")]
        result = relation.to_arrow_table()
        # SUM over LONG is HUGEINT in DuckDB but LONG in Spark/AMC.
        for index in wide:
            result = result.set_column(
                index, result.field(index).name, result.column(index).cast(pa.int64())
            )
        yield conn, result
    except duckdb.Error as error:
        raise failure_from(error) from None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise RuntimeFailure("Conversion Error", str(error)) from None
    finally:
        conn.close()


def _normal_type(data_type: pa.DataType) -> pa.DataType:
    """The Arrow type AMC's type system gives a DuckDB result type."""
    if pa.types.is_integer(data_type):
        return pa.int64()
    if pa.types.is_floating(data_type):
        return pa.float64()
    if pa.types.is_timestamp(data_type):
        return pa.timestamp("ms")
    if pa.types.is_large_string(data_type) or pa.types.is_string_view(data_type):
        return pa.string()
    if pa.types.is_date64(data_type):
        return pa.date32()
    return data_type


def normalize_types(table: pa.Table) -> pa.Table:
    """Cast every column but the last (the user lists) to AMC's Arrow types."""
    for index in range(table.num_columns - 1):
        column = table.column(index)
        data_type = column.type
        if pa.types.is_timestamp(data_type) and data_type.tz is not None:
            column = column.cast(pa.timestamp(data_type.unit, tz="UTC")).cast(
                pa.timestamp(data_type.unit)
            )
        target = _normal_type(column.type)
        if target != column.type or column is not table.column(index):
            table = table.set_column(index, table.field(index).name, column.cast(target))
    return table


def output_names(query: exp.Query) -> list[str]:
    """Result column names as AMC shows them: aliases or column names, lowercase unless quoted."""
    while isinstance(query, exp.SetOperation):
        query = query.left
    assert isinstance(query, exp.Select)
    names = []
    for index, projection in enumerate(query.expressions):
        identifier: exp.Expr | None = None
        if isinstance(projection, exp.Alias):
            identifier = projection.args.get("alias")
        elif isinstance(projection, exp.Column):
            identifier = projection.this
        if isinstance(identifier, exp.Identifier):
            text = str(identifier.this)
            names.append(text if identifier.quoted else text.lower())
        else:
            names.append(f"_col_{index}")
    return names


_MISSING_FUNCTION = re.compile(r"Function with name (\w+) does not exist", re.IGNORECASE)
_BAD_ARGUMENTS = re.compile(
    r"No function matches the given name and argument types '(\w+)\((.*)\)'"
)


def compile_failure(workflow_id: str, failure: RuntimeFailure, plan: exp.Query) -> CompileError:
    """A DuckDB bind error, worded as AMC's compiler would report it."""
    missing = _MISSING_FUNCTION.search(failure.message)
    if missing:
        name = missing.group(1).upper()
        message = f"No match found for function signature {name}"
        return invalid(workflow_id, message, _find_call(plan, name))
    arguments = _BAD_ARGUMENTS.search(failure.message)
    if arguments:
        name = arguments.group(1).upper()
        types = ", ".join(f"<{t.strip()}>" for t in arguments.group(2).split(",") if t.strip())
        message = f"Cannot apply '{name}' to arguments of type '{name}({types})'"
        return invalid(workflow_id, message, _find_call(plan, name))
    return invalid(workflow_id, f"{failure.kind}: {failure.message}")


def _find_call(plan: exp.Query, name: str) -> exp.Expr | None:
    """The first call of function `name` in the query, to point the message at it."""
    for node in plan.find_all(exp.Func):
        called = str(node.this) if isinstance(node, exp.Anonymous) else node.sql_name()
        if called.upper() == name and node.meta:
            return node
    return None
