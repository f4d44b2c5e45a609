"""Uploads that never published: their temporaries removed and forgotten (no pyarrow here, so
`amc db prune` starts without it)."""

from __future__ import annotations

from amc_manager.storage import Results
from amc_manager.store import Store


async def discard_uploads(
    results: Results, store: Store, execution_id: str | None = None, *, before: float | None = None
) -> int:
    """Remove the temporaries of uploads that never published (of one execution, or begun
    before `before`) and forget them; how many."""
    stale = await store.pending_uploads(execution_id=execution_id, started_before=before)
    for upload in stale:
        await results.delete(upload.location)
        await store.remove_pending_upload(upload.location)
    return len(stale)
