"""FERNET_KEY rotation and the key fingerprints: a process whose key does not match the
store's refuses to start; `amc db rotate-key` re-encrypts every token with the first key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from amc_manager.client import Secret, TokenCipher
from amc_manager.errors import ConfigurationError
from amc_manager.service.keys import rotate_key
from amc_manager.service.runtime import Runtime
from tests.engine.conftest import make_settings

TOKEN = Secret("Atzr|kept-across-rotation")


async def _open(tmp_path: Path, database_url: str, **env: str) -> Runtime:
    runtime = Runtime(make_settings(tmp_path, database_url, **env))
    await runtime.__aenter__()
    return runtime


async def _ciphertext(runtime: Runtime) -> bytes:
    async with runtime.store.begin() as conn:
        found = await conn.execute(sa.text("SELECT refresh_token FROM oauth_tokens"))
        return bytes(found.scalar_one())


async def test_rotation_and_wrong_keys(tmp_path: Path, database_url: str) -> None:
    old, new, stranger = (TokenCipher.generate_key() for _ in range(3))
    first = await _open(tmp_path, database_url, FERNET_KEY=old)
    await first.token_store().save_refresh_token("a@example.com", TOKEN)
    await first.aclose()

    for wrong, message in ((stranger, "does not match"), (f"{new},{stranger}", "does not match")):
        with pytest.raises(ConfigurationError, match=message) as refused:
            await _open(tmp_path, database_url, FERNET_KEY=wrong)
        assert "FERNET_KEY" in str(refused.value)
        assert not any(k in str(refused.value) for k in (old, new, stranger))

    both = await _open(tmp_path, database_url, FERNET_KEY=f"{new},{old}")
    assert await both.token_store().refresh_token("a@example.com") == TOKEN
    await both.aclose()
    with pytest.raises(ConfigurationError, match="lacks a key"):  # `new` may have encrypted
        await _open(tmp_path, database_url, FERNET_KEY=old)

    rotating = await _open(tmp_path, database_url, FERNET_KEY=f"{new},{old}")
    before = await _ciphertext(rotating)
    assert await rotate_key(rotating) == 1
    assert await _ciphertext(rotating) != before
    await rotating.aclose()

    after = await _open(tmp_path, database_url, FERNET_KEY=new)
    assert await after.token_store().refresh_token("a@example.com") == TOKEN
    await after.aclose()
    with pytest.raises(ConfigurationError, match="does not match"):
        await _open(tmp_path, database_url, FERNET_KEY=old)


async def test_secret_key_is_generated_once_then_must_match(
    tmp_path: Path, database_url: str
) -> None:
    runtime = await _open(tmp_path, database_url)
    generated = await runtime.secret_key()
    assert await runtime.secret_key() == generated
    path = tmp_path / "home" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    await runtime.aclose()
    same = await _open(tmp_path, database_url, AMC_SECRET_KEY=generated.reveal())
    await same.aclose()
    with pytest.raises(ConfigurationError, match="AMC_SECRET_KEY does not match"):
        await _open(tmp_path, database_url, AMC_SECRET_KEY="x" * 40)
    real = await _open(
        tmp_path,
        database_url,
        AMC_USE_REAL_API="true",
        AMAZON_CLIENT_ID="id",
        AMAZON_CLIENT_SECRET="secret",
        FERNET_KEY=runtime.fernet_key().reveal(),
    )
    with pytest.raises(ConfigurationError, match="AMC_SECRET_KEY is required"):
        await real.secret_key()
    await real.aclose()
