"""AMC's catalogue as data: tables, columns, data types, threshold classes, window semantics.

A neutral leaf: the SQL linter and the sandbox both read it, and it imports nothing else from
amc_manager. Facts only; each table notes its source and the date it was read.

    from amc_manager.catalogue import CATALOGUE, ThresholdClass
    table = CATALOGUE.table("dsp_impressions")     # None when the catalogue does not know it
    table.column("user_id").threshold is ThresholdClass.VERY_HIGH
"""

from __future__ import annotations

from amc_manager.catalogue.model import (
    Cadence,
    Catalogue,
    Column,
    ColumnRole,
    DataType,
    Provenance,
    Table,
    ThresholdClass,
)
from amc_manager.catalogue.tables import (
    ATTRIBUTION_WINDOW,
    CATALOGUE,
    DATA_LAG,
    RETENTION_MONTHS,
    TRAFFIC_TIME_LOOKAHEAD,
)


def get_table(name: str) -> Table | None:
    """The catalogued AMC table called `name` (case-insensitive), or None."""
    return CATALOGUE.table(name)


__all__ = [
    "ATTRIBUTION_WINDOW",
    "CATALOGUE",
    "DATA_LAG",
    "RETENTION_MONTHS",
    "TRAFFIC_TIME_LOOKAHEAD",
    "Cadence",
    "Catalogue",
    "Column",
    "ColumnRole",
    "DataType",
    "Provenance",
    "Table",
    "ThresholdClass",
    "get_table",
]
