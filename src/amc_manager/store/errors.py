"""The store's errors.

StoreError (AmcManagerError)   the database failed or refused an operation
└── InvalidTransition          a change of state the execution state machine does not allow
"""

from __future__ import annotations

from amc_manager.errors import AmcManagerError


class StoreError(AmcManagerError):
    """The database failed or refused an operation."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(
            message, hint=hint or "check AMC_DATABASE_URL and that the database is reachable"
        )


class InvalidTransition(StoreError):
    """A write would move an execution between states the state machine does not connect."""

    def __init__(self, execution_id: str, current: str, target: str) -> None:
        super().__init__(
            f"execution {execution_id} cannot go from {current} to {target}",
            hint="a bug: report it with `amc executions show` of this execution",
        )
        self.execution_id = execution_id
        self.current = current
        self.target = target
