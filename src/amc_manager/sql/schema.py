"""The known AMC schema the linter checks names and privacy classes against.

Two sources: the sandbox's catalogue (sandbox mode) or AMC's `dataSources` (real mode, once the
engine brings `--instance`). Without one the linter still applies the privacy rules with the
documented classes of AMC's main tables, and warns that names go unchecked.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from amc_manager.sandbox import catalogue

THRESHOLD_CLASSES = ("NONE", "LOW", "MEDIUM", "HIGH", "VERY_HIGH", "INTERNAL")
# Classes that may never reach a result (amc-api.md 6.4).
NOT_OUTPUTTABLE = frozenset({"VERY_HIGH", "INTERNAL"})
# Classes that may not be compared with literal values.
NO_LITERAL_FILTERS = frozenset({"HIGH", "VERY_HIGH", "INTERNAL"})


def strictest(classes: Iterable[str]) -> str:
    """The most restrictive of `classes` ("NONE" for none)."""
    return max(classes, key=THRESHOLD_CLASSES.index, default="NONE")


@dataclass(frozen=True)
class SchemaColumn:
    """One column: its AMC data type (may be empty when unknown) and threshold class."""

    name: str
    data_type: str = ""
    threshold: str = "NONE"


@dataclass(frozen=True)
class SchemaTable:
    name: str
    columns: Mapping[str, SchemaColumn]

    def column(self, name: str) -> SchemaColumn | None:
        return self.columns.get(name.lower())


class KnownSchema:
    """AMC tables by lower-cased name; names in SQL are case-insensitive."""

    def __init__(self, tables: Iterable[SchemaTable], *, origin: str) -> None:
        self._tables = MappingProxyType({t.name.lower(): t for t in tables})
        self.origin = origin

    def table(self, name: str) -> SchemaTable | None:
        return self._tables.get(name.lower())

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._tables))

    @classmethod
    def from_catalogue(cls) -> KnownSchema:
        """The sandbox's tables (its catalogue is data; none of its rules are used here)."""
        return _catalogue_schema()

    @classmethod
    def from_data_sources(cls, data_sources: Iterable[Mapping[str, object]]) -> KnownSchema:
        """AMC's `GET /dataSources` items (`dataSourceId`, `columns[{name, ...}]`).

        AMC documents no threshold class in this payload; a column's class is read from an
        `aggregationThreshold` field when present, else from the documented tables."""
        documented = cls.from_catalogue()
        tables = []
        for item in data_sources:
            name = str(item.get("dataSourceId", ""))
            raw_columns = item.get("columns")
            columns = raw_columns if isinstance(raw_columns, list) else []
            tables.append(_table(name, _data_source_columns(name, columns, documented)))
        return cls(tables, origin="AMC's dataSources")


def _data_source_columns(
    table: str, columns: list[object], documented: KnownSchema
) -> Iterable[tuple[str, str, str]]:
    known = documented.table(table)
    for raw in columns:
        if not isinstance(raw, Mapping) or "name" not in raw:
            continue
        name = str(raw["name"])
        fallback = known.column(name) if known else None
        threshold = str(raw.get("aggregationThreshold") or "").upper()
        if threshold not in THRESHOLD_CLASSES:
            threshold = fallback.threshold if fallback else "NONE"
        yield name, str(raw.get("dataType") or raw.get("columnType") or ""), threshold


def _table(name: str, columns: Iterable[tuple[str, str, str]]) -> SchemaTable:
    mapping = {n.lower(): SchemaColumn(n.lower(), t, c) for n, t, c in columns}
    return SchemaTable(name.lower(), MappingProxyType(mapping))


@functools.cache
def _catalogue_schema() -> KnownSchema:
    return KnownSchema(
        (
            _table(t.name, ((c.name, c.data_type, c.threshold.value) for c in t.columns))
            for t in catalogue.TABLES.values()
        ),
        origin="the sandbox's catalogue",
    )


def documented_classes() -> KnownSchema:
    """The threshold classes of AMC's documented tables, used when no schema is known."""
    return KnownSchema.from_catalogue()
