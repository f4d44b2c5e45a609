"""Naming a user's execution, collection or schedule: a full id or a unique prefix among what
the user may see, and the rule that only its creator or an admin may change one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from amc_manager.errors import UsageError
from amc_manager.service.access import actor
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.service.runtime import Runtime

MIN_PREFIX = 6
R = TypeVar("R")


async def by_id_or_prefix(
    ref: str,
    *,
    kind: str,
    full: bool,
    get: Callable[[str], Awaitable[R | None]],
    visible: Callable[[R], Awaitable[bool]],
    prefixed: Callable[[str], Awaitable[list[str]]],
    listed_by: str,
) -> R:
    """The `kind` named `ref`: its full id, or (unless `full`) a unique prefix of at least
    MIN_PREFIX characters among the ids `prefixed` finds. Anything the user may not see is
    unknown (NotFound, REST's 404); an ambiguous prefix is a UsageError listing the matches."""
    row = await get(ref)
    if row is not None and await visible(row):
        return row
    if full or len(ref) < MIN_PREFIX:
        raise NotFound(
            f"unknown {kind} {ref}",
            hint=f"give the full id or a prefix of at least {MIN_PREFIX} characters",
        )
    matches = await prefixed(ref.lower())
    if not matches:
        raise NotFound(f"unknown {kind} {ref}", hint=f"see `{listed_by}`")
    if len(matches) > 1:
        shown = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
        raise UsageError(
            f"{kind} prefix {ref} is ambiguous: it matches {shown}",
            hint="give more characters of the id",
        )
    found = await get(matches[0])
    if found is None:  # deleted between the two reads
        raise NotFound(f"unknown {kind} {ref}", hint=f"see `{listed_by}`")
    return found


async def require_creator(
    runtime: Runtime, email: str, *, kind: str, row_id: str, creator_id: str, verb: str
) -> None:
    """NotPermitted unless `email` created the thing or is an admin."""
    me = await actor(runtime, email)
    if creator_id != me.id and not me.is_admin:
        raise NotPermitted(
            f"only the user who created {kind} {row_id} or an admin may {verb} it",
            hint="ask them or an admin",
        )
