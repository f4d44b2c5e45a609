"""A real S3-compatible server for the storage tests: moto in server mode on 127.0.0.1.

moto is a dev dependency (pyproject.toml), so `make test` and CI always have it; where it is
missing the S3 tests skip with the reason (a failure under AMC_TEST_NO_SKIPS=1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import SQL, Api, bearer, clean_env, wait_done
from tests.windows import window_fields

__all__ = ["S3Server", "amc", "clean_env", "run_one"]

AMC = Path(sys.executable).with_name("amc")

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "amc-test-key",
    "AWS_SECRET_ACCESS_KEY": "amc-test-secret",
    "AWS_REGION": "us-east-1",
}


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible server: its endpoint and the environment a client needs."""

    endpoint: str

    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AMC_S3_ENDPOINT_URL": self.endpoint}

    def new_bucket(self) -> str:
        name = f"amc-{uuid.uuid4().hex[:12]}"
        httpx.put(f"{self.endpoint}/{name}", timeout=10).raise_for_status()
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key in the bucket under `prefix` (one listing page is enough here),
        without the empty folder markers pyarrow leaves when it deletes a folder's last file."""
        import xml.etree.ElementTree as ET

        answer = httpx.get(
            f"{self.endpoint}/{bucket}", params={"list-type": "2", "prefix": prefix}, timeout=10
        )
        answer.raise_for_status()
        ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
        keys = [k.text or "" for k in ET.fromstring(answer.content).iter(f"{ns}Key")]
        return [k for k in keys if not k.endswith("/")]

    def multipart_uploads(self, bucket: str) -> list[str]:
        import xml.etree.ElementTree as ET

        answer = httpx.get(f"{self.endpoint}/{bucket}", params={"uploads": ""}, timeout=10)
        answer.raise_for_status()
        ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
        return [k.text or "" for k in ET.fromstring(answer.content).iter(f"{ns}Key")]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("moto is not installed (pip install -e '.[dev]'): S3 tests skipped")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The server, with this process's AWS_* variables pointing at it."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert os.environ["AWS_ACCESS_KEY_ID"] == CREDENTIALS["AWS_ACCESS_KEY_ID"]
    return s3_server


def amc(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`amc ARGS` in another process, with AMC_HOME=`home` and `settings` as its only AMC_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMC_")}
    env.update(settings, AMC_HOME=str(home))
    return subprocess.run(
        [str(AMC), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def run_one(api: Api, token: str) -> dict[str, Any]:
    """One execution of SQL over REST on the first instance, once it ended."""
    listed = await api.client.get("/api/v1/instances", headers=bearer(token))
    instance = listed.json()["items"][0]["instance_id"]
    body = {"instance_id": instance, "sql": SQL, **window_fields()}
    made = await api.client.post("/api/v1/executions", json=body, headers=bearer(token))
    assert made.status_code == 201, made.text
    return await wait_done(api, token, made.json()["id"])
