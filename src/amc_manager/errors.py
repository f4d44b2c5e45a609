"""The package's error hierarchy; each error names the problem and what to do about it.

Every exception class amc-manager defines sits under `AmcManagerError` (tests/test_errors.py
walks the package to prove it). Each family is drawn in the module that defines it:

AmcManagerError
├── ConfigurationError        a missing or invalid setting (exit 2)
│   └── SandboxConfigError    the sandbox's knobs (sandbox/config.py)
├── UsageError                a request that cannot be accepted (exit 2)
│   ├── InvalidQuery          the SQL failed local validation
│   ├── ParameterError        a parameter value is missing or malformed
│   └── WindowError           a time window breaks AMC's time rules
├── AmcError                  the AMC client's family (client/errors.py)
├── StoreError                the store's family (store/errors.py)
├── IngestError               result files that cannot become Parquet (engine/ingest.py)
├── StorageError              result storage failed: a folder or S3 (storage/errors.py)
├── WorkerFailed              a worker loop kept failing; the worker stopped (engine/worker.py)
└── SandboxError              the sandbox's own family (sandbox/errors.py)

One mechanism says what to do: `hint`. A class sets a default `hint` for its kind of error;
a raise site may pass a more precise one.
"""

from __future__ import annotations


class AmcManagerError(Exception):
    """Base of every error amc-manager raises on purpose."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
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
    """The SQL failed local validation (a lint error); the message names the first problem,
    `problems` holds every one found (sql.Problem values; REST lists them in its 422)."""

    problems: tuple[object, ...] = ()


class ParameterError(UsageError):
    """A parameter value is missing, malformed, or does not fit where the SQL uses it."""


class WindowError(UsageError):
    """A time window (START/END, `--window`, `--timezone`) breaks one of AMC's time rules."""
