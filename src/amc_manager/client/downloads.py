"""Result downloads: plain GETs of presigned URLs, streamed to disk, fresh URLs when expired."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from amc_manager.client.audit import AuditContext, audit_scope
from amc_manager.client.errors import AmcTransportError, ServerError
from amc_manager.client.identity import InstanceRef
from amc_manager.client.models import DownloadUrls

if TYPE_CHECKING:
    from amc_manager.client.client import AmcClient

CHUNK = 1 << 20


class UrlExpired(Exception):
    """S3 answered 403 `Request has expired`: ask AMC for fresh URLs."""


class Downloads:
    """Streams result and metadata files; no Ads headers ever go to a presigned URL."""

    def __init__(self, client: AmcClient) -> None:
        self._client = client

    @asynccontextmanager
    async def open(self, url: str, *, user_context: AuditContext) -> AsyncIterator[httpx.Response]:
        """A streaming GET of one presigned URL; raises UrlExpired or a ServerError."""
        with audit_scope(user_context):
            request = self._client.http.build_request("GET", url)
            response = await self._client.http.send(request, stream=True, auth=None)
        try:
            if response.status_code == 403:
                await response.aread()
                if b"expired" in response.content.lower():
                    raise UrlExpired(url)
            if response.status_code != 200:
                await response.aread()
                raise ServerError(
                    response.text[:300] or response.reason_phrase,
                    method="GET",
                    path=urlsplit(url).path,
                    status=response.status_code,
                )
            yield response
        finally:
            await response.aclose()

    async def to_file(
        self,
        instance: InstanceRef,
        execution_id: str,
        index: int,
        destination: Path,
        *,
        metadata: bool = False,
        urls: DownloadUrls | None = None,
    ) -> int:
        """Download file `index` of the result (or metadata) to `destination`, atomically.

        `urls` (a fresh `download_urls` answer) saves a call; an expired URL, a dropped
        connection or a 5xx restarts the file from fresh URLs. Returns the bytes written.
        """
        client = self._client
        context = AuditContext(client.user, instance.instance_id, "results.download", "download")
        for attempt in range(1, client.retry.max_attempts + 1):
            if urls is None or attempt > 1:
                urls = await client.download_urls(instance, execution_id)
            listing = urls.metadata_download_urls if metadata else urls.download_urls
            if index >= len(listing):
                raise IndexError(f"execution {execution_id} has {len(listing)} files")
            try:
                return await self._write(listing[index], destination, context)
            except (UrlExpired, httpx.TransportError, ServerError):
                if attempt >= client.retry.max_attempts:
                    raise AmcTransportError(
                        f"could not download result file {index} of {execution_id}",
                        method="GET",
                        path="presigned result URL",
                    ) from None
                await client.sleep(client.retry.backoff(attempt))
        raise AssertionError("unreachable")

    async def _write(self, url: str, destination: Path, context: AuditContext) -> int:
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.part")
        written = 0
        async with self.open(url, user_context=context) as response:
            with partial.open("wb") as handle:
                async for chunk in response.aiter_bytes(CHUNK):
                    handle.write(chunk)
                    written += len(chunk)
        os.replace(partial, destination)
        return written
