"""Errors the sandbox answers with, each carrying the HTTP status and AMC's `details` text.

SandboxHTTPError
├── BadRequest            400
├── Unauthenticated       401
├── Unauthorized          403  "Unauthorized request."
├── NotFound              404
├── UnprocessableEntity   422  (quota, limits)
└── Throttled             429  (carries Retry-After)
"""

from __future__ import annotations


class SandboxHTTPError(Exception):
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
