"""The sandbox's errors: those it answers with (HTTP status and AMC's `details` text) and those
its parts raise to one another. The sandbox imports only the neutral `amc_manager.errors`.

SandboxError (AmcManagerError)
├── SandboxHTTPError          an AMC error response: `{"code", "details"}`
│   ├── BadRequest            400
│   ├── Unauthenticated       401
│   ├── Unauthorized          403  "Unauthorized request."
│   ├── NotFound              404
│   ├── UnprocessableEntity   422  (quota, limits)
│   └── Throttled             429  (carries Retry-After)
├── OAuthError                a Login with Amazon refusal (lwa.py)
├── CompileError              AMC's compile failure, with line and column (dialect.py)
├── QueryRuntimeError         a compiled query that failed while running (query.py)
├── RuntimeFailure            DuckDB refused or failed the query (engine.py)
├── StoreClosed               late work after the state store closed (store.py)
└── DroppedConnection         a connection cut on purpose by a fault (faults.py)

SandboxConfigError, the sandbox's bad knobs, is a ConfigurationError (config.py).
"""

from __future__ import annotations

from amc_manager.errors import AmcManagerError


class SandboxError(AmcManagerError):
    """Base of the sandbox's errors."""


class SandboxHTTPError(SandboxError):
    """An AMC error response: `{"code": "<status>", "details": "<text>"}`."""

    status = 500

    def __init__(self, details: str, *, status: int | None = None) -> None:
        super().__init__(details)
        self.details = details
        if status is not None:
            self.status = status


class BadRequest(SandboxHTTPError):
    status = 400


class Unauthenticated(SandboxHTTPError):
    status = 401


class Unauthorized(SandboxHTTPError):
    status = 403

    def __init__(self, details: str = "Unauthorized request.") -> None:
        super().__init__(details)


class NotFound(SandboxHTTPError):
    status = 404


class UnprocessableEntity(SandboxHTTPError):
    status = 422


class Throttled(SandboxHTTPError):
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too Many Requests")
        self.retry_after = retry_after
