"""S3 locations (`s3://BUCKET/KEY`) read in one place, without loading the AWS SDK."""

from __future__ import annotations

SCHEME = "s3://"


def is_s3(location: str) -> bool:
    """Whether `location` names an object in a bucket (else a local path)."""
    return location.startswith(SCHEME)


def split_location(location: str) -> tuple[str, str]:
    """`s3://BUCKET/KEY` -> (BUCKET, KEY)."""
    bucket, _, key = location.removeprefix(SCHEME).partition("/")
    return bucket, key


def object_path(location: str) -> str:
    """`s3://BUCKET/KEY` -> `BUCKET/KEY`, the path pyarrow's S3 file system and S3's own
    requests (after a `/`) name an object by."""
    return location.removeprefix(SCHEME)
