"""The interface of a place that keeps result files: a local folder or an S3-compatible prefix.

A result is first written whole under a temporary name, then published under its final name in
one step a reader cannot see half-done (a rename in a folder; a server-side copy on S3, where a
reader sees the old state or the complete object). Every method here blocks: `Results` runs
them in threads.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    import pyarrow as pa


# Test-only: seconds an upload sleeps once its first chunk is written, so a test can kill a
# worker in the middle of an upload at a known point. It only ever sleeps.
PAUSE_ENV = "AMC_TEST_UPLOAD_PAUSE"
CHUNK = 8 << 20  # bytes read from the local file per write: memory stays flat


@dataclass(frozen=True)
class OpenUpload:
    """An unfinished multipart upload: the temporary location it writes, and its id."""

    location: str
    upload_id: str


class Writable(Protocol):
    """Where an upload's bytes go: a local file, or pyarrow's stream to S3."""

    def write(self, data: bytes, /) -> object: ...


def pause_for_tests() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))


def copy_chunks(source: BinaryIO, out: Writable) -> None:
    """Copy a local file to an upload's stream, CHUNK bytes at a time (memory stays flat);
    a test's pause after the first chunk leaves a partial upload to kill a worker in."""
    first = True
    while chunk := source.read(CHUNK):
        out.write(chunk)
        if first:
            first = False
            pause_for_tests()


class ResultStorage(ABC):
    """One kind of place for result files; a location is the full text the store keeps
    (an absolute path, or `s3://BUCKET/KEY`)."""

    #: The location new results go under (a folder path, or `s3://BUCKET/PREFIX`).
    root: str

    @abstractmethod
    def holds(self, location: str) -> bool:
        """Whether `location` is of this kind (so this storage can read and delete it)."""

    @abstractmethod
    def location(self, name: str) -> str:
        """The final location of the result file `name` under the root."""

    @abstractmethod
    def temporary(self, name: str) -> str:
        """A fresh temporary location for `name`, never a final one."""

    @abstractmethod
    def upload(self, source: Path, temporary: str) -> None:
        """Write the local file `source` to `temporary`, streamed in chunks (the source may be
        moved rather than copied)."""

    @abstractmethod
    def publish(self, temporary: str, final: str) -> None:
        """Make the complete `temporary` appear at `final` at once, then drop `temporary`."""

    @abstractmethod
    def open_input(self, location: str) -> pa.NativeFile:
        """A random-access reader of the file (FileNotFoundError when there is none)."""

    @abstractmethod
    def delete(self, location: str) -> bool:
        """Remove the file; False when there was none."""

    @abstractmethod
    def exists(self, location: str) -> bool:
        """Whether a complete file is at `location`."""

    @abstractmethod
    def temporaries(self, older_than: float) -> list[str]:
        """Temporary files under the root last written before `older_than` (epoch seconds)."""

    def open_uploads(self, older_than: float) -> list[OpenUpload]:  # noqa: ARG002 - S3 only
        """Unfinished multipart uploads under the root begun before `older_than` (the
        writer died, or is still writing: the caller decides). A folder has none."""
        return []

    def abort_uploads(self, uploads: list[OpenUpload]) -> int:  # noqa: ARG002 - S3 only
        """Abort these unfinished uploads; how many."""
        return 0
