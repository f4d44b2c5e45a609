"""A per-instance request budget: steady spacing under AMC's limit, slowed by 429s, recovering.

The algorithm exists once, as pure functions over a frozen `BudgetState`: `reserve` takes the
next request slot, `penalize` records a 429 (AIMD: halve the rate once per congestion event,
pause for Retry-After, climb back by `recovery_step` per quiet `recovery_seconds`). Two
budgets apply them: `RateLimiter` keeps the states in memory for one process, and the engine's
`StoreBudget` keeps them in the store so every process shares one budget per instance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

DEFAULT_RATE = 9.5  # just under the design note's 10 requests/s per instance


class RequestBudget(Protocol):
    """What the client asks of a budget: a slot before each request, a report of each 429."""

    async def acquire(self, key: str) -> None: ...

    async def penalize(self, key: str, retry_after: float | None) -> None: ...


@dataclass(frozen=True)
class BudgetParams:
    """The budget's knobs; `max_rate <= 0` means no budget at all."""

    max_rate: float = DEFAULT_RATE
    min_rate: float = 0.5
    recovery_seconds: float = 5.0
    recovery_step: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_rate", min(self.min_rate, max(self.max_rate, 0.0)))

    @property
    def unlimited(self) -> bool:
        return self.max_rate <= 0

    def fresh(self) -> BudgetState:
        """A key's state before its first request."""
        return BudgetState(rate=self.max_rate)


@dataclass(frozen=True)
class BudgetState:
    """One key's budget: its rate, the next free slot, the pause, the last 429's moment.

    `last_penalty` doubles as the recovery clock: each recovery step moves it forward by one
    interval, so quiet time is never counted twice and never lost.
    """

    rate: float
    next_free: float = 0.0
    paused_until: float = 0.0
    last_penalty: float = 0.0


def recover(state: BudgetState, now: float, params: BudgetParams) -> BudgetState:
    """Climb back by one step per whole quiet interval since the last 429 (or last step)."""
    quiet = now - state.last_penalty
    if state.rate >= params.max_rate or quiet < params.recovery_seconds:
        return state
    steps = int(quiet // params.recovery_seconds)
    return replace(
        state,
        rate=min(params.max_rate, state.rate + steps * params.recovery_step),
        last_penalty=now - quiet % params.recovery_seconds,
    )


def reserve(state: BudgetState, now: float, params: BudgetParams) -> tuple[BudgetState, float]:
    """Take the next slot: the new state and how long the caller waits for it."""
    state = recover(state, now, params)
    start = max(now, state.next_free, state.paused_until)
    return replace(state, next_free=start + 1.0 / state.rate), start - now


def penalize(
    state: BudgetState, now: float, retry_after: float | None, params: BudgetParams
) -> BudgetState:
    """Record a 429 seen at `now`, with the pause the caller will wait (`retry_after`)."""
    state = recover(state, now, params)
    rate = state.rate
    # One congestion event halves the rate once: the other 429s of the same burst (answers to
    # requests already in flight) land inside the pause and must not halve it again.
    if now >= state.paused_until:
        rate = max(params.min_rate, rate / 2)
    paused = max(state.paused_until, now + retry_after) if retry_after else state.paused_until
    return replace(state, rate=rate, paused_until=paused, last_penalty=now)


class RateLimiter:
    """The in-process budget: one `BudgetState` per key, shared by every caller of a client."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        min_rate: float = 0.5,
        recovery_seconds: float = 5.0,
        recovery_step: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.params = BudgetParams(rate, min_rate, recovery_seconds, recovery_step)
        self._clock = clock
        self._sleep = sleep
        self._states: dict[str, BudgetState] = {}

    def state(self, key: str) -> BudgetState:
        return self._states.get(key) or self.params.fresh()

    def rate(self, key: str) -> float:
        return self.state(key).rate

    async def acquire(self, key: str) -> None:
        if self.params.unlimited:
            return
        self._states[key], wait = reserve(self.state(key), self._clock(), self.params)
        if wait > 0:
            await self._sleep(wait)

    async def penalize(self, key: str, retry_after: float | None) -> None:
        if self.params.unlimited:
            return
        self._states[key] = penalize(self.state(key), self._clock(), retry_after, self.params)
