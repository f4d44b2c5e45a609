"""The shape of AMC's catalogue facts: threshold classes, data types, columns and tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType


class ThresholdClass(StrEnum):
    """AMC's aggregation-threshold classes (amc-api.md 6.4)."""

    NONE = "NONE"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    VERY_HIGH = "VERY_HIGH"
    INTERNAL = "INTERNAL"

    @property
    def min_users(self) -> int:
        """Distinct users an output row carrying such a column must stand for."""
        return _MIN_USERS[self]

    @property
    def rank(self) -> int:
        """Order of strictness, so a row's requirement is the max over its columns."""
        return _RANK[self]

    @property
    def outputtable(self) -> bool:
        """VERY_HIGH and INTERNAL columns may never appear in a result."""
        return self not in (ThresholdClass.VERY_HIGH, ThresholdClass.INTERNAL)

    @property
    def literal_filters(self) -> bool:
        """HIGH, VERY_HIGH and INTERNAL columns may not be compared with literal values."""
        return self not in (ThresholdClass.HIGH, ThresholdClass.VERY_HIGH, ThresholdClass.INTERNAL)


_MIN_USERS = {
    ThresholdClass.NONE: 1,
    ThresholdClass.LOW: 2,
    ThresholdClass.MEDIUM: 100,
    ThresholdClass.HIGH: 100,
    ThresholdClass.VERY_HIGH: 100,
    ThresholdClass.INTERNAL: 100,
}
_RANK = {c: i for i, c in enumerate(ThresholdClass)}


class DataType(StrEnum):
    """AMC's column data types as its data source documentation names them."""

    STRING = "STRING"
    LONG = "LONG"
    INTEGER = "INTEGER"
    DOUBLE = "DOUBLE"
    DECIMAL = "DECIMAL"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"


class ColumnRole(StrEnum):
    """AMC's "Metric/dimension" column of its data source pages."""

    METRIC = "METRIC"
    DIMENSION = "DIMENSION"


class Cadence(StrEnum):
    """How a table's rows come about (and so how a time window selects them)."""

    EVENTS = "events"  # one row per event; the window selects rows by `window_column`
    SNAPSHOT = "snapshot"  # the current state, refreshed on a schedule (`Table.refresh`)


@dataclass(frozen=True)
class Column:
    """One column of an AMC table; names are lower case, as AMC lists them.

    `array` marks AMC's `Array[TYPE]` columns (`data_type` is the element type)."""

    name: str
    data_type: DataType
    threshold: ThresholdClass
    description: str = ""
    role: ColumnRole = ColumnRole.DIMENSION
    array: bool = False


@dataclass(frozen=True)
class Provenance:
    """Where a table's facts were read and when, so a later reader can re-check them."""

    source: str
    as_of: str  # ISO date the source was read


@dataclass(frozen=True)
class Table:
    """One AMC table and how a time window selects its rows (amc-api.md 6.1).

    `columns` may be a subset of AMC's: the catalogue keeps the columns whose facts are
    documented; an instance's `dataSources` is the authority on which columns exist.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    provenance: Provenance
    # The column a time window selects rows by; None when AMC documents none.
    window_column: str | None = None
    # How far outside the window the related events of a row may lie: tables keyed on
    # conversions reach back to their traffic (lookback), tables keyed on traffic reach forward
    # to their conversions (lookahead).
    lookback: timedelta = timedelta(0)
    lookahead: timedelta = timedelta(0)
    retention_months: int = 13
    # The AMC Paid Features subscription an instance needs to see the table; None when free.
    paid_feature: str | None = None
    cadence: Cadence = Cadence.EVENTS
    # How often AMC refreshes the table, as its page says ("daily", "weekly", ...).
    refresh: str = "daily"

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column names")
        if self.window_column is not None and self.window_column not in names:
            raise ValueError(f"table {self.name}: window column {self.window_column} is unknown")

    def column(self, name: str) -> Column | None:
        """The column called `name` (case-insensitive), or None."""
        lowered = name.lower()
        for column in self.columns:
            if column.name == lowered:
                return column
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


class Catalogue:
    """AMC tables by lower-cased name, in the order given (names in SQL are case-insensitive)."""

    def __init__(self, tables: Iterable[Table]) -> None:
        by_name: dict[str, Table] = {}
        for table in tables:
            key = table.name.lower()
            if key in by_name:
                raise ValueError(f"table {table.name} is in the catalogue twice")
            by_name[key] = table
        self._tables: Mapping[str, Table] = MappingProxyType(by_name)

    def table(self, name: str) -> Table | None:
        """The table called `name` (case-insensitive), or None."""
        return self._tables.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._tables

    def __iter__(self) -> Iterator[Table]:
        return iter(self._tables.values())

    def __len__(self) -> int:
        return len(self._tables)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tables)

    @property
    def tables(self) -> Mapping[str, Table]:
        return self._tables

    def with_tables(self, extra: Iterable[Table]) -> Catalogue:
        """This catalogue plus `extra` (a name already here is refused with ValueError)."""
        return Catalogue([*self, *extra])
