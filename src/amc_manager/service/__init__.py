"""The application layer: every use case of amc-manager, shared by the CLI, the REST API and
the web pages, over one composition root (`Runtime`).

Front ends import the modules they need (`service.runs`, `service.executions`, ...) inside
their commands, so a command that calls no AMC loads neither the sandbox nor DuckDB nor pyarrow.
The types front ends need are re-exported here and by `service.executions`.
"""

from __future__ import annotations

from amc_manager.service.executions import ExecutionView, TimelineEntry
from amc_manager.store.errors import InvalidTransition, StoreError
from amc_manager.store.rows import Access, ExecutionState, FailureKind, Role

__all__ = [
    "Access",
    "ExecutionState",
    "ExecutionView",
    "FailureKind",
    "InvalidTransition",
    "Role",
    "StoreError",
    "TimelineEntry",
]
