"""Unfinished multipart uploads aborted: S3 keeps (and bills) the parts of an upload whose
writer died until someone aborts it, and pyarrow has no call for that. Two signed S3 requests
(ListMultipartUploads, AbortMultipartUpload, AWS Signature Version 4) over httpx do it.

Only static credentials from the environment sign here; with other credential sources (a
profile, an instance role) nothing is aborted, and a bucket lifecycle rule
(AbortIncompleteMultipartUpload) should do it instead (README, "Result storage").
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import httpx

from amc_manager.storage.base import OpenUpload
from amc_manager.storage.locations import SCHEME, object_path

logger = logging.getLogger("amc_manager.storage")
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Multipart:
    """ListMultipartUploads and AbortMultipartUpload on one bucket, signed with the
    environment's static keys (without them nothing is listed or aborted)."""

    def __init__(self, bucket: str, endpoint_url: str | None) -> None:
        access = os.environ.get("AWS_ACCESS_KEY_ID")
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.bucket = bucket
        self.endpoint = (endpoint_url or f"https://s3.{region}.amazonaws.com").rstrip("/")
        self._signer = (
            _Signer(access, secret, os.environ.get("AWS_SESSION_TOKEN"), region)
            if access and secret
            else None
        )

    def unfinished(self, prefix: str, older_than: float) -> list[OpenUpload]:
        """The open uploads of keys under `prefix` begun before `older_than` (epoch s; none
        without keys)."""
        if self._signer is None:
            logger.info("no AWS_* keys in the environment: stale multipart uploads left alone")
            return []
        with httpx.Client(timeout=30) as http:
            return _uploads(http, self._signer, self.endpoint, self.bucket, prefix, older_than)

    def abort(self, uploads: list[OpenUpload]) -> int:
        """Abort these uploads (of this bucket); how many the store confirmed."""
        if self._signer is None or not uploads:
            return 0
        aborted = 0
        with httpx.Client(timeout=30) as http:
            for upload in uploads:
                path = "/" + object_path(upload.location)
                query = {"uploadId": upload.upload_id}
                answer = _send(http, self._signer, "DELETE", self.endpoint, path, query)
                aborted += answer.status_code in (200, 204)
        return aborted


def _uploads(
    http: httpx.Client, signer: _Signer, endpoint: str, bucket: str, prefix: str, before: float
) -> list[OpenUpload]:
    found: list[OpenUpload] = []
    query = {"uploads": "", "prefix": prefix}
    while True:
        answer = _send(http, signer, "GET", endpoint, f"/{bucket}", query)
        answer.raise_for_status()
        body = ET.fromstring(answer.content)
        for upload in body.iter(f"{NS}Upload"):
            key = upload.findtext(f"{NS}Key") or ""
            initiated = upload.findtext(f"{NS}Initiated") or ""
            when = datetime.fromisoformat(initiated.replace("Z", "+00:00")).timestamp()
            if when < before:
                upload_id = upload.findtext(f"{NS}UploadId") or ""
                found.append(OpenUpload(f"{SCHEME}{bucket}/{key}", upload_id))
        if (body.findtext(f"{NS}IsTruncated") or "").lower() != "true":
            return found
        query = {
            **query,
            "key-marker": body.findtext(f"{NS}NextKeyMarker") or "",
            "upload-id-marker": body.findtext(f"{NS}NextUploadIdMarker") or "",
        }


def _send(
    http: httpx.Client,
    signer: _Signer,
    method: str,
    endpoint: str,
    path: str,
    query: dict[str, str],
) -> httpx.Response:
    uri = quote(path, safe="/~")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    host = urlsplit(endpoint).netloc
    headers = signer.headers(method, host, uri, canonical_query)
    return http.request(method, f"{endpoint}{uri}?{canonical_query}", headers=headers)


class _Signer:
    """AWS Signature Version 4 for S3 requests without a body."""

    def __init__(self, access: str, secret: str, token: str | None, region: str) -> None:
        self.access = access
        self.secret = secret
        self.token = token
        self.region = region

    def headers(self, method: str, host: str, uri: str, query: str) -> dict[str, str]:
        now = datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
        if self.token:
            headers["x-amz-security-token"] = self.token
        names = sorted(headers)
        signed = ";".join(names)
        canonical = "\n".join(
            [method, uri, query, "".join(f"{n}:{headers[n]}\n" for n in names), signed]
            + [EMPTY_SHA256]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = f"AWS4{self.secret}".encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        del headers["host"]  # httpx sends it; it was signed as given
        return headers
