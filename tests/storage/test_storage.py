"""Result storage on a folder and on a real S3-compatible server: publish whole, read back,
clean what a dead upload left, and read results kept before a switch of AMC_RESULTS_URL."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from amc_manager.errors import ConfigurationError
from amc_manager.storage import (
    LocalStorage,
    ResultMissing,
    Results,
    StorageError,
    open_results,
    storage_for,
)
from tests.storage.conftest import S3Server


def parquet_file(folder: Path, rows: int = 1000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "local.parquet"
    pq.write_table(pa.table({"n": list(range(rows)), "s": [f"v{i}" for i in range(rows)]}), path)
    return path


def results_at(kind: str, tmp_path: Path, s3: S3Server | None) -> tuple[Results, str]:
    if kind == "folder":
        return open_results(str(tmp_path / "results")), str(tmp_path / "results")
    assert s3 is not None
    root = f"s3://{s3.new_bucket()}/team/results"
    return open_results(root, s3_endpoint=s3.endpoint), root


@pytest.fixture(params=["folder", "s3"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def maybe_s3(kind: str, request: pytest.FixtureRequest) -> S3Server | None:
    return request.getfixturevalue("s3") if kind == "s3" else None


async def test_a_saved_result_is_read_back_whole_and_leaves_no_temporary(
    kind: str, maybe_s3: S3Server | None, tmp_path: Path
) -> None:
    results, root = results_at(kind, tmp_path, maybe_s3)
    source = parquet_file(tmp_path / "scratch")
    expected = pq.read_table(source)
    seen: list[str] = []

    async def pending(temporary: str) -> None:
        assert not await results.exists(temporary)  # told before anything is written
        seen.append(temporary)

    location = await results.save(source, "abc.parquet", pending=pending)

    assert location == f"{root}/abc.parquet"
    assert len(seen) == 1 and seen[0] != location and seen[0].startswith(root)
    assert not await results.exists(seen[0])
    with results.open_input(location) as reader:
        assert pq.read_table(reader).equals(expected)
    assert await results.sweep(time.time() + 60) == 0  # nothing left behind to sweep
    assert await results.delete(location)
    assert not await results.delete(location)
    with pytest.raises(ResultMissing):
        results.open_input(location)


async def test_a_failed_upload_publishes_nothing_and_removes_its_temporary(
    kind: str, maybe_s3: S3Server | None, tmp_path: Path
) -> None:
    results, root = results_at(kind, tmp_path, maybe_s3)
    seen: list[str] = []

    async def pending(temporary: str) -> None:
        seen.append(temporary)

    with pytest.raises(StorageError, match="could not store"):
        await results.save(tmp_path / "missing.parquet", "gone.parquet", pending=pending)
    assert seen and not await results.exists(seen[0])
    assert not await results.exists(f"{root}/gone.parquet")


async def test_sweep_removes_only_stale_temporaries(
    kind: str, maybe_s3: S3Server | None, tmp_path: Path
) -> None:
    """A temporary as a killed upload leaves it: swept once older than the cutoff."""
    results, _ = results_at(kind, tmp_path, maybe_s3)
    writer = results.writer
    temporary = writer.temporary("dead.parquet")
    writer.upload(parquet_file(tmp_path / "scratch"), temporary)
    assert await results.exists(temporary)
    assert await results.sweep(time.time() - 3600) == 0
    assert await results.exists(temporary)
    assert await results.sweep(time.time() + 60) == 1
    assert not await results.exists(temporary)


async def test_unfinished_multipart_uploads_are_aborted(s3: S3Server, tmp_path: Path) -> None:
    """An upload begun under the temporary prefix and never completed (its writer died)."""
    bucket = s3.new_bucket()
    results = open_results(f"s3://{bucket}/r", s3_endpoint=s3.endpoint)
    key = "r/.tmp/x.parquet.0123"
    begun = httpx.post(f"{s3.endpoint}/{bucket}/{key}", params={"uploads": ""}, timeout=10)
    begun.raise_for_status()
    other = httpx.post(f"{s3.endpoint}/{bucket}/elsewhere", params={"uploads": ""}, timeout=10)
    other.raise_for_status()
    assert sorted(s3.multipart_uploads(bucket)) == ["elsewhere", key]
    # (moto dates every upload 2010-11-10, so the age rule is not testable here)
    assert await results.sweep(time.time() + 60) == 1
    assert s3.multipart_uploads(bucket) == ["elsewhere"]  # outside the prefix: not ours


async def test_results_kept_before_a_switch_stay_readable(s3: S3Server, tmp_path: Path) -> None:
    before = open_results(str(tmp_path / "results"))
    old = await before.save(parquet_file(tmp_path / "a"), "old.parquet")
    after = open_results(f"s3://{s3.new_bucket()}/p", s3_endpoint=s3.endpoint)
    new = await after.save(parquet_file(tmp_path / "b", rows=3), "new.parquet")
    back = open_results(str(tmp_path / "elsewhere"), s3_endpoint=s3.endpoint)
    for results in (after, back):
        with results.open_input(old) as reader:
            assert pq.read_table(reader).num_rows == 1000
        with results.open_input(new) as reader:
            assert pq.read_table(reader).num_rows == 3


def test_the_url_chooses_the_storage(tmp_path: Path) -> None:
    assert isinstance(storage_for(str(tmp_path)), LocalStorage)
    local = storage_for(f"file://{tmp_path}/r")
    assert isinstance(local, LocalStorage) and local.root == f"{tmp_path}/r"
    remote = storage_for("s3://bucket/a/b/", s3_endpoint="http://127.0.0.1:9")
    assert remote.root == "s3://bucket/a/b"
    assert remote.location("x.parquet") == "s3://bucket/a/b/x.parquet"
    assert storage_for("s3://bucket").location("x") == "s3://bucket/x"
    with pytest.raises(ConfigurationError, match="AMC_RESULTS_URL"):
        storage_for("gs://bucket/x")
    with pytest.raises(ConfigurationError, match="no bucket"):
        storage_for("s3:///x")
