"""Result storage: the one seam between result files and where they live (a local folder or
an S3-compatible bucket), chosen from `AMC_RESULTS_URL` by `open_results`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from amc_manager.errors import ConfigurationError
from amc_manager.storage.base import PAUSE_ENV, ResultStorage
from amc_manager.storage.errors import ResultMissing, StorageError
from amc_manager.storage.local import LocalStorage
from amc_manager.storage.locations import SCHEME, is_s3, split_location
from amc_manager.storage.results import Results

__all__ = [
    "PAUSE_ENV",
    "LocalStorage",
    "ResultMissing",
    "ResultStorage",
    "Results",
    "StorageError",
    "open_results",
    "storage_for",
]


def storage_for(url: str, *, s3_endpoint: str | None = None) -> ResultStorage:
    """The storage a URL names: `s3://BUCKET[/PREFIX]`, `file:///FOLDER` or a folder path."""
    if is_s3(url):
        from amc_manager.storage.s3 import S3Storage  # the AWS SDK only when asked for

        bucket = split_location(url)[0]
        if not bucket:
            raise ConfigurationError(
                f"invalid setting AMC_RESULTS_URL: {url!r} names no bucket",
                hint="write s3://BUCKET/PREFIX",
            )
        return S3Storage(url, endpoint_url=s3_endpoint)
    if url.startswith("file://"):
        return LocalStorage(Path(unquote(urlsplit(url).path)))
    if "://" in url:
        raise ConfigurationError(
            f"invalid setting AMC_RESULTS_URL: {url.split('://')[0]}:// is not supported",
            hint="use a folder (a path or file:///PATH) or s3://BUCKET/PREFIX",
        )
    return LocalStorage(Path(url))


def open_results(url: str, *, s3_endpoint: str | None = None) -> Results:
    """Results written to `url`, and read from wherever each one was kept."""

    def make(location: str) -> ResultStorage:
        if is_s3(location):
            return storage_for(f"{SCHEME}{split_location(location)[0]}", s3_endpoint=s3_endpoint)
        return LocalStorage(Path("/"))

    return Results(storage_for(url, s3_endpoint=s3_endpoint), make)
