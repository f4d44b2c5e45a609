"""FERNET_KEY and AMC_SECRET_KEY: their fingerprints kept in the store and checked when a
process starts, and `amc db rotate-key`.

Every process sharing a store must share both keys (contracts.md). The store keeps a salted
SHA-256 fingerprint of each, never the keys. For FERNET_KEY (one key or several separated by
commas: the first encrypts, any decrypts) it keeps the fingerprints of every key that may have
encrypted a stored token: a process must hold all of them, or it could not read some token,
and refuses to start (exit 2, naming the variable). A process whose first key is new adds it;
`amc db rotate-key` re-encrypts every token with the first key and forgets the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from amc_manager.errors import ConfigurationError
from amc_manager.store import Store

if TYPE_CHECKING:
    from amc_manager.service.runtime import Runtime

FERNET = "FERNET_KEY"
SECRET = "AMC_SECRET_KEY"
ROTATE_HINT = (
    "give every process the same FERNET_KEY; to change keys set FERNET_KEY=NEW,OLD "
    "everywhere, run `amc db rotate-key`, then drop OLD"
)


def fingerprint(name: str, key: str) -> str:
    """A fingerprint that names the key without revealing it (keys are 256-bit random)."""
    return hashlib.sha256(f"amc-manager:{name}:fingerprint\0{key}".encode()).hexdigest()[:32]


def split_keys(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


async def verify_fernet_keys(store: Store, raw: str) -> None:
    """Refuse a FERNET_KEY that lacks a key the store's tokens may be encrypted with; record
    this process's encrypting key."""
    mine = [fingerprint(FERNET, key) for key in split_keys(raw)]
    known = await store.fingerprints(FERNET)
    if known is None:  # a store nobody has checked yet: every key given may have been used
        await store.save_fingerprints(FERNET, mine)
        return
    if not set(known) <= set(mine):
        if set(known) & set(mine):
            message = "FERNET_KEY lacks a key this store's tokens may be encrypted with"
        else:
            message = "FERNET_KEY does not match the key this store's tokens are encrypted with"
        raise ConfigurationError(message, hint=ROTATE_HINT)
    if mine[0] not in known:
        await store.save_fingerprints(FERNET, [*known, mine[0]])


async def verify_secret_key(store: Store, key: str) -> None:
    """Refuse an AMC_SECRET_KEY other than the one this store's processes share."""
    mine = fingerprint(SECRET, key)
    known = await store.fingerprints(SECRET)
    if known is None:
        await store.save_fingerprints(SECRET, [mine])
        return
    if mine not in known:
        raise ConfigurationError(
            "AMC_SECRET_KEY does not match the one the processes sharing this store use",
            hint="give every process the same AMC_SECRET_KEY",
        )


async def rotate_key(runtime: Runtime) -> int:
    """Re-encrypt every stored token with the first FERNET_KEY; afterwards only that key is
    needed. Returns how many users' tokens were re-encrypted."""
    count = await runtime.store.rewrap_tokens(runtime.cipher.rotate)
    first = split_keys(runtime.fernet_key().reveal())[0]
    await runtime.store.save_fingerprints(FERNET, [fingerprint(FERNET, first)])
    return count


def webhook_key(runtime: Runtime) -> Callable[[], Awaitable[str]]:
    """What signs webhooks (collections' and schedules'): AMC_SECRET_KEY, read when a webhook
    is sent, so the key is checked and loaded only by a process that sends one."""

    async def key() -> str:
        return (await runtime.secret_key()).reveal()

    return key
