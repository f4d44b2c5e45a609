"""`amc db prune` cleans what dead uploads left: their recorded temporaries, orphan
temporaries, and this host's old download scratch; with no retention set, results stay."""

from __future__ import annotations

import json
import time
from pathlib import Path

from amc_manager.config import Settings
from amc_manager.service.retention import prune
from amc_manager.service.runtime import Runtime
from tests.storage.conftest import amc

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
