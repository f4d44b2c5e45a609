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
from amc_manager.client.errors import AmcTransportError, ServerError, UrlExpired
from amc_manager.client.identity import InstanceRef
from amc_manager.client.models import DownloadUrls
from amc_manager.client.responses import transport_errors

if TYPE_CHECKING:
    from amc_manager.client.client import AmcClient

CHUNK = 1 << 20
__all__ = ["Downloads", "UrlExpired"]


class Downloads:
    """Streams result and metadata files; no Ads headers ever go to a presigned URL."""

    def __init__(self, client: AmcClient) -> None:
        self._client = client

    @asynccontextmanager
    async def open(self, url: str, *, user_context: AuditContext) -> AsyncIterator[httpx.Response]:
        """A streaming GET of one presigned URL; raises UrlExpired, a ServerError, or an
        AmcTransportError (also while the body is read)."""
        path = urlsplit(url).path
        http = self._client.http
        with audit_scope(user_context, self._client.audit), transport_errors("GET", path):
            response = await http.send(http.build_request("GET", url), stream=True, auth=None)
        try:
            if response.status_code == 403:
                await response.aread()
                if b"expired" in response.content.lower():
                    raise UrlExpired(f"the presigned URL of {path} expired")  # no signature
            if response.status_code != 200:
                await response.aread()
                raise ServerError(
                    response.text[:300] or response.reason_phrase,
                    method="GET",
                    path=path,
                    status=response.status_code,
                )
            with transport_errors("GET", path):
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

        def failed(error: BaseException) -> AmcTransportError:
            return AmcTransportError(
                f"could not download result file {index} of {execution_id}: {error}",
                method="GET",
                path="presigned result URL",
            )

        async def attempt(number: int) -> int:
            nonlocal urls
            if urls is None or number > 1:
                urls = await client.download_urls(instance, execution_id)
            listing = urls.metadata_download_urls if metadata else urls.download_urls
            if index >= len(listing):
                raise IndexError(f"execution {execution_id} has {len(listing)} files")
            return await self._write(listing[index], destination, context)

        retry_on = (UrlExpired, AmcTransportError, ServerError)
        return await client.retry.run(attempt, client.sleep, retry_on, exhausted=failed)

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
