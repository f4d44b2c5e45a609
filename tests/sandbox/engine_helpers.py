"""Hand-made AMC tables and shortcuts for the SQL engine tests (no HTTP layer involved)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from amc_manager.catalogue import CATALOGUE
from amc_manager.sandbox.engine import ARROW_TYPES
from amc_manager.sandbox.query import (
    CompiledQuery,
    InputParameter,
    PrivacyOptions,
    QueryRequest,
    compile_query,
    run_query,
)
from amc_manager.sandbox.tables import USER_KEY_COLUMN

TABLES = CATALOGUE.tables

WINDOW_START = datetime(2024, 3, 1)
WINDOW_END = datetime(2024, 3, 2)
NOW = datetime(2024, 3, 10, 12, 30)


def make_table(name: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A window of catalogue table `name`: every catalogue column (NULL unless given) plus
    the hidden user key, typed as the data generator types them."""
    arrays = {
        column.name: pa.array([row.get(column.name) for row in rows], ARROW_TYPES[column.data_type])
        for column in TABLES[name].columns
    }
    arrays[USER_KEY_COLUMN] = pa.array([row.get(USER_KEY_COLUMN) for row in rows], pa.int64())
    return pa.table(arrays)


class FakeData:
    """Stands in for SyntheticData: fixed tables whatever the window."""

    def __init__(self, **tables: Sequence[Mapping[str, Any]]) -> None:
        self.tables = {name: make_table(name, rows) for name, rows in tables.items()}
        self.reads: list[tuple[str, datetime, datetime, datetime]] = []

    def window(
        self,
        table: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        columns: Iterable[str] | None = None,
    ) -> pa.Table:
        self.reads.append((table, start, end, now))
        found = self.tables[table] if table in self.tables else make_table(table, [])
        # Only the columns asked for, as the generator builds them: a query that needs another
        # fails here as it would against the sandbox.
        return found if columns is None else found.select([*columns, USER_KEY_COLUMN])


def request(
    sql: str,
    *,
    parameters: Sequence[InputParameter] = (),
    values: Mapping[str, object] | None = None,
    privacy: PrivacyOptions | None = None,
    start: datetime = WINDOW_START,
    end: datetime = WINDOW_END,
) -> QueryRequest:
    return QueryRequest(
        sql=sql,
        workflow_id="wf_test",
        window_start=start,
        window_end=end,
        input_parameters=tuple(parameters),
        parameter_values=dict(values or {}),
        privacy=privacy or PrivacyOptions(),
    )


def compile_sql(sql: str, **kwargs: Any) -> CompiledQuery:
    return compile_query(request(sql, **kwargs))


def rows(data: Any, sql: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Compile and run `sql`; the result as a list of dicts."""
    table = run_query(compile_sql(sql, **kwargs), data, now=NOW)
    result: list[dict[str, Any]] = table.to_pylist()
    return result


def run_table(data: Any, sql: str, **kwargs: Any) -> pa.Table:
    return run_query(compile_sql(sql, **kwargs), data, now=NOW)


def open_privacy() -> PrivacyOptions:
    """Sandbox option to see event-level rows: no aggregation rules, no thresholds."""
    return PrivacyOptions(disable_aggregation_controls=True)


PREFIX = "Was unable to compile workflow wf_test because it was found to be invalid: "
