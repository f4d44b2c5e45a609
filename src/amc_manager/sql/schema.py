"""The known AMC schema the linter checks names and privacy classes against, chosen per mode.

Sandbox mode: the AMC catalogue (`amc_manager.catalogue`, which the sandbox serves), and a table
it does not know is an error. Real mode: the instance's `dataSources` as AMC lists them; a
listed table the catalogue does not know is checked with its listed columns (its threshold
classes are unknown, so none is enforced), and a table the list lacks is only a warning, since
AMC decides at submission. Threshold classes come from the catalogue wherever it knows the
table. Without any schema the linter still applies the privacy rules with the catalogue's
classes, and warns that names go unchecked.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from amc_manager.catalogue import CATALOGUE, Catalogue
from amc_manager.sql.problems import Severity

THRESHOLD_CLASSES = ("NONE", "LOW", "MEDIUM", "HIGH", "VERY_HIGH", "INTERNAL")
# Classes that may never reach a result (amc-api.md 6.4).
NOT_OUTPUTTABLE = frozenset({"VERY_HIGH", "INTERNAL"})
# Classes that may not be compared with literal values.
NO_LITERAL_FILTERS = frozenset({"HIGH", "VERY_HIGH", "INTERNAL"})
SANDBOX_ORIGIN = "the sandbox's catalogue"
DATA_SOURCES_ORIGIN = "the instance's dataSources"


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
    """AMC tables by lower-cased name; names in SQL are case-insensitive.

    `unlisted` is how a table outside the schema is reported: an error where the schema is
    complete (the sandbox), a warning where AMC has the last word (an instance's dataSources).
    """

    def __init__(
        self,
        tables: Iterable[SchemaTable],
        *,
        origin: str,
        unlisted: Severity = Severity.ERROR,
    ) -> None:
        self._tables = MappingProxyType({t.name.lower(): t for t in tables})
        self.origin = origin
        self.unlisted = unlisted

    def table(self, name: str) -> SchemaTable | None:
        return self._tables.get(name.lower())

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._tables))

    @classmethod
    def from_catalogue(cls) -> KnownSchema:
        """Same as `schema_for_sandbox()` (kept for callers written before it)."""
        return schema_for_sandbox()

    @classmethod
    def from_data_sources(cls, data_sources: Iterable[Mapping[str, Any]]) -> KnownSchema:
        """Same as `schema_for_data_sources(...)` (kept for callers written before it)."""
        return schema_for_data_sources(data_sources)


def schema_for_sandbox(extra_sources: Iterable[Mapping[str, Any]] = ()) -> KnownSchema:
    """Sandbox mode: the catalogue's tables an instance without paid features has; any other
    table is an error.

    `extra_sources` are the tables the sandbox serves beyond those (the paid tables its config
    enables, its extra tables: `SandboxConfig.extra_data_sources()`) as its `dataSources` lists
    them (the same shape as `schema_for_data_sources` reads).
    """
    extra = tuple(extra_sources)
    if not extra:
        return _free_schema()
    tables = [*_catalogue_tables(_FREE), *_data_source_tables(extra)]
    return KnownSchema(tables, origin=SANDBOX_ORIGIN)


def schema_for_data_sources(sources: Iterable[Mapping[str, Any]]) -> KnownSchema:
    """Real mode: the tables AMC's `GET /dataSources` lists for the instance (its items:
    `dataSourceId`, `columns[{name, columnType, ...}]`); a table it lacks is a warning.

    AMC documents no threshold class in this payload; a column's class is read from an
    `aggregationThreshold` field when present, else from the catalogue, else none is known."""
    return KnownSchema(
        _data_source_tables(sources), origin=DATA_SOURCES_ORIGIN, unlisted=Severity.WARNING
    )


def documented_classes() -> KnownSchema:
    """The catalogue's threshold classes, used for tables the schema in use does not cover."""
    return _catalogue_schema()


def _data_source_tables(sources: Iterable[Mapping[str, Any]]) -> list[SchemaTable]:
    tables = []
    for item in sources:
        name = str(item.get("dataSourceId", ""))
        raw_columns = item.get("columns")
        columns = raw_columns if isinstance(raw_columns, list) else []
        tables.append(_table(name, _data_source_columns(name, columns)))
    return tables


def _data_source_columns(table: str, columns: list[object]) -> Iterable[tuple[str, str, str]]:
    known = CATALOGUE.table(table)
    for raw in columns:
        if not isinstance(raw, Mapping) or "name" not in raw:
            continue
        name = str(raw["name"])
        fallback = known.column(name) if known else None
        threshold = str(raw.get("aggregationThreshold") or "").upper()
        if threshold not in THRESHOLD_CLASSES:
            threshold = fallback.threshold.value if fallback else "NONE"
        data_type = raw.get("dataType") or (fallback.data_type.value if fallback else "")
        yield name, str(data_type), threshold


def _table(name: str, columns: Iterable[tuple[str, str, str]]) -> SchemaTable:
    mapping = {n.lower(): SchemaColumn(n.lower(), t, c) for n, t, c in columns}
    return SchemaTable(name.lower(), MappingProxyType(mapping))


def _catalogue_tables(catalogue: Catalogue) -> list[SchemaTable]:
    return [
        _table(t.name, ((c.name, c.data_type.value, c.threshold.value) for c in t.columns))
        for t in catalogue
    ]


@functools.cache
def _catalogue_schema() -> KnownSchema:
    return KnownSchema(_catalogue_tables(CATALOGUE), origin=SANDBOX_ORIGIN)


# The sandbox serves a paid-feature table only when its config subscribes to it.
_FREE = Catalogue(t for t in CATALOGUE if t.paid_feature is None)


@functools.cache
def _free_schema() -> KnownSchema:
    return KnownSchema(_catalogue_tables(_FREE), origin=SANDBOX_ORIGIN)
