"""The catalogue: every AMC table the project knows, gathered from the table modules.

Only documented facts live in the catalogue (names, columns, data types, threshold classes,
how a window selects rows, retention, cadence, paid features); how the sandbox synthesises
rows for them lives in the sandbox. `traffic.py` holds the traffic tables, `conversions.py`
the conversion tables, `paid.py` the paid purchase tables.
"""

from __future__ import annotations

from amc_manager.catalogue import audiences, conversions, paid, traffic
from amc_manager.catalogue.common import (
    ATTRIBUTION_WINDOW,
    DATA_LAG,
    RETENTION_MONTHS,
    TRAFFIC_TIME_LOOKAHEAD,
)
from amc_manager.catalogue.model import Catalogue

CATALOGUE = Catalogue((*traffic.TABLES, *conversions.TABLES, *paid.TABLES, *audiences.TABLES))

__all__ = [
    "ATTRIBUTION_WINDOW",
    "CATALOGUE",
    "DATA_LAG",
    "RETENTION_MONTHS",
    "TRAFFIC_TIME_LOOKAHEAD",
]
