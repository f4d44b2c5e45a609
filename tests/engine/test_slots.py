"""Step slots (`--concurrency`): steps waiting for a slot count as taken, so a loop that
claims only while a slot is free never leases runs it cannot step soon."""

from __future__ import annotations

import asyncio

import pytest

from amc_manager.engine.slots import StepSlots


async def test_waiting_steps_count_as_taken_and_free_a_slot_when_they_end() -> None:
    slots = StepSlots(2)
    release = asyncio.Event()
    running: list[int] = []

    async def step(n: int) -> None:
        async with slots.step():
            running.append(n)
            await release.wait()

    tasks = [asyncio.create_task(step(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert running == [0, 1] and slots.free == 0  # the third waits, and counts
    waiter = asyncio.create_task(slots.wait_free())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    release.set()
    await asyncio.gather(*tasks)
    await asyncio.wait_for(waiter, 1)
    assert running == [0, 1, 2] and slots.free == 2


async def test_a_step_cancelled_while_waiting_gives_its_place_back() -> None:
    slots = StepSlots(1)
    hold = asyncio.Event()

    async def step() -> None:
        async with slots.step():
            await hold.wait()

    first = asyncio.create_task(step())
    second = asyncio.create_task(step())
    await asyncio.sleep(0.01)
    assert slots.free == 0
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    hold.set()
    await first
    assert slots.free == 1


async def test_no_bound_never_waits() -> None:
    slots = StepSlots()
    async with slots.step(), slots.step():
        assert slots.free is None
    await asyncio.wait_for(slots.wait_free(), 1)
    with pytest.raises(ValueError, match="at least 1"):
        StepSlots(0)
