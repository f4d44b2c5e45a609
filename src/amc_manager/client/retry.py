"""The client's one retry loop: tenacity with the injected sleep, waits from `RetryPolicy`.

Every retrying part of the client (API calls, token grants, workflow and execution creates,
download URLs, result files) iterates `policy.attempts(...)`. What is retried is named by the
caller as exception classes; how long to wait is the policy's: a server's Retry-After when the
error carries one (capped), else exponential backoff with jitter. An error that already used up
a loop's attempts (LwA unreachable inside an API call's auth flow, say) is never retried again
by an enclosing loop: retries do not multiply.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NoReturn, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Exhausted = Callable[[BaseException], BaseException]
BeforeSleep = Callable[[BaseException, float], Awaitable[None]]

UNCERTAIN_STATUS = frozenset({500, 502, 503, 504})  # the request may have been processed
MAX_RETRY_AFTER = 120.0
_SPENT = "_amc_retries_spent"


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

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server gave one (capped), else the backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff(attempt)

    def attempts(
        self,
        sleep: Sleep,
        retry_on: type[BaseException] | tuple[type[BaseException], ...],
        *,
        exhausted: Exhausted | None = None,
        before_sleep: BeforeSleep | None = None,
    ) -> AsyncRetrying:
        """`async for attempt in policy.attempts(...): with attempt: ...`.

        Errors of `retry_on` are retried up to `max_attempts`; any other error propagates at
        once. After the last attempt the last error is raised as is, or `exhausted(error)`
        (raised `from` it) when given. `before_sleep(error, seconds)` runs before each wait.
        """

        def retryable(error: BaseException) -> bool:
            return isinstance(error, retry_on) and not getattr(error, _SPENT, False)

        def wait(state: RetryCallState) -> float:
            error = _error_of(state)
            return self.delay(state.attempt_number, getattr(error, "retry_after", None))

        async def announce(state: RetryCallState) -> None:
            if before_sleep is not None:
                await before_sleep(_error_of(state), state.upcoming_sleep)

        def give_up(state: RetryCallState) -> NoReturn:
            error = _error_of(state)
            final = error if exhausted is None else exhausted(error)
            setattr(final, _SPENT, True)
            if final is error:
                raise error
            raise final from error

        return AsyncRetrying(
            sleep=sleep,
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(retryable),
            before_sleep=announce,
            retry_error_callback=give_up,
        )

    async def run(
        self,
        operation: Callable[[int], Awaitable[T]],
        sleep: Sleep,
        retry_on: type[BaseException] | tuple[type[BaseException], ...],
        *,
        exhausted: Exhausted | None = None,
        before_sleep: BeforeSleep | None = None,
    ) -> T:
        """`await operation(attempt_number)` under `attempts(...)`: its result, or its error."""
        retrying = self.attempts(sleep, retry_on, exhausted=exhausted, before_sleep=before_sleep)
        async for attempt in retrying:
            with attempt:
                return await operation(attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _error_of(state: RetryCallState) -> BaseException:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if error is None:  # only failed attempts are retried, so this cannot happen
        raise AssertionError("retrying without an error")
    return error


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
