"""Errors of the AMC client: one hierarchy, each carrying the call's context and its hint.

AmcError (AmcManagerError)
├── InvalidIdentity            an id that cannot reach a URL (an internal UUID, say)
├── ReauthenticationRequired   revoked grant or undecryptable token: log in again
├── AmcTransportError          dropped connection or timeout, after retries
│   └── UncertainOutcome       a create whose answer was lost: it may or may not exist
├── UrlExpired                 a presigned result URL expired: ask AMC for fresh ones
├── AmcApiError                an AMC answer with a status; carries method, path, code, details
│   ├── AuthenticationError    401 (or 403 for bad credentials) after one refresh
│   ├── PermissionDeniedError  403: instance access or the entity id
│   ├── NotFoundError          404, or 400 "... does not exist."
│   ├── ValidationError        400/422 the request or SQL is invalid (line and column if given)
│   ├── QuotaExceededError     422 limits: worth re-queuing later
│   ├── DownloadUnavailable    results not available (yet)
│   ├── RateLimitedError       429 after retries (carries the server's Retry-After)
│   └── ServerError            5xx after retries
├── ExecutionFailed            the execution ended FAILED (or CANCELLED)
└── ExecutionRejected          the execution ended REJECTED (privacy overlap)

What to do is the `hint` (amc_manager.errors): each class sets a default, a raise site may
pass a sharper one.
"""

from __future__ import annotations

import re

from amc_manager.errors import AmcManagerError

_POSITION = re.compile(r"From line (\d+), column (\d+)")


class AmcError(AmcManagerError):
    """Base of the client's errors."""

    hint = "Check the request and try again."


class InvalidIdentity(AmcError):
    """An id that must not reach AMC's URLs or headers."""

    exit_code = 2
    hint = "Use the AMC instance id (amc + 8 letters or digits) and the account's ENTITY id."


class ReauthenticationRequired(AmcError):
    """The stored grant is unusable; only a new consent fixes it."""

    exit_code = 2
    hint = "Re-authenticate: run `amc auth login` or `amc auth add-token` again."


class AmcTransportError(AmcError):
    """AMC could not be reached, after retries."""

    hint = "AMC was unreachable; check the network and try again later."

    def __init__(self, message: str, *, method: str, path: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.path = path


class UncertainOutcome(AmcTransportError):
    """A non-idempotent call may or may not have taken effect (timeout, 5xx, lost answer).

    Callers that create things catch it and look for what they made before sending again.
    """

    hint = "AMC's answer was lost; check whether the object exists before creating it again."


class UrlExpired(AmcError):
    """S3 answered 403 `Request has expired`: ask AMC for fresh URLs."""

    hint = "The result URLs expired; download again (fresh URLs are fetched)."


class AmcApiError(AmcError):
    """An error answer from AMC, with the call and AMC's own `code` and `details`."""

    def __init__(
        self,
        details: str,
        *,
        method: str,
        path: str,
        status: int,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"AMC answered {status} to {method} {path}: {details}", hint=hint)
        self.details = details
        self.method = method
        self.path = path
        self.status = status
        self.code = code


class AuthenticationError(AmcApiError):
    hint = "The access token was refused even after a refresh; re-authenticate."


class PermissionDeniedError(AmcApiError):
    hint = (
        "Check that the user can access this AMC instance and that the AMC account (ENTITY) id "
        "and marketplace are the instance's own."
    )


class NotFoundError(AmcApiError):
    hint = "Check the id; it does not exist on this instance."


class ValidationError(AmcApiError):
    """AMC refused the request as invalid; `line` and `column` when AMC gives a position."""

    exit_code = 2
    hint = "Fix the problem AMC describes and submit again."

    def __init__(self, details: str, **kwargs: object) -> None:
        super().__init__(details, **kwargs)  # type: ignore[arg-type]
        found = _POSITION.search(details)
        self.line = int(found.group(1)) if found else None
        self.column = int(found.group(2)) if found else None


class QuotaExceededError(AmcApiError):
    hint = "AMC's limits are reached; queue the work and submit it later."


class DownloadUnavailable(AmcApiError):
    hint = "Results are downloadable only after the execution SUCCEEDED; try again later."


class RateLimitedError(AmcApiError):
    """429; `retry_after` is the server's Retry-After in seconds, when it sent one."""

    hint = "AMC kept throttling; lower the request rate and try again later."

    def __init__(self, details: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(details, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(AmcApiError):
    hint = "AMC had a server error; try again later."


class ExecutionFailed(AmcError):
    """The execution ended FAILED (or was cancelled); the message carries AMC's statusReason."""

    hint = "Read AMC's reason; fix the query or window, or submit again if it was transient."


class ExecutionRejected(AmcError):
    """The execution ended REJECTED: AMC refused to run it (privacy overlap or limits)."""

    hint = (
        "Change the query or the time window: AMC rejects repeated similar queries over "
        "overlapping windows."
    )
