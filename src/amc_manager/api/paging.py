"""Paging of list routes: `limit` (default 50, at most 500) and an opaque `cursor`.

A cursor is base64url JSON tagged with its list, so one list's cursor cannot be replayed on
another; it carries a position (keyset or offset), never anything the caller may not see.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query

from amc_manager.api.problems import ApiProblem

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

LimitQuery = Annotated[
    int, Query(ge=1, le=500, description="How many items (default 50, at most 500).")
]
CursorQuery = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first."),
]


def encode_cursor(kind: str, position: Sequence[Any]) -> str:
    raw = json.dumps([kind, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(kind: str, cursor: str) -> list[Any]:
    """The position a cursor of list `kind` carries; 400 for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        decoded = None
    if not isinstance(decoded, list) or not decoded or decoded[0] != kind:
        raise ApiProblem(
            400,
            "the cursor is not one this list gave",
            slug="invalid-cursor",
            hint="pass next_cursor from the previous page unchanged",
        )
    return decoded[1:]


def offset_page(
    kind: str, items: list[T], limit: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """A page of a short list held whole (instances, tokens, users): the cursor is an offset."""
    start = 0
    if cursor is not None:
        position = decode_cursor(kind, cursor)
        if len(position) != 1 or not isinstance(position[0], int) or position[0] < 0:
            raise ApiProblem(400, "the cursor is not one this list gave", slug="invalid-cursor")
        start = position[0]
    end = start + limit
    return items[start:end], encode_cursor(kind, [end]) if end < len(items) else None


def keyset_before(kind: str, cursor: str | None) -> tuple[float, str] | None:
    """Where the next page of a newest-first list `kind` starts: the (time, id) of the last
    item of the previous page; None for the first page, 400 for a cursor of anything else."""
    if cursor is None:
        return None
    position = decode_cursor(kind, cursor)
    if len(position) != 2 or not isinstance(position[0], int | float):
        raise ApiProblem(400, "the cursor is not one this list gave", slug="invalid-cursor")
    return float(position[0]), str(position[1])


def keyset_page(
    kind: str, items: list[T], limit: int, position: Callable[[T], tuple[float, str]]
) -> tuple[list[T], str | None]:
    """A page of `items` read as `limit + 1` from `keyset_before`'s position: the first
    `limit`, and the cursor of the next page when there is one more."""
    if len(items) <= limit:
        return items, None
    page = items[:limit]
    return page, encode_cursor(kind, list(position(page[-1])))


def collection(router: APIRouter, method: str, path: str, **kwargs: Any) -> Callable[[F], F]:
    """Register a collection route with and without a trailing slash, without a redirect
    (the second is left out of the OpenAPI document)."""

    def register(endpoint: F) -> F:
        router.add_api_route(path, endpoint, methods=[method], **kwargs)
        router.add_api_route(
            path + "/", endpoint, methods=[method], include_in_schema=False, **kwargs
        )
        return endpoint

    return register
