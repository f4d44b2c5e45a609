"""The only module that talks to the database: a `Store` over an async SQLAlchemy engine.

SQLite (`sqlite+aiosqlite`) is the embedded default; PostgreSQL (`postgresql+asyncpg`) lets
several workers share the work (`FOR UPDATE SKIP LOCKED` when claiming; SQLite serialises
writers, and claims there are conditional updates).
"""

from __future__ import annotations

import asyncio
import fcntl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from amc_manager.store import schema as t
from amc_manager.store.access import usable_instances
from amc_manager.store.collections import CollectionStore, collection_admission
from amc_manager.store.errors import InvalidTransition, StoreError
from amc_manager.store.rows import (
    ACTIVE_STATES,
    OPEN_STATES,
    Access,
    ApiTokenRow,
    ExecutionEvent,
    ExecutionRow,
    ExecutionState,
    FailureKind,
    InstanceRow,
    NewExecution,
    Role,
    StoredResult,
    UserRow,
    allowed,
)
from amc_manager.store.schedules import ScheduleStore
from amc_manager.store.serving import ServingStore
from amc_manager.store.uploads import ResultStore

MIGRATIONS = Path(__file__).parent / "migrations"
# How long `token_owner` answers are reused (real seconds): a disconnect made by another
# process (`amc serve`, the CLI) reaches a running worker's calls within this.
OWNER_TTL = 2.0
# Seconds a pooled PostgreSQL connection may sit unused before it is pinged on checkout.
PING_AFTER_IDLE = 10.0


