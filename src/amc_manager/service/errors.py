"""The application layer's errors: what every front end tells apart (the REST API maps them
to 404 and 403; the CLI exits 2 for both, as for any request it cannot accept).

UsageError (amc_manager.errors)
├── NotFound          the thing does not exist for this user (REST: 404)
├── NotPermitted      the user sees the thing but may not do this to it (REST: 403)
├── Conflict          the request clashes with what is stored (an idempotency key reused
│                     with another request; REST: 409)
└── BadConsent        an Amazon consent callback that cannot be accepted: a state forged,
                      reused, expired or from another session (REST: 400)
"""

from __future__ import annotations

from amc_manager.errors import UsageError


class NotFound(UsageError):
    """Unknown to this user: missing, or on an instance they may not use (never told apart)."""


class NotPermitted(UsageError):
    """The user may see the thing but not do this (cancel another's run, an admin's task)."""


class Conflict(UsageError):
    """The request clashes with what is stored: an Idempotency-Key used for another request."""


class BadConsent(UsageError):
    """A consent callback that cannot be accepted (REST's 400)."""
