"""Result storage failing under REST and the CLI: a result deleted from S3 answers 409 (as one
pruned by retention), S3 out of reach answers 503, both as problem+json naming no bucket or
key, before any byte of a streamed format; `amc results` says each in one line with a hint."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import bearer, make_settings, started
from tests.storage.conftest import S3Server, amc, run_one


@pytest.fixture
def own_s3(s3: S3Server) -> Iterator[tuple[S3Server, object]]:
    """An S3 server of this test's own (the session's stays up for the others): stopped
    half-way through the test."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}"), server
    finally:
        try:
            server.stop()
        except Exception:  # already stopped by the test
            pass


async def test_deleted_result_is_409_and_storage_out_of_reach_is_503(
    own_s3: tuple[S3Server, object], tmp_path: Path, clean_env: None
) -> None:
    s3, server = own_s3
    bucket = s3.new_bucket()
    where = {"AMC_RESULTS_URL": f"s3://{bucket}/kept", "AMC_S3_ENDPOINT_URL": s3.endpoint}
    settings = make_settings(tmp_path, **where)
    async with started(settings, worker=True) as api:
        token = await api.token()
        done = await run_one(api, token)
        execution_id = done["id"]
        assert done["state"] == "succeeded", done
        url = f"/api/v1/executions/{execution_id}/results"
        assert (await api.client.get(url, headers=bearer(token))).status_code == 200

        # Deleted behind the store's back: gone, like a result pruned by retention.
        [key] = s3.keys(bucket)
        assert await api.runtime.results.delete(f"s3://{bucket}/{key}")
        for fmt in ("json", "csv", "parquet"):
            gone = await api.client.get(f"{url}?format={fmt}", headers=bearer(token))
            _assert_problem(gone, 409, "result-gone", bucket, key)
            assert execution_id in gone.json()["detail"]
        code, err = await asyncio.to_thread(_amc_results, settings.amc_home, where, execution_id)
        _assert_one_line(code, err, "is gone from result storage", bucket, key)

        # S3 itself out of reach.
        server.stop()  # type: ignore[attr-defined]
        for fmt in ("json", "jsonl"):
            down = await api.client.get(f"{url}?format={fmt}", headers=bearer(token))
            _assert_problem(down, 503, "storage-unavailable", bucket, key)
        code, err = await asyncio.to_thread(_amc_results, settings.amc_home, where, execution_id)
        _assert_one_line(code, err, "result storage could not be reached", bucket, key)


def _assert_problem(answer: httpx.Response, status: int, slug: str, bucket: str, key: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["type"] == f"urn:amc-manager:problem:{slug}", problem
    assert problem["title"] and problem["detail"] and problem["hint"], problem
    assert bucket not in answer.text and key not in answer.text and "s3://" not in answer.text


def _assert_one_line(code: int, err: str, says: str, bucket: str, key: str) -> None:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert says in lines[0] and "(" in lines[0], err  # the hint follows in parentheses
    assert bucket not in err and key not in err and "Traceback" not in err


def _amc_results(home: Path, where: dict[str, str], execution_id: str) -> tuple[int, str]:
    done = amc(home, "results", execution_id, **where)
    return done.returncode, done.stderr
