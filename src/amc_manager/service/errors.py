"""The application layer's errors: what every front end tells apart (the REST API maps them
to 404 and 403; the CLI exits 2 for both, as for any request it cannot accept).

UsageError (amc_manager.errors)
├── NotFound          the thing does not exist for this user (REST: 404)
├── NotPermitted      the user sees the thing but may not do this to it (REST: 403)
├── Conflict          the request clashes with what is stored (an idempotency key reused
│                     with another request; REST: 409)
└── BadConsent        an Amazon consent callback that cannot be accepted: a state forged,
                      reused, expired or from another session (REST: 400)

AmcManagerError (amc_manager.errors)
├── StorageUnavailable  result storage could not be reached or refused a read (REST: 503;
│                       the CLI exits 1)
└── ResultGone          a stored result's file is gone: deleted by retention or by hand (REST:
                        409, like any result asked for that cannot be had; the CLI exits 1)

Result storage's own errors (storage/errors.py) name no bucket or path either, but they are
translated here, at the application layer's edge, so every front end tells the two apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from amc_manager.errors import AmcManagerError, UsageError
from amc_manager.storage.errors import ResultMissing, StorageError


class NotFound(UsageError):
    """Unknown to this user: missing, or on an instance they may not use (never told apart)."""


class NotPermitted(UsageError):
    """The user may see the thing but not do this (cancel another's run, an admin's task)."""


class Conflict(UsageError):
    """The request clashes with what is stored: an Idempotency-Key used for another request."""


class BadConsent(UsageError):
    """A consent callback that cannot be accepted (REST's 400)."""


class StorageUnavailable(AmcManagerError):
    """Result storage could not be reached or refused to read a result (REST's 503)."""

    hint = (
        "try again later; if it lasts, check AMC_RESULTS_URL, AMC_S3_ENDPOINT_URL and the "
        "AWS_* credentials"
    )


class ResultGone(AmcManagerError):
    """The result file of a succeeded execution is no longer kept (REST's 409)."""

    hint = "run the query again (AMC_RESULTS_RETENTION_DAYS sets how long results stay)"


@contextmanager
def reading_results(what: str) -> Iterator[None]:
    """Result storage's errors while reading the result of `what` (e.g. `execution ID`), as
    the application layer's: messages that name no bucket, key or path."""
    try:
        yield
    except ResultMissing:
        raise ResultGone(f"the result file of {what} is gone from result storage") from None
    except StorageError:
        raise StorageUnavailable(
            f"result storage could not be reached to read the result of {what}"
        ) from None
