"""Signed webhook notifications (collections and schedules): one JSON POST, HMAC-SHA256 signed.

The receiver checks `X-AMC-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw request body
keyed with `AMC_SECRET_KEY` (`signature(body, key)` is the reference). The body carries `sent_at`
(Unix seconds) and a unique `id`, so a receiver can refuse replays and duplicates. A webhook
that cannot be delivered is retried a few times and then logged; it never fails the run it
reports on.

AmcManagerError
└── WebhookRefused    the receiver answered 5xx or 429; retried, then logged (never raised)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from amc_manager.errors import AmcManagerError

logger = logging.getLogger("amc_manager.notify")
SIGNATURE_HEADER = "X-AMC-Signature"
ATTEMPTS = 4


class WebhookRefused(AmcManagerError):
    """The receiver answered with a server error or 429: worth another attempt."""


def signature(body: bytes, key: str) -> str:
    """The value of `X-AMC-Signature` for `body`: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, key: str) -> bool:
    """Whether `header` is the signature of `body` under `key` (constant-time compare)."""
    return header is not None and hmac.compare_digest(header, signature(body, key))


def event_body(kind: str, payload: Mapping[str, Any], *, now: float | None = None) -> bytes:
    """The JSON body of one event: `{id, event, sent_at, ...payload}`."""
    document = {"id": uuid.uuid4().hex, "event": kind, "sent_at": now or time.time(), **payload}
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: what may appear in a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


async def post_event(
    url: str,
    kind: str,
    payload: Mapping[str, Any],
    key: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    timeout: float = 10.0,
) -> bool:
    """POST one signed event to `url`; True when the receiver answered 2xx. Never raises:
    a failed notification is logged (without the URL's secrets) and reported as False."""
    body = event_body(kind, payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, key)}
    retrying = AsyncRetrying(
        sleep=sleep or asyncio.sleep,
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=0.5, max=8),
        retry=retry_if_exception_type((httpx.TransportError, WebhookRefused)),
        reraise=True,
    )
    try:
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            async for attempt in retrying:
                with attempt:
                    response = await client.post(url, content=body, headers=headers)
                    if response.status_code >= 500 or response.status_code == 429:
                        raise WebhookRefused(f"HTTP {response.status_code}")
                    if response.status_code >= 300:
                        logger.warning(
                            "webhook %s to %s refused: HTTP %s",
                            kind,
                            safe_url(url),
                            response.status_code,
                        )
                        return False
                    return True
    except (httpx.HTTPError, WebhookRefused) as exc:
        logger.warning(
            "webhook %s to %s not delivered after %d attempts: %s",
            kind,
            safe_url(url),
            ATTEMPTS,
            type(exc).__name__,
        )
    return False
