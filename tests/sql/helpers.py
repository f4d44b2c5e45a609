"""A small fake data source for the sandbox's SQL engine, and running prepared queries on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from amc_manager.catalogue import CATALOGUE, Column
from amc_manager.sandbox.engine import ARROW_TYPES
from amc_manager.sandbox.query import (
    InputParameter,
    PrivacyOptions,
    QueryRequest,
    compile_query,
    run_query,
)
from amc_manager.sandbox.tables import USER_KEY_COLUMN
from amc_manager.sql import PreparedQuery

TABLES = CATALOGUE.tables

WINDOW_START = datetime(2024, 3, 1)
WINDOW_END = datetime(2024, 3, 2)
NOW = datetime(2024, 3, 10, 12)

Row = Mapping[str, Any]


def table_of(name: str, rows: Sequence[Row]) -> pa.Table:
    """Catalogue table `name` with `rows` (NULL where a row gives no value) and the user key."""
    arrays = {
        c.name: pa.array([row.get(c.name) for row in rows], ARROW_TYPES[c.data_type])
        for c in TABLES[name].columns
    }
    arrays[USER_KEY_COLUMN] = pa.array([row.get(USER_KEY_COLUMN) for row in rows], pa.int64())
    return pa.table(arrays)


def _sample(column: Column, index: int) -> object:
    values: dict[str, object] = {
        "STRING": f"{column.name}_{index % 3}",
        "LONG": index,
        "INTEGER": index,
        "DOUBLE": float(index) + 0.5,
        "DECIMAL": Decimal(index) + Decimal("0.25"),
        "BOOLEAN": index % 2 == 0,
        "DATE": date(2024, 3, 1),
        "TIMESTAMP": WINDOW_START + timedelta(hours=index, minutes=7),
    }
    return values[column.data_type]


def sample_rows(name: str, count: int = 12) -> list[dict[str, object]]:
    """`count` plausible rows for every column of table `name`, several users per value."""
    rows: list[dict[str, object]] = []
    for index in range(count):
        row = {c.name: _sample(c, index) for c in TABLES[name].columns}
        row[USER_KEY_COLUMN] = index % 5 + 1
        rows.append(row)
    return rows


class FakeData:
    """Stands in for the sandbox's data generator: fixed tables whatever the window."""

    def __init__(self, tables: Mapping[str, Sequence[Row]] | None = None) -> None:
        given = dict(tables or {})
        self.tables = {name: table_of(name, given.get(name, [])) for name in TABLES}
        self.reads: list[tuple[str, datetime, datetime, datetime]] = []

    @classmethod
    def sample(cls) -> FakeData:
        return cls({name: sample_rows(name) for name in TABLES})

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
        return _only(self.tables[table], columns)


def _only(table: pa.Table, columns: Iterable[str] | None) -> pa.Table:
    """Only the columns asked for, as the generator builds them: a query that needs another
    fails here as it would against the sandbox."""
    return table if columns is None else table.select([*columns, USER_KEY_COLUMN])


def input_parameter(entry: Mapping[str, object]) -> InputParameter:
    """An AMC inputParameters entry as the sandbox engine takes it."""
    data_type = entry["dataType"]
    if isinstance(data_type, Mapping):
        data_type = f"ARRAY<{data_type['elementDataType']}>"
    return InputParameter(str(entry["name"]), str(data_type), entry.get("defaultValue"))


def run_prepared(
    prepared: PreparedQuery, data: FakeData, *, privacy: PrivacyOptions | None = None
) -> list[dict[str, Any]]:
    """Compile and run a prepared query in the sandbox's SQL engine; the result rows."""
    request = QueryRequest(
        sql=prepared.sql,
        workflow_id="wf_sql_tests",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        input_parameters=tuple(input_parameter(p) for p in prepared.input_parameters),
        parameter_values=prepared.parameter_values,
        privacy=privacy or PrivacyOptions(),
    )
    rows: list[dict[str, Any]] = run_query(compile_query(request), data, now=NOW).to_pylist()
    return rows
