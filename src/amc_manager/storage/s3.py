"""Result files on any S3-compatible store, through `pyarrow.fs.S3FileSystem`.

Credentials come from the usual chain (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN`, profiles, instance roles); `AMC_S3_ENDPOINT_URL` points at a store other
than AWS (MinIO, Ceph, R2, a test server). An upload goes to `PREFIX/.tmp/NAME.RANDOM` as a
multipart upload streamed from the local file; publishing copies it server-side to
`PREFIX/NAME` (S3 has no rename; the copy appears whole or not at all) and deletes the
temporary. pyarrow completes a stream even when the writer fails half-way, which is why the
final key is only ever written by that copy.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from amc_manager.storage.base import OpenUpload, ResultStorage, copy_chunks
from amc_manager.storage.locations import SCHEME, is_s3, object_path, split_location
from amc_manager.storage.multipart import Multipart

TEMP_FOLDER = ".tmp"


class S3Storage(ResultStorage):
    """`s3://BUCKET/PREFIX` on AWS or the store at `endpoint_url`."""

    def __init__(self, url: str, *, endpoint_url: str | None = None) -> None:
        bucket, prefix = split_location(url)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.root = f"{SCHEME}{bucket}/{self.prefix}".rstrip("/")
        self._fs: pafs.S3FileSystem | None = None
        self._lock = threading.Lock()

    @property
    def fs(self) -> pafs.S3FileSystem:
        """Built at first use (the AWS SDK takes a moment to start), once per storage."""
        with self._lock:
            if self._fs is None:
                self._fs = _filesystem(self.endpoint_url)
            return self._fs

    def holds(self, location: str) -> bool:
        return is_s3(location)

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def location(self, name: str) -> str:
        return f"{SCHEME}{self.bucket}/{self._key(name)}"

    def temporary(self, name: str) -> str:
        return f"{SCHEME}{self.bucket}/{self._key(TEMP_FOLDER, f'{name}.{uuid.uuid4().hex}')}"

    def upload(self, source: Path, temporary: str) -> None:
        with source.open("rb") as src, self.fs.open_output_stream(object_path(temporary)) as out:
            copy_chunks(src, out)

    def publish(self, temporary: str, final: str) -> None:
        self.fs.copy_file(object_path(temporary), object_path(final))
        self.fs.delete_file(object_path(temporary))

    def open_input(self, location: str) -> pa.NativeFile:
        return self.fs.open_input_file(object_path(location))

    def delete(self, location: str) -> bool:
        try:
            self.fs.delete_file(object_path(location))
        except FileNotFoundError:
            return False
        return True

    def exists(self, location: str) -> bool:
        return bool(self.fs.get_file_info(object_path(location)).type == pafs.FileType.File)

    def temporaries(self, older_than: float) -> list[str]:
        folder = f"{self.bucket}/{self._key(TEMP_FOLDER)}"
        selector = pafs.FileSelector(folder, allow_not_found=True, recursive=True)
        found = []
        for info in self.fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            mtime = info.mtime
            if isinstance(mtime, datetime) and mtime.timestamp() < older_than:
                found.append(f"{SCHEME}{info.path}")
        return found

    def open_uploads(self, older_than: float) -> list[OpenUpload]:
        multipart = Multipart(self.bucket, self.endpoint_url)
        return multipart.unfinished(self._key(TEMP_FOLDER) + "/", older_than)

    def abort_uploads(self, uploads: list[OpenUpload]) -> int:
        return Multipart(self.bucket, self.endpoint_url).abort(uploads)


def _filesystem(endpoint_url: str | None) -> pafs.S3FileSystem:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    options: dict[str, object] = {
        "connect_timeout": 10.0,
        "request_timeout": 60.0,
        # Results are written into an existing bucket; creating buckets is an operator's job.
        "allow_bucket_creation": False,
        "allow_bucket_deletion": False,
    }
    if region:
        options["region"] = region
    if endpoint_url:
        parts = urlsplit(endpoint_url if "://" in endpoint_url else f"https://{endpoint_url}")
        options["endpoint_override"] = parts.netloc
        options["scheme"] = parts.scheme or "https"
    return pafs.S3FileSystem(**options)  # type: ignore[arg-type]
