"""Results on S3 end to end: the engine writes them there, REST serves every format from there,
`amc results` exports from there, nothing lands on the local disk, and retention deletes them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from amc_manager.service.retention import prune
from amc_manager.service.runtime import Runtime
from amc_manager.store import ExecutionRow
from tests.api.conftest import SQL, bearer, make_settings, started
from tests.rows import same_rows
from tests.storage.conftest import S3Server, amc, run_one
from tests.waiting import eventually
from tests.windows import window_fields


async def test_results_written_read_exported_served_and_pruned_on_s3(
    s3: S3Server, tmp_path: Path, clean_env: None
) -> None:
    bucket = s3.new_bucket()
    where = {"AMC_RESULTS_URL": f"s3://{bucket}/team/results", "AMC_S3_ENDPOINT_URL": s3.endpoint}
    settings = make_settings(tmp_path, **where)
    async with started(settings, worker=True) as api:
        token = await api.token()
        done = await run_one(api, token)
        execution_id = done["id"]
        assert done["state"] == "succeeded", done
        assert bucket not in json.dumps(done) and "result_path" not in done

        assert s3.keys(bucket) == [f"team/results/{execution_id}.parquet"]
        assert not list(settings.amc_home.rglob("*.parquet")), "a result stayed on local disk"

        url = f"/api/v1/executions/{execution_id}/results"
        page = (await api.client.get(url, headers=bearer(token))).json()
        rows = page["rows"]
        assert len(rows) == done["row_count"] > 0 and page["next_offset"] is None
        text = (await api.client.get(f"{url}?format=csv", headers=bearer(token))).text
        assert same_rows([[r[0], int(r[1])] for r in list(csv.reader(io.StringIO(text)))[1:]], rows)
        lines = (await api.client.get(f"{url}?format=jsonl", headers=bearer(token))).text
        assert same_rows([list(json.loads(x).values()) for x in lines.splitlines()], rows)
        parquet = await api.client.get(f"{url}?format=parquet", headers=bearer(token))
        table = pq.read_table(io.BytesIO(parquet.content))
        assert same_rows([list(r.values()) for r in table.to_pylist()], rows)

        exported = await asyncio.to_thread(_amc_results, settings.amc_home, where, execution_id)
        from_cli = [[r[0], int(r[1])] for r in list(csv.reader(io.StringIO(exported)))[1:]]
        assert same_rows(from_cli, rows)

        # Two days later, with a retention of one day: the file goes, the execution stays.
        later = make_settings(
            tmp_path, **where, AMC_RESULTS_RETENTION_DAYS=1, AMC_AUDIT_RETENTION_DAYS=1
        )
        async with Runtime(later, clock=lambda: time.time() + 2 * 86400) as runtime:
            assert await runtime.store.audit_counts()
            report = await prune(runtime)
            assert not await runtime.store.audit_counts()
        assert report.results_deleted == 1 and report.audit_rows_deleted > 0, report
        assert s3.keys(bucket) == []
        gone = await api.client.get(url, headers=bearer(token))
        assert gone.status_code == 409 and "deleted by retention" in gone.text, gone.text
        assert bucket not in gone.text


async def test_an_upload_refused_is_retried_and_leaves_no_local_file(
    s3: S3Server, tmp_path: Path, clean_env: None
) -> None:
    """The bucket is missing at first: the run waits, saying why (AMC keeps its files), no
    result-sized file stays on this host, each refusal doubles the wait (1 s, then 2 s: no
    try is under way when the note is read) and keeps the parts already downloaded, and once
    the bucket exists the result is stored."""
    bucket = f"amc-late-{uuid.uuid4().hex[:8]}"
    where = {"AMC_RESULTS_URL": f"s3://{bucket}/r", "AMC_S3_ENDPOINT_URL": s3.endpoint}
    settings = make_settings(tmp_path, **where, AMC_POLL_INTERVAL=1)
    async with started(settings, worker=True) as api:
        token = await api.token()
        listed = await api.client.get("/api/v1/instances", headers=bearer(token))
        instance = listed.json()["items"][0]["instance_id"]
        body = {"instance_id": instance, "sql": SQL, **window_fields()}
        made = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
        execution_id = made.json()["id"]
        store = api.runtime.store

        async def read() -> ExecutionRow:
            row = await store.get_execution(execution_id)
            assert row is not None
            return row

        waiting = await eventually(read, _storage_failed)
        assert waiting.state == "downloading", waiting
        assert bucket not in (waiting.error or ""), waiting.error
        assert not list(settings.amc_home.rglob("*.parquet")), "a failed upload left its file"
        assert waiting.last_wait == pytest.approx(1.0, abs=0.2)
        parts = {p: p.stat().st_ino for p in settings.amc_home.rglob("part-*.csv")}
        assert parts, "the downloaded parts were not kept for the next try"

        again = await eventually(read, lambda row: row.last_wait > 1.5)
        assert again.last_wait == pytest.approx(2.0, abs=0.2), "the second refusal did not back off"
        assert {p: p.stat().st_ino for p in parts} == parts, "the parts were downloaded again"
        httpx.put(f"{s3.endpoint}/{bucket}", timeout=10).raise_for_status()
        done = await eventually(read, lambda row: row.terminal)
    assert done.state == "succeeded" and done.row_count, done
    assert s3.keys(bucket) == [f"r/{execution_id}.parquet"]
    assert not list(settings.amc_home.rglob("*.parquet"))


def _storage_failed(row: ExecutionRow) -> bool:
    return "result storage failed, will retry" in (row.error or "")


def _amc_results(home: Path, where: dict[str, str], execution_id: str) -> str:
    """`amc results ID` in another process (CSV to stdout), reading from S3."""
    done = amc(home, "results", execution_id, **where)
    assert done.returncode == 0, done.stderr
    return done.stdout
