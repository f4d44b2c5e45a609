"""Users: create, list, change (role, password, disabled), sign in with a password, end
sessions. Passwords are kept as Argon2id hashes only.

Admin tasks take `by`: the acting user's e-mail, who must be an admin (the REST API), or None
for the operator at the CLI, who is trusted with the store (contracts.md). Disabling a user,
changing their password or signing out everywhere bumps their session epoch, so every web
session signed in before ends at once (sessions carry the epoch they were made in).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from amc_manager.errors import UsageError
from amc_manager.service.access import Actor, actor, require_admin, user_by_ref
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.service.executions import iso
from amc_manager.service.runtime import Runtime
from amc_manager.store.rows import Role, UserRow

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 8
LINK_SECONDS = 15 * 60
MAX_PASSWORD = 1024
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class UserView:
    """A user as front ends show it (never the hash)."""

    id: str
    email: str
    role: Role
    disabled: bool
    has_password: bool
    created_at: float

    @classmethod
    def of(cls, row: UserRow) -> UserView:
        return cls(
            id=row.id,
            email=row.email,
            role=row.role,
            disabled=row.disabled,
            has_password=row.password_hash is not None,
            created_at=row.created_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "role": self.role.value,
            "disabled": self.disabled,
            "has_password": self.has_password,
            "created_at": iso(self.created_at),
        }


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # only commands that hash or check a password load it

    return PasswordHasher()  # Argon2id with argon2-cffi's (RFC 9106) parameters


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(
            f"the password is too short (at least {MIN_PASSWORD} characters)",
            hint="choose a longer one",
        )
    if len(password) > MAX_PASSWORD:
        raise UsageError(f"the password is too long (at most {MAX_PASSWORD} characters)")
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def create_user(
    runtime: Runtime,
    email: str,
    *,
    admin: bool = False,
    password: str | None = None,
    by: str | None = None,
) -> UserView:
    """A new user (a member unless `admin`); without a password they cannot sign in on the
    web (API tokens and the CLI still work)."""
    await require_admin(runtime, by)
    email = email.strip()
    if not EMAIL.match(email) or len(email) > 320:
        raise UsageError(f"{email!r} is not an e-mail address", hint="give NAME@DOMAIN")
    if await runtime.store.get_user(email=email) is not None:
        raise UsageError(f"user {email} already exists", hint="see `amc users list`")
    hashed = None if password is None else hash_password(password)
    row = await runtime.store.create_user(
        email, role=Role.ADMIN if admin else Role.MEMBER, password_hash=hashed
    )
    if row is None:  # created meanwhile by a concurrent request
        raise UsageError(f"user {email} already exists", hint="see `amc users list`")
    return UserView.of(row)


async def list_users(runtime: Runtime, *, by: str | None = None) -> list[UserView]:
    await require_admin(runtime, by)
    return [UserView.of(r) for r in await runtime.store.list_users()]


async def get_user(runtime: Runtime, user: str, *, by: str | None = None) -> UserView:
    """One user by internal id or e-mail."""
    await require_admin(runtime, by)
    return UserView.of(await user_by_ref(runtime, user))


async def update_user(
    runtime: Runtime,
    user: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    by: str | None = None,
) -> UserView:
    """Change a user's role, disabled flag or password (REST's `PATCH /users/{id}`).
    Disabling or a new password ends their sessions at once."""
    await require_admin(runtime, by)
    row = await user_by_ref(runtime, user)
    if password is not None:
        await runtime.store.set_password_hash(row.id, hash_password(password))
    if role is not None or disabled is not None:
        await runtime.store.update_user(
            row.id, role=role, disabled=disabled, end_sessions=bool(disabled)
        )
    return UserView.of(await user_by_ref(runtime, row.id))


async def set_password(
    runtime: Runtime, user: str, password: str, *, by: str | None = None
) -> UserView:
    return await update_user(runtime, user, password=password, by=by)


async def disable_user(runtime: Runtime, user: str, *, by: str | None = None) -> UserView:
    """The user can no longer act: tokens refused, sessions ended, queued work not submitted."""
    return await update_user(runtime, user, disabled=True, by=by)


async def enable_user(runtime: Runtime, user: str, *, by: str | None = None) -> UserView:
    return await update_user(runtime, user, disabled=False, by=by)


async def sign_out_everywhere(runtime: Runtime, user: str) -> None:
    """End every session of the user (the web's sign-out ends them all)."""
    row = await user_by_ref(runtime, user)
    await runtime.store.update_user(row.id, end_sessions=True)


async def check_password(runtime: Runtime, email: str, password: str) -> Actor | None:
    """Sign-in: the actor when the e-mail and password match an enabled user with a password;
    None otherwise (the same work is done for an unknown e-mail, so timing tells nothing)."""
    row = await runtime.store.get_user(email=email)
    if row is None or row.password_hash is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(row.password_hash, password) or row.disabled:
        return None
    return Actor.of(row)


async def session_actor(runtime: Runtime, user_id: str, epoch: int) -> Actor | None:
    """The actor of a session made at `epoch`; None once the user is disabled, changed their
    password or signed out everywhere since (or no longer exists)."""
    row = await runtime.store.user_by_id(user_id)
    if row is None or row.disabled or row.session_epoch != epoch:
        return None
    return Actor.of(row)


async def create_signin_link(runtime: Runtime, email: str) -> str:
    """A one-time sign-in token for `email` (sandbox mode's `amc serve` prints its link): kept
    hashed in the store, good once, for LINK_SECONDS, in any process sharing the store."""
    token = secrets.token_urlsafe(32)
    now = runtime.clock()
    await runtime.store.add_signin_link(
        _digest(token), email=email, now=now, expires_at=now + LINK_SECONDS
    )
    return token


async def redeem_signin_link(runtime: Runtime, token: str) -> Actor | None:
    """The user a sign-in token signs in, once (two concurrent uses: one wins); None for an
    unknown, used or expired token, or a user who may not act."""
    if len(token) > 200:
        return None
    email = await runtime.store.take_signin_link(_digest(token), runtime.clock())
    if email is None:
        return None
    try:
        return await actor(runtime, email)
    except NotPermitted:
        return None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def me(runtime: Runtime, email: str) -> UserView:
    """The acting user (`GET /api/v1/me`)."""
    row = await runtime.store.get_user(email=email)
    if row is None:
        raise NotFound(f"unknown user {email}")
    return UserView.of(row)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("amc-manager: no such user")
