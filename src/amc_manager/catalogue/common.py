"""AMC facts shared by the catalogue's table modules: retention, data lag, windows, sources."""

from __future__ import annotations

from datetime import timedelta

from amc_manager.catalogue.model import DataType, Provenance, ThresholdClass

STRING, LONG, INTEGER, DOUBLE, DECIMAL, BOOLEAN, DATE, TIMESTAMP = (
    DataType.STRING,
    DataType.LONG,
    DataType.INTEGER,
    DataType.DOUBLE,
    DataType.DECIMAL,
    DataType.BOOLEAN,
    DataType.DATE,
    DataType.TIMESTAMP,
)
N, L, M, H, V, X = (  # X: INTERNAL
    ThresholdClass.NONE,
    ThresholdClass.LOW,
    ThresholdClass.MEDIUM,
    ThresholdClass.HIGH,
    ThresholdClass.VERY_HIGH,
    ThresholdClass.INTERNAL,
)

# An instance holds 13 months of data and completes a day's data within 48 hours (amc-api.md 6.1).
RETENTION_MONTHS = 13
DATA_LAG = timedelta(hours=48)
# Attribution: conversions are credited to traffic up to 14 days earlier (amc-api.md 6.1).
ATTRIBUTION_WINDOW = timedelta(days=14)
# `..._by_traffic_time` keeps conversions up to 30 days after the traffic.
TRAFFIC_TIME_LOOKAHEAD = timedelta(days=30)

# The date the facts were read from amc-api.md 6.1, 6.4 and 6.5 (which cites AMC's data
# source pages); re-check against the pages when this date gets old.
_READ_ON = "2026-11-26"


def documented(table: str) -> Provenance:
    return Provenance(f"amc-api.md 6.5; DOCS/amc/datasources/{table}", _READ_ON)
