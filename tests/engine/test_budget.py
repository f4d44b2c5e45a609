"""The shared request budget: the store's row follows the client's very AIMD step."""

from __future__ import annotations

from dataclasses import dataclass

from amc_manager.client.ratelimit import (
    BudgetParams,
    BudgetState,
    RateLimiter,
    penalize,
    reserve,
)
from amc_manager.engine.budget import StoreBudget
from amc_manager.store import Store

KEY = "amcaaaaaaaa"
PARAMS = BudgetParams(max_rate=10, min_rate=0.5, recovery_seconds=5, recovery_step=1)


@dataclass(frozen=True)
class Event:
    at: float
    kind: str  # "acquire" or "penalize"
    retry_after: float | None = None


# A burst of requests, a 429 (halve, pause 2 s), a second 429 of the same burst inside the
# pause (no second halving), quiet recovery across uneven gaps (7.5 s, then 2.75 s: the second
# step only happens if the remainder of the first gap is kept), another congestion event.
# Times are exact binary fractions, so no step hinges on rounding.
EVENTS = [
    *(Event(1000.0, "acquire") for _ in range(5)),
    Event(1000.25, "penalize", 2.0),
    Event(1000.5, "penalize", 2.0),
    Event(1001.0, "acquire"),
    Event(1008.0, "acquire"),
    Event(1010.75, "acquire"),
    Event(1011.0, "penalize", None),
    Event(1011.25, "acquire"),
    Event(1050.0, "acquire"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def store_budget(store: Store, clock: Clock) -> StoreBudget:
    """A process's view of the shared budget, with PARAMS, on `clock`."""
    return StoreBudget(
        store,
        PARAMS.max_rate,
        min_rate=PARAMS.min_rate,
        recovery_seconds=PARAMS.recovery_seconds,
        recovery_step=PARAMS.recovery_step,
        clock=clock,
        sleep=clock.sleep,
    )


def expected() -> list[BudgetState]:
    """The pure functions applied by hand: what both budgets must hold after each event."""
    state, states = PARAMS.fresh(), []
    for event in EVENTS:
        if event.kind == "acquire":
            state, _ = reserve(state, event.at, PARAMS)
        else:
            state = penalize(state, event.at, event.retry_after, PARAMS)
        states.append(state)
    return states


async def test_limiter_and_store_budget_take_the_same_aimd_steps(store: Store) -> None:
    memory_clock, store_clock = Clock(), Clock()
    limiter = RateLimiter(
        PARAMS.max_rate,
        min_rate=PARAMS.min_rate,
        recovery_seconds=PARAMS.recovery_seconds,
        recovery_step=PARAMS.recovery_step,
        clock=memory_clock,
        sleep=memory_clock.sleep,
    )
    shared = store_budget(store, store_clock)
    in_memory, in_store = [], []
    for event in EVENTS:
        memory_clock.now = store_clock.now = event.at
        if event.kind == "acquire":
            await limiter.acquire(KEY)
            await shared.acquire(KEY)
        else:
            await limiter.penalize(KEY, event.retry_after)
            await shared.penalize(KEY, event.retry_after)
        in_memory.append(limiter.state(KEY))
        in_store.append(await shared.state(KEY))

    assert in_store == in_memory == expected()
    assert memory_clock.waits == store_clock.waits
    rates = [s.rate for s in in_store]
    # The scenario exercises every branch: one halving for the burst of two 429s, a pause,
    # two recovery steps (the second from the kept remainder), a halving without Retry-After.
    assert rates[4:12] == [10, 5, 5, 5, 6, 7, 3.5, 3.5]
    assert rates[-1] == 10
    assert in_store[6].paused_until == 1002.5
    assert memory_clock.waits[4] == 1.5  # the request after the burst waited out the pause


async def test_two_processes_alternating_on_one_row_take_each_step_once(store: Store) -> None:
    # Each budget tries its next write against the row as it last wrote it; here the other
    # one always wrote in between, so every such guess is stale and must fall back to reading
    # the row: the stored states are those of one budget taking every event in turn.
    clock = Clock()
    budgets = [store_budget(store, clock) for _ in range(2)]
    states = []
    for index, event in enumerate(EVENTS):
        clock.now = event.at
        budget = budgets[index % 2]
        if event.kind == "acquire":
            await budget.acquire(KEY)
        else:
            await budget.penalize(KEY, event.retry_after)
        states.append(await budget.state(KEY))
    assert states == expected()
    # ... and one that alone writes the row keeps taking steps from it.
    alone, state = budgets[0], states[-1]
    for _ in range(3):
        clock.now = 1060.0
        await alone.acquire(KEY)
        state, _ = reserve(state, 1060.0, PARAMS)
    assert await alone.state(KEY) == state
