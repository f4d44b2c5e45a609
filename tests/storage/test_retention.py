"""`amc db prune` cleans what dead uploads left: their recorded temporaries, orphan
temporaries, and this host's old download scratch; with no retention set, results stay."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from amc_manager.config import Settings
from amc_manager.service.retention import prune
from amc_manager.service.runtime import Runtime
from amc_manager.storage.locations import split_location
from tests.storage.conftest import S3Server, amc

HOURS = 3600.0


async def test_prune_removes_what_dead_uploads_left(tmp_path: Path, clean_env: None) -> None:
    settings = Settings(AMC_HOME=str(tmp_path / "home"))
    async with Runtime(settings) as runtime:
        folder = settings.results_dir
        (folder / ".parts" / "dead-run").mkdir(parents=True)
        (folder / ".parts" / "dead-run" / "part-00.csv").write_text("a\n1\n")
        recorded = runtime.results.writer.temporary("dead-run.parquet")
        orphan = runtime.results.writer.temporary("other.parquet")
        kept = folder / "kept.parquet"
        for path in (recorded, orphan, str(kept)):
            Path(path).write_bytes(b"PAR1")
        await runtime.store.add_pending_upload(recorded, "dead-run", "host-1-abc")
        fresh = await prune(runtime)  # nothing is stale yet
        assert (fresh.uploads_removed, fresh.results_deleted) == (0, 0)
        assert Path(recorded).exists() and Path(orphan).exists()

    async with Runtime(settings, clock=lambda: time.time() + 7 * HOURS) as runtime:
        report = await prune(runtime)
        assert await runtime.store.pending_uploads() == []
    assert report.uploads_removed == 3, report
    assert report.results_deleted == report.audit_rows_deleted == 0
    assert not Path(recorded).exists() and not Path(orphan).exists()
    assert not (folder / ".parts" / "dead-run").exists()
    assert kept.exists()  # no retention set: results are kept for ever


async def test_prune_aborts_a_dead_upload_and_spares_one_under_way(
    s3: S3Server, tmp_path: Path, clean_env: None
) -> None:
    """Two multipart uploads under the temporary prefix, both dated long ago (moto dates every
    upload 2010-11-10, as a store with a wrong clock would): the one a worker recorded as
    under way is another worker's live upload and must survive; the unrecorded one is aborted."""
    bucket = s3.new_bucket()
    settings = Settings(
        AMC_HOME=str(tmp_path / "home"),
        AMC_RESULTS_URL=f"s3://{bucket}/r",
        AMC_S3_ENDPOINT_URL=s3.endpoint,
    )
    async with Runtime(settings) as runtime:
        writer = runtime.results.writer
        live, dead = writer.temporary("live.parquet"), writer.temporary("dead.parquet")
        for location in (live, dead):
            key = split_location(location)[1]
            begun = httpx.post(f"{s3.endpoint}/{bucket}/{key}", params={"uploads": ""}, timeout=10)
            begun.raise_for_status()
        await runtime.store.add_pending_upload(live, "live-run", "host-2-abc")
        report = await prune(runtime)
        assert [u.location for u in await runtime.store.pending_uploads()] == [live]
    assert s3.multipart_uploads(bucket) == [split_location(live)[1]]
    assert report.uploads_removed == 1, report


def test_amc_db_prune_reports_what_it_did(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = amc(home, "db", "prune", "--json", AMC_AUDIT_RETENTION_DAYS="30")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "results_deleted": 0,
        "audit_rows_deleted": 0,
        "uploads_removed": 0,
    }
    refused = amc(
        home, "db", "prune", AMC_AUDIT_RETENTION_DAYS="30", AMC_RESULTS_RETENTION_DAYS="-1"
    )
    assert refused.returncode == 2 and "AMC_RESULTS_RETENTION_DAYS" in refused.stderr
