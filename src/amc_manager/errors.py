"""The package's error hierarchy; each error names the problem and what to do about it.

AmcManagerError
├── ConfigurationError     a missing or invalid setting (exit 2)
└── UsageError             a request that cannot be accepted (exit 2)
"""

from __future__ import annotations


class AmcManagerError(Exception):
    """Base of every error amc-manager raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ConfigurationError(AmcManagerError):
    """A setting is missing or invalid."""

    exit_code = 2


class UsageError(AmcManagerError):
    """The request could not be accepted as given."""

    exit_code = 2


class InvalidQuery(UsageError):
    """The SQL failed local validation (a lint error); the message names the first problem."""


class ParameterError(UsageError):
    """A parameter value is missing, malformed, or does not fit where the SQL uses it."""


class WindowError(UsageError):
    """A time window (START/END, `--window`, `--timezone`) breaks one of AMC's time rules."""
