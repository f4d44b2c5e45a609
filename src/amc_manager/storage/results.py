"""`Results`: what the engine and the application layer use to keep and read result files.

New results go to the storage `AMC_RESULTS_URL` names; a stored location is read by the storage
of its own kind, so results kept before a switch of `AMC_RESULTS_URL` stay readable where they
are. Blocking calls run in threads; reading a file (`open_input`) is left blocking for callers
that already run in a thread (Parquet readers, exports).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from amc_manager.storage.base import ResultStorage
from amc_manager.storage.errors import ResultMissing, StorageError

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("amc_manager.storage")
Hook = Callable[[str], Awaitable[None]]


class Results:
    """Result files at `writer` (new ones) and wherever earlier ones were kept."""

    def __init__(self, writer: ResultStorage, make: Callable[[str], ResultStorage]) -> None:
        self.writer = writer
        self._make = make  # a location -> a storage of its kind
        self._readers: list[ResultStorage] = [writer]

    def reader(self, location: str) -> ResultStorage:
        for storage in self._readers:
            if storage.holds(location):
                return storage
        storage = self._make(location)
        self._readers.append(storage)
        return storage

    async def save(self, source: Path, name: str, *, pending: Hook | None = None) -> str:
        """Keep the finished local file `source` as `name`; its final location.

        `pending` is told the temporary location before anything is written there (so a
        successor can clean it after a crash). On failure the temporary is removed.
        """
        writer = self.writer
        temporary = writer.temporary(name)
        if pending is not None:
            await pending(temporary)
        final = writer.location(name)
        try:
            await asyncio.to_thread(writer.upload, source, temporary)
            await asyncio.to_thread(writer.publish, temporary, final)
        except BaseException as exc:
            # A cancelled step still cleans up: the removal runs on in its thread.
            await asyncio.shield(asyncio.to_thread(_quietly, writer.delete, temporary))
            if isinstance(exc, OSError):
                logger.warning("result upload of %s failed: %s", name, exc)
                raise StorageError(
                    f"could not store the result file {name}: {type(exc).__name__}"
                ) from exc
            raise
        return final

    def open_input(self, location: str) -> pa.NativeFile:
        """A random-access reader of a stored result (blocking); ResultMissing if gone."""
        try:
            return self.reader(location).open_input(location)
        except FileNotFoundError:
            raise ResultMissing("the result file is missing from result storage") from None
        except OSError as exc:
            # INFO: a server's or worker's log shows the cause (it may name the bucket); a
            # CLI command, which logs only warnings, prints just the one-line error.
            logger.info("reading a result failed: %s", exc)
            raise StorageError(f"could not read the result file: {type(exc).__name__}") from exc

    async def exists(self, location: str) -> bool:
        return await asyncio.to_thread(self.reader(location).exists, location)

    async def delete(self, location: str) -> bool:
        """Remove a stored file (a result, or an upload's temporary); False if none was there."""
        return await asyncio.to_thread(self.reader(location).delete, location)

    async def sweep(
        self,
        older_than: float | None = None,
        *,
        hours: float = 6.0,
        live: Callable[[], Awaitable[Collection[str]]] | None = None,
    ) -> int:
        """Remove temporaries under the current root left by uploads that died, and abort
        their unfinished multipart uploads: what began before `older_than` (default: `hours`
        ago), except the temporaries `live` names (uploads still under way). How many."""
        cutoff = time.time() - hours * 3600 if older_than is None else older_than
        writer = self.writer
        stale = await asyncio.to_thread(writer.temporaries, cutoff)
        try:
            unfinished = await asyncio.to_thread(writer.open_uploads, cutoff)
        except Exception as exc:  # best effort: a lifecycle rule may do it instead
            logger.warning("listing unfinished multipart uploads failed: %s", exc)
            unfinished = []
        # Asked after the listings: an upload is recorded before it writes anything, so every
        # upload listed above that is still under way is named here. (The age alone is not
        # enough: some S3-compatible stores date uploads wrongly, and clocks differ.)
        spared = set(await live()) if live is not None and (stale or unfinished) else set()
        stale = [location for location in stale if location not in spared]
        for location in stale:
            await asyncio.to_thread(_quietly, writer.delete, location)
        unfinished = [upload for upload in unfinished if upload.location not in spared]
        try:
            aborted = await asyncio.to_thread(writer.abort_uploads, unfinished)
        except Exception as exc:
            logger.warning("aborting stale multipart uploads failed: %s", exc)
            aborted = 0
        return len(stale) + aborted


def _quietly(delete: Callable[[str], bool], location: str) -> None:
    try:
        delete(location)
    except OSError as exc:
        logger.warning("could not remove %s: %s", location, exc)
