"""Where httpx meets the client's errors: the one status-to-class table for AMC's answers and
the one translation of httpx's transport errors (each raised `from` the httpx error)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from amc_manager.client import errors as e
from amc_manager.client.audit import audit_transport_failure
from amc_manager.client.retry import parse_retry_after

_QUOTA_WORDS = ("limit", "quota", "exceeded", "too many")


@contextmanager
def transport_errors(
    method: str,
    path: str,
    *,
    host: str = "AMC",
    error: type[e.AmcTransportError] = e.AmcTransportError,
) -> Iterator[None]:
    """httpx's request errors (no answer: refused, dropped, timed out) become `error`
    (`UncertainOutcome` for a request that may have taken effect).

    The request is audited here too, since the response hooks never see it.
    """
    try:
        yield
    except httpx.RequestError as exc:
        audit_transport_failure(exc)
        raise error(
            f"{host} unreachable for {method} {path}: {type(exc).__name__}",
            method=method,
            path=path,
        ) from exc


def error_details(response: httpx.Response) -> tuple[str, str | None]:
    """AMC's text and code: `details`, then `message`, then `statusReason`, then raw text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("details", "message", "statusReason", "error_description"):
            if isinstance(body.get(key), str) and body[key]:
                code = body.get("code")
                return body[key], str(code) if code is not None else None
    text = response.text.strip()
    return (text[:500] if text else response.reason_phrase), None


def map_error(
    response: httpx.Response, *, method: str, path: str, account_id: str | None
) -> e.AmcApiError:
    details, code = error_details(response)
    status = response.status_code
    kwargs: dict[str, Any] = {"method": method, "path": path, "status": status, "code": code}
    lowered = details.lower()
    if "unavailable for download" in lowered:
        return e.DownloadUnavailable(details, **kwargs)
    if status in (400, 404) and "does not exist" in lowered:
        return e.NotFoundError(details, **kwargs)
    if status == 401:
        return e.AuthenticationError(details, **kwargs)
    if status == 403:
        sent = f"AdvertiserId {account_id}" if account_id else "no AdvertiserId"
        return e.PermissionDeniedError(
            details,
            hint=f"AMC refused the request sent with {sent}: check that the user can access "
            "this instance and that this is the instance's AMC account (ENTITY…) id and "
            "marketplace, not a profile id.",
            **kwargs,
        )
    if status == 404:
        return e.NotFoundError(details, **kwargs)
    if status == 422 and any(word in lowered for word in _QUOTA_WORDS):
        return e.QuotaExceededError(details, **kwargs)
    if status == 429:
        return e.RateLimitedError(
            details, retry_after=parse_retry_after(response.headers), **kwargs
        )
    if status >= 500:
        return e.ServerError(details, **kwargs)
    return e.ValidationError(details, **kwargs)
