"""Retention as a use case: `amc db prune` and the worker's daily pass delete result files older
than AMC_RESULTS_RETENTION_DAYS and audit rows older than AMC_AUDIT_RETENTION_DAYS, and clean
what uploads that died left behind (temporaries, unfinished S3 multipart uploads, this host's
download scratch)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from amc_manager.engine.uploads import discard_uploads
from amc_manager.service.runtime import Runtime

logger = logging.getLogger("amc_manager.retention")
DAY = 86400.0
# An upload still unpublished after this long died with its worker (downloads of the largest
# results take minutes, not hours); its temporary and multipart parts are removed.
STALE_UPLOAD_HOURS = 6.0
BATCH = 500


@dataclass(frozen=True)
class PruneReport:
    """What one pass removed."""

    results_deleted: int
    audit_rows_deleted: int
    uploads_removed: int


async def prune(runtime: Runtime, *, stale_upload_hours: float = STALE_UPLOAD_HOURS) -> PruneReport:
    """Apply the retention settings once (a setting left unset keeps that kind for ever)."""
    settings = runtime.settings
    now = runtime.clock()
    stale_before = now - stale_upload_hours * 3600
    store = runtime.store
    removed = await discard_uploads(runtime.results, store, before=stale_before)

    async def under_way() -> list[str]:
        return [upload.location for upload in await store.pending_uploads()]

    removed += await runtime.results.sweep(stale_before, live=under_way)
    scratch = settings.results_dir / ".parts"
    removed += await asyncio.to_thread(_remove_stale_scratch, scratch, stale_before)
    results = 0
    if settings.results_retention_days is not None:
        results = await _prune_results(runtime, now - settings.results_retention_days * DAY)
    audit = 0
    if settings.audit_retention_days is not None:
        audit = await runtime.store.prune_audit(now - settings.audit_retention_days * DAY)
    return PruneReport(results, audit, removed)


async def _prune_results(runtime: Runtime, cutoff: float) -> int:
    """Delete each expired result file, then drop its location from the execution (which
    keeps its row count and columns: asking for its rows says it was deleted)."""
    deleted = 0
    while batch := await runtime.store.results_finished_before(cutoff, BATCH):
        for kept in batch:
            await runtime.results.delete(kept.location)
            await runtime.store.forget_result(kept.execution_id, kept.location)
            deleted += 1
    return deleted


def _remove_stale_scratch(folder: Path, before: float) -> int:
    """This host's download folders left by a worker that died (its successor may have been
    on another host, so nobody else would ever remove them)."""
    if not folder.is_dir():
        return 0
    removed = 0
    for entry in folder.iterdir():
        try:
            if entry.is_dir() and entry.stat().st_mtime < before:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def retention_loop(runtime: Runtime) -> Callable[[], Awaitable[float]]:
    """The worker's daily pass (first at start): a supervised loop step."""

    async def step() -> float:
        report = await prune(runtime)
        if report.results_deleted or report.audit_rows_deleted or report.uploads_removed:
            logger.info(
                "retention: %d result files, %d audit rows, %d stale uploads removed",
                report.results_deleted,
                report.audit_rows_deleted,
                report.uploads_removed,
            )
        return DAY / runtime.settings.time_scale

    return step