def head_revision() -> str:
    """The newest migration's revision: files are named `NNNN_what.py` with `revision = "NNNN"`
    in a straight line, so the head is the highest number (a test checks it against Alembic)."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


__all__ = ["InvalidTransition", "Store", "StoreError", "database_url_for"]


def database_url_for(url: str | None, home: Path) -> str:
    """`sqlite:///PATH` or `postgresql://...` mapped to the async drivers."""
    if not url:
        return f"sqlite+aiosqlite:///{home / 'amc-manager.db'}"
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    raise StoreError(
        f"AMC_DATABASE_URL {url.split('://', 1)[0]}://… is not supported",
        hint="use sqlite:///PATH or postgresql://USER@HOST/DB",
    )


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """Driver and SQLAlchemy errors become StoreError, once, here."""
    try:
        yield
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        raise StoreError(
            f"database error: {type(orig or exc).__name__}: "
            f"{str(orig or exc).splitlines()[0][:200]}"
        ) from exc
    except OSError as exc:
        raise StoreError(f"database unreachable: {exc}") from exc


class Store(CollectionStore, ScheduleStore, ServingStore, ResultStore):
    """Async access to users, tokens, instances and who may use them, workflows, executions,
    the audit log and the keys' fingerprints."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.clock = clock  # created_at, updated_at, finished_at and event times
        self._engine: AsyncEngine | None = None
        # `token_owner` answers, kept OWNER_TTL real seconds (the engine asks before every
        # AMC call); this store's own changes to connections, tokens or users drop them.
        self._owners: dict[tuple[str, str | None], tuple[float, str | None]] = {}
        self._owners_epoch = 0  # an answer read across a change is not kept
        self.owner_ttl = OWNER_TTL
        self.ping_after_idle = PING_AFTER_IDLE

    def _forget_owners(self) -> None:
        self._owners.clear()
        self._owners_epoch += 1

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise StoreError("the store is not open")
        return self._engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def open(self) -> Store:
        if self._engine is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            import sqlite3

            # claims are `UPDATE ... RETURNING`
            require_sqlite(sqlite3.sqlite_version_info, sqlite3.sqlite_version, (3, 35))
            path = Path(self.url.split(":///", 1)[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=5, max_overflow=5)
        self._engine = create_async_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            sa.event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self._ping_when_idle(self._engine.sync_engine)
        await self.upgrade()
        return self

    def _ping_when_idle(self, engine: sa.Engine) -> None:
        """Ping a pooled PostgreSQL connection on checkout only when it sat unused for
        `ping_after_idle` seconds, so one that died meanwhile (a database restart, a proxy's
        idle cut) is replaced before use. `pool_pre_ping` pinged on every checkout: with
        asyncpg that is BEGIN, a no-op and ROLLBACK, three round trips before each
        transaction's own three, and a sixth of a busy worker's CPU (py-spy, cost curve run
        3). A connection in steady use that breaks fails its statement once; SQLAlchemy then
        drops the pool's older connections, and the engine retries the step."""

        @sa.event.listens_for(engine, "checkin")
        def _checked_in(_dbapi_connection: Any, record: Any) -> None:
            record.info["idle_since"] = time.monotonic()

        @sa.event.listens_for(engine, "checkout")
        def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            since = record.info.get("idle_since")
            if since is None or time.monotonic() - since < self.ping_after_idle:
                return
            try:
                dbapi_connection.ping()
            except Exception as exc:  # the pool retries the checkout with a new connection
                raise sa.exc.DisconnectionError(f"a pooled connection died: {exc}") from exc

    async def aclose(self) -> None:
        await self.close_reader()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with _translated(), self.engine.begin() as conn:
            yield conn

    # --- migrations ----------------------------------------------------------------------

    async def upgrade(self) -> None:
        """Apply Alembic migrations up to head; concurrent starters take turns. A store already
        at head is left alone without loading Alembic (every command opens the store)."""
        if await self._at_head():
            return
        async with _translated():
            if self.url.startswith("sqlite"):
                await asyncio.to_thread(self._locked_sqlite_upgrade)
            else:
                async with self.engine.begin() as conn:
                    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7418880021)"))
                    await conn.run_sync(_run_alembic)

    async def _at_head(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                found = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                row = found.first()
        except SQLAlchemyError:  # a new database: no version table yet
            return False
        return row is not None and str(row[0]) == head_revision()

    def _locked_sqlite_upgrade(self) -> None:
        path = Path(self.url.split(":///", 1)[1])
        with open(path.with_name(path.name + ".migrate-lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            engine = sa.create_engine("sqlite:///" + str(path))
            try:
                with engine.begin() as conn:
                    _run_alembic(conn)
            finally:
                engine.dispose()

    async def schema_revision(self) -> str | None:
        async with self.begin() as conn:
            row = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).first()
            return None if row is None else str(row[0])

    # --- users and tokens ----------------------------------------------------------------

    async def ensure_user(self, email: str) -> str:
        async with self.begin() as conn:
            found = (
                await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == email))
            ).first()
            if found is not None:
                return str(found[0])
            user_id = str(uuid.uuid4())
            await conn.execute(
                t.users.insert().values(id=user_id, email=email, created_at=self.clock())
            )
            return user_id

    async def user_id(self, email: str) -> str | None:
        async with self.begin() as conn:
            found = (
                await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == email))
            ).first()
            return None if found is None else str(found[0])

    async def get_user(
        self, *, email: str | None = None, user_id: str | None = None
    ) -> UserRow | None:
        c = t.users.c
        where = c.email == email if email is not None else c.id == user_id
        async with self.begin() as conn:
            row = (await conn.execute(sa.select(t.users).where(where))).first()
        return None if row is None else UserRow.from_row(row)

    async def create_user(
        self, email: str, *, role: Role = Role.MEMBER, password_hash: str | None = None
    ) -> UserRow | None:
        """A new user; None when the e-mail is taken (also by a concurrent request)."""
        values = {
            "id": str(uuid.uuid4()),
            "email": email,
            "created_at": self.clock(),
            "role": role.value,
            "password_hash": password_hash,
            "disabled": False,
            "session_epoch": 0,
        }
        if not await self._insert_once(t.users.insert().values(**values)):
            return None
        found = await self.get_user(user_id=str(values["id"]))
        assert found is not None
        return found

    async def list_users(self) -> list[UserRow]:
        async with self.begin() as conn:
            rows = (await conn.execute(sa.select(t.users).order_by(t.users.c.email))).all()
        return [UserRow.from_row(r) for r in rows]

    async def update_user(
        self,
        user_id: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        end_sessions: bool = False,
    ) -> bool:
        """Change a user's role or disabled flag; `end_sessions` bumps the session epoch, so
        every session signed in before ends at once. False: no such user."""
        c = t.users.c
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = role.value
        if disabled is not None:
            values["disabled"] = disabled
        if end_sessions:
            values["session_epoch"] = c.session_epoch + 1
        if not values:
            return await self.get_user(user_id=user_id) is not None
        if disabled is not None:
            self._forget_owners()
        async with self.begin() as conn:
            done = await conn.execute(t.users.update().where(c.id == user_id).values(**values))
            return bool(done.rowcount)

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> bool:
        """A new password (hash) ends every session signed in with the old one."""
        c = t.users.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.users.update()
                .where(c.id == user_id)
                .values(password_hash=password_hash, session_epoch=c.session_epoch + 1)
            )
            return bool(done.rowcount)

    # --- API tokens (only their SHA-256 is kept) -------------------------------------------

    async def add_api_token(
        self, user_id: str, *, name: str | None, token_hash: str, expires_at: float | None
    ) -> ApiTokenRow:
        values = {
            "id": str(uuid.uuid4()),
            "user_id": user_id,
            "name": name,
            "token_hash": token_hash,
            "created_at": self.clock(),
            "expires_at": expires_at,
        }
        async with self.begin() as conn:
            await conn.execute(t.api_tokens.insert().values(**values))
            row = (
                await conn.execute(sa.select(t.api_tokens).where(t.api_tokens.c.id == values["id"]))
            ).one()
        return ApiTokenRow.from_row(row)

    async def api_token(self, token_hash: str) -> tuple[ApiTokenRow, UserRow] | None:
        """The token with this hash and its user, whatever their state (the caller decides)."""
        k, u = t.api_tokens, t.users
        query = (
            sa.select(k, *[col.label(f"owner_{col.name}") for col in u.c])
            .join(u, u.c.id == k.c.user_id)
            .where(k.c.token_hash == token_hash)
        )
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        m = row._mapping
        user = UserRow.from_mapping({c.name: m[f"owner_{c.name}"] for c in u.c})
        return ApiTokenRow.from_row(row), user

    async def touch_api_token(self, token_id: str, at: float, *, every: float) -> None:
        """Record a use, at most once per `every` seconds (a read-mostly hot path)."""
        c = t.api_tokens.c
        async with self.begin() as conn:
            await conn.execute(
                t.api_tokens.update()
                .where(
                    c.id == token_id,
                    sa.or_(c.last_used_at.is_(None), c.last_used_at <= at - every),
                )
                .values(last_used_at=at)
            )

    async def list_api_tokens(self, user_id: str) -> list[ApiTokenRow]:
        """The user's tokens not revoked, newest first (expired ones included)."""
        c = t.api_tokens.c
        query = (
            sa.select(t.api_tokens)
            .where(c.user_id == user_id, c.revoked_at.is_(None))
            .order_by(c.created_at.desc(), c.id)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ApiTokenRow.from_row(r) for r in rows]

    async def revoke_api_token(self, user_id: str, token_id: str) -> bool:
        """False: the user has no such token (or it was revoked already)."""
        c = t.api_tokens.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.api_tokens.update()
                .where(c.id == token_id, c.user_id == user_id, c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
            return bool(done.rowcount)

    # --- Login with Amazon tokens ----------------------------------------------------------

    async def token_row(self, email: str) -> dict[str, Any] | None:
        async with self.begin() as conn:
            query = sa.select(t.oauth_tokens).join(t.users).where(t.users.c.email == email)
            row = (await conn.execute(query)).first()
            return None if row is None else dict(row._mapping)

    async def save_tokens(self, email: str, client_id: str, **fields: Any) -> None:
        """Upsert the user's ciphertext token fields (refresh_token, access_token, ...)."""
        user_id = await self.ensure_user(email)
        async with self.begin() as conn:
            values = {**fields, "updated_at": self.clock()}
            updated = await conn.execute(
                t.oauth_tokens.update().where(t.oauth_tokens.c.user_id == user_id).values(**values)
            )
            if updated.rowcount == 0:
                self._forget_owners()
                await conn.execute(
                    t.oauth_tokens.insert().values(user_id=user_id, client_id=client_id, **values)
                )

    async def disconnect(self, user_id: str) -> int:
        """Delete the user's Amazon token and their connections; how many accounts they had
        connected. Their grants stay (an admin's decision)."""
        self._forget_owners()
        async with self.begin() as conn:
            done = await conn.execute(
                t.connections.delete().where(t.connections.c.user_id == user_id)
            )
            await conn.execute(t.oauth_tokens.delete().where(t.oauth_tokens.c.user_id == user_id))
            return int(done.rowcount)

    async def rewrap_tokens(self, rewrap: Callable[[bytes], bytes]) -> int:
        """Re-encrypt every stored token with `rewrap` (key rotation), in one transaction."""
        o = t.oauth_tokens
        async with self.begin() as conn:
            query = sa.select(o.c.user_id, o.c.refresh_token, o.c.access_token)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            rows = (await conn.execute(query)).all()
            for row in rows:
                access = None if row.access_token is None else rewrap(bytes(row.access_token))
                await conn.execute(
                    o.update()
                    .where(o.c.user_id == row.user_id)
                    .values(refresh_token=rewrap(bytes(row.refresh_token)), access_token=access)
                )
            return len(rows)

    # --- key fingerprints -------------------------------------------------------------------

    async def fingerprints(self, name: str) -> list[str] | None:
        c = t.key_fingerprints.c
        async with self.begin() as conn:
            row = (await conn.execute(sa.select(c.fingerprints).where(c.name == name))).first()
        return None if row is None else [str(f) for f in row[0]]

    async def save_fingerprints(self, name: str, fingerprints: Sequence[str]) -> None:
        c = t.key_fingerprints.c
        values = {"fingerprints": sorted(set(fingerprints)), "updated_at": self.clock()}
        try:
            async with self.begin() as conn:
                done = await conn.execute(
                    t.key_fingerprints.update().where(c.name == name).values(**values)
                )
                if done.rowcount == 0:
                    await conn.execute(t.key_fingerprints.insert().values(name=name, **values))
        except StoreError as exc:  # a concurrent first start inserted it: write over it
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            async with self.begin() as conn:
                await conn.execute(
                    t.key_fingerprints.update().where(c.name == name).values(**values)
                )

    # --- accounts and instances ----------------------------------------------------------

    async def upsert_account(
        self,
        user_id: str | None,
        entity_id: str,
        marketplace_id: str,
        region: str,
        name: str | None,
    ) -> str:
        """The account's one row (by AMC's ids); with `user_id`, that user connected it (their
        own token reaches it)."""
        async with self.begin() as conn:
            c = t.amc_accounts.c
            where = sa.and_(c.entity_id == entity_id, c.marketplace_id == marketplace_id)
            found = (await conn.execute(sa.select(c.id).where(where))).first()
            if found is not None:
                account_pk = str(found[0])
                values: dict[str, Any] = {"region": region}
                if name is not None:
                    values["name"] = name
                await conn.execute(t.amc_accounts.update().where(where).values(**values))
            else:
                account_pk = str(uuid.uuid4())
                await conn.execute(
                    t.amc_accounts.insert().values(
                        id=account_pk,
                        entity_id=entity_id,
                        marketplace_id=marketplace_id,
                        region=region,
                        name=name,
                    )
                )
        if user_id is not None:
            await self.connect(user_id, account_pk)
        return account_pk

    async def connect(self, user_id: str, account_pk: str) -> None:
        """Record that the user's own token reaches the account (kept when already there)."""
        cn = t.connections.c
        where = sa.and_(cn.user_id == user_id, cn.account_id == account_pk)
        async with self.begin() as conn:
            if (await conn.execute(sa.select(cn.user_id).where(where))).first() is not None:
                return
        self._forget_owners()
        await self._insert_once(
            t.connections.insert().values(
                user_id=user_id, account_id=account_pk, created_at=self.clock()
            )
        )

    async def _insert_once(self, insert: sa.Insert) -> bool:
        """Insert a row that may have just been inserted by a concurrent request (the same
        fact): False when it was."""
        try:
            async with self.begin() as conn:
                await conn.execute(insert)
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            return False
        return True

    async def upsert_instance(
        self, account_pk: str, instance_id: str, name: str | None, api_endpoint: str | None
    ) -> str:
        """The instance's one row (by AMC's instance id)."""
        async with self.begin() as conn:
            c = t.amc_instances.c
            where = c.instance_id == instance_id
            found = (await conn.execute(sa.select(c.id).where(where))).first()
            if found is not None:
                values: dict[str, Any] = {"account_id": account_pk, "api_endpoint": api_endpoint}
                if name is not None:
                    values["name"] = name
                await conn.execute(t.amc_instances.update().where(where).values(**values))
                return str(found[0])
            pk = str(uuid.uuid4())
            await conn.execute(
                t.amc_instances.insert().values(
                    id=pk,
                    account_id=account_pk,
                    instance_id=instance_id,
                    name=name,
                    api_endpoint=api_endpoint,
                )
            )
            return pk

    def _instances_query(self) -> sa.Select[Any]:
        i, a = t.amc_instances, t.amc_accounts
        return sa.select(
            i.c.id,
            i.c.instance_id,
            i.c.name,
            i.c.api_endpoint,
            i.c.account_id,
            a.c.entity_id,
            a.c.marketplace_id,
            a.c.region,
        ).join(a, a.c.id == i.c.account_id)

    async def list_instances(self, user_id: str | None) -> list[InstanceRow]:
        """The instances the user may use (connected or granted); None: every instance."""
        query = self._instances_query()
        if user_id is not None:
            query = query.where(t.amc_instances.c.id.in_(usable_instances(user_id)))
        async with self.begin() as conn:
            rows = (await conn.execute(query.order_by(t.amc_instances.c.instance_id))).all()
        return [InstanceRow.from_row(r) for r in rows]

    async def find_instance(self, user_id: str | None, ref: str) -> InstanceRow | None:
        """By AMC instance id or by our internal id, among the instances the user may use
        (None: among all)."""
        i = t.amc_instances.c
        query = self._instances_query().where(sa.or_(i.instance_id == ref, i.id == ref))
        if user_id is not None:
            query = query.where(i.id.in_(usable_instances(user_id)))
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else InstanceRow.from_row(row)

    async def instance_by_pk(self, pk: str) -> InstanceRow:
        async with self.begin() as conn:
            row = (
                await conn.execute(self._instances_query().where(t.amc_instances.c.id == pk))
            ).one()
        return InstanceRow.from_row(row)

    async def instances_by_pks(self, pks: Sequence[str]) -> dict[str, InstanceRow]:
        if not pks:
            return {}
        query = self._instances_query().where(t.amc_instances.c.id.in_(sorted(set(pks))))
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return {r.id: InstanceRow.from_row(r) for r in rows}

    async def instance_access(self, user_id: str) -> dict[str, Access]:
        """Instance pk -> why the user may use it (connected wins over granted)."""
        i, cn, g = t.amc_instances.c, t.connections.c, t.grants.c
        connected = sa.select(i.id).join(t.connections, cn.account_id == i.account_id)
        async with self.begin() as conn:
            granted = (
                await conn.execute(sa.select(g.instance_id).where(g.user_id == user_id))
            ).all()
            own = (await conn.execute(connected.where(cn.user_id == user_id))).all()
        found = {str(r[0]): Access.GRANTED for r in granted}
        found.update({str(r[0]): Access.CONNECTED for r in own})
        return found

    async def may_use(self, user_id: str, instance_pk: str) -> bool:
        """The user is enabled and connected the instance's account or was granted it."""
        u = t.users.c
        query = sa.select(u.id).where(
            u.id == user_id,
            u.disabled.is_(False),
            sa.literal(instance_pk).in_(usable_instances(user_id)),
        )
        async with self.begin() as conn:
            return (await conn.execute(query)).first() is not None

    async def token_owner(self, account_pk: str, *, prefer: str | None = None) -> str | None:
        """Whose Amazon token calls for the account use: `prefer`'s (the acting user's e-mail)
        when they connected it, else the earliest connection still valid (an enabled user with
        a stored token). None: nobody's token reaches it.

        Asked before every AMC call, so the answer is kept `owner_ttl` seconds: a change made
        through this store object counts at once, one made by another process within that."""
        now, epoch = time.monotonic(), self._owners_epoch
        kept = self._owners.get((account_pk, prefer))
        if kept is not None and now - kept[0] < self.owner_ttl:
            return kept[1]
        cn, u, o = t.connections.c, t.users.c, t.oauth_tokens.c
        mine = sa.case((u.email == prefer, 0), else_=1) if prefer is not None else sa.literal(1)
        query = (
            sa.select(u.email)
            .select_from(
                t.connections.join(t.users, u.id == cn.user_id).join(
                    t.oauth_tokens, o.user_id == cn.user_id
                )
            )
            .where(cn.account_id == account_pk, u.disabled.is_(False))
            .order_by(mine, cn.created_at, u.email)
            .limit(1)
        )
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        owner = None if row is None else str(row[0])
        if epoch == self._owners_epoch:
            self._owners[(account_pk, prefer)] = (now, owner)
        return owner

    async def grant(self, user_id: str, instance_pk: str, *, by: str | None) -> bool:
        """Let the user use the instance; False: they had that grant already."""
        g = t.grants.c
        async with self.begin() as conn:
            found = (
                await conn.execute(
                    sa.select(g.user_id).where(g.user_id == user_id, g.instance_id == instance_pk)
                )
            ).first()
            if found is not None:
                return False
        return await self._insert_once(
            t.grants.insert().values(
                user_id=user_id, instance_id=instance_pk, granted_by=by, created_at=self.clock()
            )
        )

    async def revoke_grant(self, user_id: str, instance_pk: str) -> bool:
        """False: the user had no grant on the instance."""
        g = t.grants.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.grants.delete().where(g.user_id == user_id, g.instance_id == instance_pk)
            )
            return bool(done.rowcount)

    # --- workflows -----------------------------------------------------------------------

    async def save_workflow(
        self,
        instance_pk: str,
        workflow_id: str,
        sql: str,
        sql_hash: str,
        input_parameters: list[dict[str, Any]],
    ) -> None:
        now = self.clock()
        async with self.begin() as conn:
            c = t.workflows.c
            where = sa.and_(c.instance_id == instance_pk, c.workflow_id == workflow_id)
            values = {
                "sql": sql,
                "sql_hash": sql_hash,
                "input_parameters": input_parameters,
                "updated_at": now,
            }
            updated = await conn.execute(t.workflows.update().where(where).values(**values))
            if updated.rowcount == 0:
                await conn.execute(
                    t.workflows.insert().values(
                        id=str(uuid.uuid4()),
                        instance_id=instance_pk,
                        workflow_id=workflow_id,
                        created_at=now,
                        **values,
                    )
                )

    async def list_workflows(self, instance_pk: str) -> list[dict[str, Any]]:
        c = t.workflows.c
        async with self.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.workflows)
                    .where(c.instance_id == instance_pk)
                    .order_by(c.workflow_id)
                )
            ).all()
        return [dict(r._mapping) for r in rows]

    async def delete_workflow(self, instance_pk: str, workflow_id: str) -> bool:
        c = t.workflows.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.workflows.delete().where(
                    c.instance_id == instance_pk, c.workflow_id == workflow_id
                )
            )
            return bool(done.rowcount)

    # --- executions ----------------------------------------------------------------------
    # Every change of state goes through `_transition`: the state machine (rows.TRANSITIONS)
    # is checked, the row written only while `owner` holds its lease, and the change recorded
    # in `execution_events` in the same transaction.

    async def add_execution(self, new: NewExecution) -> str:
        """Queue a run: the row and its `queued` event, in one transaction."""
        now = self.clock()
        row = queued_row(new, now)
        execution_id = str(row["id"])
        try:
            async with self.begin() as conn:
                await insert_queued(conn, row)
        except StoreError as exc:
            # The user's Idempotency-Key was taken meanwhile: that execution is the answer.
            if new.idempotency_key is None or not isinstance(exc.__cause__, IntegrityError):
                raise
            found = await self.execution_by_idempotency_key(new.user_id, new.idempotency_key)
            if found is None:
                raise
            return found.id
        return execution_id

    async def execution_by_idempotency_key(self, user_id: str, key: str) -> ExecutionRow | None:
        c = t.workflow_executions.c
        query = sa.select(t.workflow_executions).where(
            c.user_id == user_id, c.idempotency_key == key
        )
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else ExecutionRow.from_row(row)

    async def get_execution(self, execution_id: str) -> ExecutionRow | None:
        c = t.workflow_executions.c
        async with self.begin() as conn:
            row = (
                await conn.execute(sa.select(t.workflow_executions).where(c.id == execution_id))
            ).first()
        return None if row is None else ExecutionRow.from_row(row)

    async def list_executions(
        self,
        *,
        user_id: str | None = None,
        instance_pk: str | None = None,
        states: Sequence[str] | None = None,
        visible_to: str | None = None,
        limit: int | None = None,
        before: tuple[float, str] | None = None,
        collection_id: str | None = None,
    ) -> list[ExecutionRow]:
        """Newest first: of `user_id` (the creator), of the instances `visible_to` may use,
        on one instance, in `states`, of one collection (every attempt of its cells); `limit`
        rows older than `before` (created_at, id)."""
        c = t.workflow_executions.c
        query = sa.select(t.workflow_executions).order_by(c.created_at.desc(), c.id.desc())
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        if visible_to is not None:
            query = query.where(c.instance_id.in_(usable_instances(visible_to)))
        if before is not None:
            at, last_id = before
            query = query.where(
                sa.or_(c.created_at < at, sa.and_(c.created_at == at, c.id < last_id))
            )
        if limit is not None:
            query = query.limit(limit)
        if instance_pk is not None:
            query = query.where(c.instance_id == instance_pk)
        if states is not None:
            query = query.where(c.state.in_([str(s) for s in states]))
        if collection_id is not None:
            query = query.where(c.collection_id == collection_id)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ExecutionRow.from_row(r) for r in rows]

    async def execution_ids(
        self, *, user_id: str | None = None, visible_to: str | None = None, prefix: str = ""
    ) -> list[str]:
        """Ids of executions (of `user_id`, of the instances `visible_to` may use, when given)
        that start with `prefix`, sorted."""
        c = t.workflow_executions.c
        query = sa.select(c.id).order_by(c.id)
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        if visible_to is not None:
            query = query.where(c.instance_id.in_(usable_instances(visible_to)))
        if prefix:
            query = query.where(c.id.startswith(prefix, autoescape=True))
        async with self.begin() as conn:
            return [str(r[0]) for r in (await conn.execute(query)).all()]

    async def execution_events(self, execution_id: str) -> list[ExecutionEvent]:
        """The execution's timeline, oldest first: every state (and AMC status) it reached."""
        e = t.execution_events.c
        query = (
            sa.select(t.execution_events).where(e.execution_id == execution_id).order_by(e.at, e.id)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ExecutionEvent.from_row(r) for r in rows]

    async def claim(
        self,
        owner: str,
        now: float,
        lease: float,
        limit: int,
        states: Sequence[str] = OPEN_STATES,
        ids: Sequence[str] | None = None,
        *,
        held: bool = False,
        skip: Collection[str] = (),
    ) -> list[ExecutionRow]:
        """Lease up to `limit` due executions nobody holds (or whose holder died); `held`:
        also those `owner` itself kept leased between looks (`tracking.release_aligned`),
        apart from `skip` (those its steps in flight hold)."""
        c = t.workflow_executions.c
        due = sa.and_(
            c.state.in_([str(s) for s in states]),
            c.next_check_at <= now,
            unleased(now, owner if held else None),
        )
        if ids is not None:
            due = sa.and_(due, c.id.in_(list(ids)))
        if skip:
            due = sa.and_(due, c.id.not_in(sorted(skip)))
        # Runs due at one time go by instance: a queue falls due at once at each
        # `queue_interval` tick, and a claim that takes an instance's queue whole refuses its
        # oldest run once, where interleaved claims of several workers each refused one.
        chosen = (
            sa.select(c.id)
            .where(due)
            .order_by(c.next_check_at, c.instance_id, c.created_at)
            .limit(limit)
        )
        if self.dialect == "postgresql":  # rows another worker is claiming are skipped
            chosen = chosen.with_for_update(skip_locked=True)
        # One statement (a claim runs for every engine pass): SQLite runs it under its write
        # lock, PostgreSQL locks the chosen rows, so no run is leased twice.
        claim = (
            t.workflow_executions.update()
            .where(c.id.in_(chosen.scalar_subquery()))
            .values(lease_owner=owner, lease_expires_at=now + lease)
            .returning(*t.workflow_executions.c)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(claim)).all()
        return [ExecutionRow.from_row(r) for r in rows]

    async def release(
        self,
        execution_id: str,
        owner: str,
        *,
        next_check_at: float | None = None,
        note: str | None = None,
    ) -> bool:
        """Drop `owner`'s lease, so any process may take the run (at `next_check_at` when
        given); `note` (why it waits) replaces the error text. False: `owner` held no lease."""
        return (
            await self.release_many([execution_id], owner, next_check_at=next_check_at, note=note)
            == 1
        )

    async def release_many(
        self,
        execution_ids: Sequence[str],
        owner: str,
        *,
        next_check_at: float | None = None,
        note: str | None = None,
    ) -> int:
        """`release` for many runs in one statement (e.g. unchanged runs put back on the next
        point of the polling grid); returns how many `owner` still held."""
        if not execution_ids:
            return 0
        c = t.workflow_executions.c
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": self.clock(),
        }
        if next_check_at is not None:
            values["next_check_at"] = next_check_at
        if note is not None:
            values["error"] = note
        async with self.begin() as conn:
            done = await conn.execute(
                t.workflow_executions.update()
                .where(c.id.in_(list(execution_ids)), c.lease_owner == owner)
                .values(**values)
            )
            return int(done.rowcount)

    async def release_owned(self, owner: str) -> int:
        """Drop every lease `owner` still holds (a stopping worker hands its runs over)."""
        c = t.workflow_executions.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.workflow_executions.update()
                .where(c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, updated_at=self.clock())
            )
            return int(done.rowcount)

    async def record_attempt(self, execution_id: str, owner: str) -> bool:
        """Count a submission attempt before it is made (a later one then resumes, not repeats)."""
        c = t.workflow_executions.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.workflow_executions.update()
                .where(c.id == execution_id, c.lease_owner == owner)
                .values(attempts=c.attempts + 1, updated_at=self.clock())
            )
            return bool(done.rowcount)

    async def start_submission(
        self,
        execution_id: str,
        owner: str,
        *,
        instance_pk: str,
        account_pk: str,
        max_instance: int,
        max_account: int,
        daily_quota: int,
        day_start: float,
        now: float,
        collection_id: str | None = None,
        max_collection: int | None = None,
    ) -> bool:
        """Move a queued execution to `submitting` if every budget allows it, atomically.

        Oldest first within its lane: an execution passes only if no older one of the same
        lane (its collection, or work outside collections) is queued on its instance, so a
        long backfill never stands in front of other work. A collection's cell also needs its
        collection running and fewer than `max_collection` collection runs active on the
        instance (the rest of the slots stay for other work). On PostgreSQL concurrent workers
        take turns on the account row's lock, which the statement that reads the conditions
        takes only when they hold: many tries are refused (a queue retried at each
        `queue_interval` tick, a woken run whose slot another took), and a refusal neither
        waits for nor holds the lock. The conditional UPDATE then checks them again under
        the lock. SQLite runs the whole conditional UPDATE under its single writer lock.
        """
        e = t.workflow_executions
        c = e.c
        other = e.alias("other")
        active = other.c.state.in_([s.value for s in ACTIVE_STATES])
        on_instance = sa.select(sa.func.count()).where(other.c.instance_id == instance_pk, active)
        same_account = sa.select(t.amc_instances.c.id).where(
            t.amc_instances.c.account_id == account_pk
        )
        on_account = sa.select(sa.func.count()).where(other.c.instance_id.in_(same_account), active)
        same_lane = (
            other.c.collection_id.is_(None)
            if collection_id is None
            else other.c.collection_id == collection_id
        )
        older_queued = sa.select(sa.func.count()).where(
            other.c.instance_id == instance_pk,
            other.c.state == ExecutionState.QUEUED.value,
            same_lane,
            other.c.created_at
            < sa.select(c.created_at).where(c.id == execution_id).scalar_subquery(),
        )
        conditions = [
            c.id == execution_id,
            c.state == ExecutionState.QUEUED.value,
            c.lease_owner == owner,
            on_instance.scalar_subquery() < max_instance,
            on_account.scalar_subquery() < max_account,
            older_queued.scalar_subquery() == 0,
        ]
        if collection_id is not None:
            conditions += collection_admission(other, instance_pk, collection_id, max_collection)
        if daily_quota:
            today = sa.select(sa.func.count()).where(
                other.c.instance_id == instance_pk,
                other.c.adhoc.is_(True),
                other.c.submit_started_at >= day_start,
            )
            conditions.append(sa.or_(c.adhoc.is_(False), today.scalar_subquery() < daily_quota))
        async with self.begin() as conn:
            if self.dialect == "postgresql":
                account = t.amc_accounts
                locked = (
                    sa.select(account.c.id)
                    .where(account.c.id == account_pk, sa.exists().where(*conditions))
                    .with_for_update(of=account)
                )
                if (await conn.execute(locked)).first() is None:
                    return False
            at = self.clock()
            done = await conn.execute(
                e.update()
                .where(*conditions)
                .values(state=ExecutionState.SUBMITTING.value, submit_started_at=now, updated_at=at)
            )
            if not done.rowcount:
                return False
            await _record_event(conn, execution_id, ExecutionState.SUBMITTING, None, at, None)
            return True

    async def requeue(
        self, execution_id: str, owner: str, *, next_check_at: float, note: str
    ) -> bool:
        """submitting -> queued: AMC said "not now" (its quota); tried again at `next_check_at`."""
        return await self._transition(
            execution_id,
            owner,
            ExecutionState.QUEUED,
            {
                "submit_started_at": None,
                "next_check_at": next_check_at,
                "lease_owner": None,
                "lease_expires_at": None,
                "error": note,
            },
            note=note,
        )

    async def record_status(
        self,
        execution_id: str,
        owner: str,
        state: ExecutionState,
        *,
        amc_status: str,
        next_check_at: float,
        amc_execution_id: str | None = None,
        submitted_at: float | None = None,
        error: str | None = None,
        advice: str | None = None,
        failure_kind: FailureKind | None = None,
    ) -> bool:
        """What AMC said about the run (at submission or when tracked); releases the lease.

        A final state also records when it ended, why (`error`, `failure_kind`) and `advice`;
        an open one clears the note of why the run waited.
        """
        values: dict[str, Any] = {
            "amc_status": amc_status,
            "next_check_at": next_check_at,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if amc_execution_id is not None:
            values["amc_execution_id"] = amc_execution_id
        if submitted_at is not None:
            values["submitted_at"] = submitted_at
        if state.terminal:
            values.update(
                error=error,
                advice=advice,
                failure_kind=None if failure_kind is None else failure_kind.value,
            )
        else:  # AMC answered: a note of why the run waited (a failed look) is over
            values["error"] = None
        return await self._transition(
            execution_id, owner, state, values, note=error if state.terminal else None
        )

    async def finish(
        self,
        execution_id: str,
        owner: str,
        state: ExecutionState,
        *,
        error: str | None = None,
        failure_kind: FailureKind | None = None,
        amc_status: str | None = None,
        result: StoredResult | None = None,
    ) -> bool:
        """End the run in a final `state` (with its result when it succeeded)."""
        if not state.terminal:
            raise InvalidTransition(execution_id, "an open state", f"{state} through finish")
        values: dict[str, Any] = {
            "error": error,
            "failure_kind": None if failure_kind is None else failure_kind.value,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if amc_status is not None:
            values["amc_status"] = amc_status
        if result is not None:
            values.update(
                row_count=result.row_count,
                result_path=result.path,
                result_columns=result.columns,
                result_checksum=result.checksum,
                advice=result.advice,
            )
        return await self._transition(execution_id, owner, state, values, note=error)

    async def cancel(self, execution_id: str, *, amc_status: str | None) -> bool:
        """The user's cancel, from any process: wins over any lease, which it drops so no step
        writes after it. False: no such execution."""
        return await self._transition(
            execution_id,
            None,
            ExecutionState.CANCELLED,
            {
                "amc_status": amc_status,
                "lease_owner": None,
                "lease_expires_at": None,
            },
            note="cancelled by the user",
        )

    async def _transition(
        self,
        execution_id: str,
        owner: str | None,
        target: ExecutionState,
        values: dict[str, Any],
        *,
        note: str | None,
    ) -> bool:
        """Move to `target` if the state machine allows it and `owner` (None: anyone) holds the
        lease; a final state records when it ended; the event is written in the same transaction.

        The state read first is written back as a condition of the UPDATE: SQLite begins its
        transaction only at the first write, so a change in between makes the UPDATE miss and
        the whole step is looked at again (PostgreSQL locks the row instead).
        """
        c = t.workflow_executions.c
        while True:
            async with self.begin() as conn:
                query = sa.select(c.state, c.amc_status, c.lease_owner).where(c.id == execution_id)
                if self.dialect == "postgresql":
                    query = query.with_for_update()
                found = (await conn.execute(query)).first()
                if found is None or (owner is not None and found.lease_owner != owner):
                    return False
                current = ExecutionState(found.state)
                if not allowed(current, target):
                    raise InvalidTransition(execution_id, current, target)
                now = self.clock()
                if target.terminal:
                    values = {**values, "finished_at": now}
                where = [c.id == execution_id, c.state == current.value]
                where.append(c.lease_owner == owner if owner is not None else sa.true())
                done = await conn.execute(
                    t.workflow_executions.update()
                    .where(*where)
                    .values(state=target.value, updated_at=now, **values)
                )
                if not done.rowcount:
                    continue  # changed between the read and the write: decide again
                amc_status = values.get("amc_status", found.amc_status)
                if (current, found.amc_status) != (target, amc_status):
                    await _record_event(conn, execution_id, target, amc_status, now, note)
                return True

    async def open_counts(
        self, *, instance_pk: str, account_pk: str, day_start: float
    ) -> tuple[int, int, int]:
        """Active executions on the instance and the account, and today's ad-hoc submissions."""
        e, i = t.workflow_executions.c, t.amc_instances.c
        active = e.state.in_([s.value for s in ACTIVE_STATES])
        async with self.begin() as conn:
            on_instance = (
                await conn.execute(
                    sa.select(sa.func.count()).where(e.instance_id == instance_pk, active)
                )
            ).scalar_one()
            on_account = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(t.workflow_executions.join(t.amc_instances, i.id == e.instance_id))
                    .where(i.account_id == account_pk, active)
                )
            ).scalar_one()
            today = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        e.instance_id == instance_pk,
                        e.adhoc.is_(True),
                        e.submit_started_at >= day_start,
                    )
                )
            ).scalar_one()
        return int(on_instance), int(on_account), int(today)

    # --- audit -----------------------------------------------------------------------------

    async def record_audit(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        async with self.begin() as conn:
            await conn.execute(t.audit_log.insert(), list(events))

    async def list_audit(
        self,
        *,
        involving: str | None = None,
        user: str | None = None,
        instance_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """Audit rows, newest first: `involving` an e-mail (acting, or whose token was used),
        of one acting `user`, one AMC `instance_id`, in [since, until), older than row
        `before` (an id, for paging)."""
        c = t.audit_log.c
        query = sa.select(t.audit_log).order_by(c.id.desc()).limit(limit)
        if involving is not None:
            query = query.where(sa.or_(c.user_email == involving, c.token_owner == involving))
        if user is not None:
            query = query.where(c.user_email == user)
        if instance_id is not None:
            query = query.where(c.instance_id == instance_id)
        if since is not None:
            query = query.where(c.at >= since)
        if until is not None:
            query = query.where(c.at < until)
        if before is not None:
            query = query.where(c.id < before)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [dict(r._mapping) for r in rows]

    async def execution_counts(self) -> dict[str, int]:
        """How many executions are in each state (the REST API's metrics)."""
        c = t.workflow_executions.c
        query = sa.select(c.state, sa.func.count()).group_by(c.state)
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return {str(s): int(n) for s, n in rows}

    async def audit_counts(self) -> dict[str, int]:
        c = t.audit_log.c
        async with self.begin() as conn:
            rows = (await conn.execute(sa.select(c.kind, sa.func.count()).group_by(c.kind))).all()
        return {str(k): int(n) for k, n in rows}

    async def queue_depths(self) -> dict[str, int]:
        """How many executions are `queued`, by AMC instance id (the REST API's metrics)."""
        c, i = t.workflow_executions.c, t.amc_instances.c
        query = (
            sa.select(i.instance_id, sa.func.count())
            .join(t.amc_instances, i.id == c.instance_id)
            .where(c.state == ExecutionState.QUEUED.value)
            .group_by(i.instance_id)
        )
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return {str(k): int(n) for k, n in rows}

    async def finish_lags(
        self, after_event: int, final_amc_statuses: Sequence[str]
    ) -> tuple[int, list[tuple[float, float]]]:
        """Runs that succeeded in events after id `after_event`: for each, when AMC's final
        status was first recorded and when the run succeeded; and the last event id read."""
        e = t.execution_events.c
        async with self.begin() as conn:
            last = (await conn.execute(sa.select(sa.func.max(e.id)))).scalar()
            upto = int(last or 0)
            if upto <= after_event:
                return after_event, []
            # Correlated, so only the new successes' timelines are read (by their index).
            earlier = t.execution_events.alias("earlier")
            amc_at = (
                sa.select(sa.func.min(earlier.c.at))
                .where(
                    earlier.c.execution_id == e.execution_id,
                    earlier.c.amc_status.in_(list(final_amc_statuses)),
                )
                .scalar_subquery()
            )
            query = sa.select(amc_at, e.at).where(
                e.id > after_event, e.id <= upto, e.state == ExecutionState.SUCCEEDED.value
            )
            rows = (await conn.execute(query)).all()
        return upto, [(float(a), float(b)) for a, b in rows if a is not None]


def unleased(now: float, keeper: str | None = None) -> sa.ColumnElement[bool]:
    """A run nobody holds (or whose holder died), or one `keeper` kept between its looks:
    what a claim may take and what an idle worker waits for."""
    c = t.workflow_executions.c
    free = [c.lease_expires_at.is_(None), c.lease_expires_at < now]
    if keeper is not None:
        free.append(c.lease_owner == keeper)
    return sa.or_(*free)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def queued_row(new: NewExecution, now: float) -> dict[str, Any]:
    """The row of a new queued execution (a fresh id and nonce)."""
    return {
        **asdict(new),
        "id": str(uuid.uuid4()),
        "state": ExecutionState.QUEUED.value,
        "created_at": now,
        "updated_at": now,
        "next_check_at": now,
        "attempts": 0,
        "nonce": uuid.uuid4().hex,
    }


async def insert_queued(conn: AsyncConnection, row: dict[str, Any]) -> None:
    """Insert a `queued_row` and its `queued` event, in the caller's transaction."""
    await conn.execute(t.workflow_executions.insert().values(**row))
    await _record_event(conn, str(row["id"]), ExecutionState.QUEUED, None, row["created_at"], None)


async def _record_event(
    conn: AsyncConnection,
    execution_id: str,
    state: ExecutionState,
    amc_status: str | None,
    at: float,
    note: str | None,
) -> None:
    await conn.execute(
        t.execution_events.insert().values(
            execution_id=execution_id, state=state.value, amc_status=amc_status, at=at, note=note
        )
    )


def _run_alembic(connection: sa.Connection) -> None:
    from alembic import command  # only when a migration is due: Alembic is slow to import
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def user_email(store: Store, user_id: str) -> str:
    async with store.begin() as conn:
        row = (await conn.execute(sa.select(t.users.c.email).where(t.users.c.id == user_id))).one()
    return str(row[0])


def require_sqlite(have: tuple[int, ...], text: str, least: tuple[int, ...]) -> None:
    """Refuse an SQLite older than `least` (`have`/`text`: this Python's, as sqlite3 says)."""
    if have < least:
        needed = ".".join(map(str, least))
        raise StoreError(
            f"the store needs SQLite {needed} or newer; this Python has {text}",
            hint="use a Python built with a newer SQLite (3.11 on Debian 12 has 3.40), "
            "or PostgreSQL (AMC_DATABASE_URL)",
        )
