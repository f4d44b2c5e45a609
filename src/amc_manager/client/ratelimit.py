"""A per-instance request budget: steady spacing under AMC's limit, slowed by 429s, recovering.

The budget is an interface (`RequestBudget`) so the engine can later back it with the store and
share one budget across processes; `RateLimiter` is the in-process implementation shared by
every caller of one client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

DEFAULT_RATE = 9.5  # just under the design note's 10 requests/s per instance


class RequestBudget(Protocol):
    async def acquire(self, key: str) -> None: ...

    def penalize(self, key: str, retry_after: float | None) -> None: ...


@dataclass
class _Lane:
    rate: float
    next_free: float = 0.0
    paused_until: float = 0.0
    last_penalty: float = field(default=-1e18)


class RateLimiter:
    """Reservation-based spacing per key (no bursts), AIMD on 429.

    A 429 halves the key's rate (down to `min_rate`) and pauses it for Retry-After; after
    `recovery_seconds` without a 429 the rate climbs back by `recovery_step` per interval.
    """

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
        self.max_rate = rate
        self.min_rate = min(min_rate, rate) if rate > 0 else 0
        self.recovery_seconds = recovery_seconds
        self.recovery_step = recovery_step
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[str, _Lane] = {}

    def rate(self, key: str) -> float:
        lane = self._lanes.get(key)
        return lane.rate if lane else self.max_rate

    def _lane(self, key: str, now: float) -> _Lane:
        lane = self._lanes.setdefault(key, _Lane(self.max_rate))
        quiet = now - lane.last_penalty
        if lane.rate < self.max_rate and quiet >= self.recovery_seconds:
            steps = int(quiet // self.recovery_seconds)
            lane.rate = min(self.max_rate, lane.rate + steps * self.recovery_step)
            lane.last_penalty = now - (quiet % self.recovery_seconds)
        return lane

    async def acquire(self, key: str) -> None:
        if self.max_rate <= 0:
            return
        now = self._clock()
        lane = self._lane(key, now)
        start = max(now, lane.next_free, lane.paused_until)
        lane.next_free = start + 1.0 / lane.rate
        if start > now:
            await self._sleep(start - now)

    def penalize(self, key: str, retry_after: float | None) -> None:
        if self.max_rate <= 0:
            return
        now = self._clock()
        lane = self._lane(key, now)
        # One congestion event halves the rate once: the other 429s of the same burst (answers
        # to requests already in flight) land inside the pause and must not halve it again.
        if now >= lane.paused_until:
            lane.rate = max(self.min_rate, lane.rate / 2)
        lane.last_penalty = now
        if retry_after:
            lane.paused_until = max(lane.paused_until, now + retry_after)
