"""The store: SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL, Alembic migrations."""

from __future__ import annotations

from amc_manager.store.errors import InvalidTransition, StoreError
from amc_manager.store.rows import (
    ACTIVE_STATES,
    OPEN_STATES,
    TERMINAL_STATES,
    TRACKED_STATES,
    TRANSITIONS,
    Access,
    ApiTokenRow,
    ExecutionEvent,
    ExecutionRow,
    ExecutionState,
    FailureKind,
    InstanceRow,
    NewExecution,
    Role,
    StoredResult,
    UserRow,
)
from amc_manager.store.store import Store, database_url_for

__all__ = [
    "ACTIVE_STATES",
    "OPEN_STATES",
    "TERMINAL_STATES",
    "TRACKED_STATES",
    "TRANSITIONS",
    "Access",
    "ApiTokenRow",
    "ExecutionEvent",
    "ExecutionRow",
    "ExecutionState",
    "FailureKind",
    "InstanceRow",
    "InvalidTransition",
    "NewExecution",
    "Role",
    "Store",
    "StoreError",
    "StoredResult",
    "UserRow",
    "database_url_for",
]
