"""Retry policy as pure functions: what is retried, how long to wait, how Retry-After is read."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
UNCERTAIN_STATUS = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After is honoured up to a cap."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = MAX_RETRY_AFTER
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def backoff(self, attempt: int) -> float:
        """Delay before attempt `attempt + 1`: base * 2^(attempt-1), capped, +/- jitter."""
        delay = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return float(delay * (1 + self.jitter * (2 * self.rng.random() - 1)))

    def wait_for(self, response: httpx.Response, attempt: int) -> float:
        """Retry-After when the server gives one (capped), else the backoff."""
        after = parse_retry_after(response.headers)
        if after is not None:
            return min(after, self.max_retry_after)
        return self.backoff(attempt)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `Retry-After`: a number (fractions allowed) or an HTTP date."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS
