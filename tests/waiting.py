"""Waiting in tests: read until a condition holds, or fail saying what was seen last."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    read: Callable[[], Awaitable[T]],
    wanted: Callable[[T], bool],
    *,
    seconds: float = 30.0,
    every: float = 0.1,
) -> T:
    """`read()` every `every` s until `wanted` holds for what it gave; that value."""
    seen: T | None = None
    for _ in range(max(1, round(seconds / every))):
        seen = await read()
        if wanted(seen):
            return seen
        await asyncio.sleep(every)
    raise AssertionError(f"not there within {seconds:g} s; seen last: {seen!r}")
