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
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from amc_manager.errors import AmcManagerError
from amc_manager.store import schema as t
from amc_manager.store.rows import OPEN_STATES, ExecutionRow, InstanceRow

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(AmcManagerError):
    """The database failed or refused an operation."""

    remedy = "Check AMC_DATABASE_URL and that the database is reachable."


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


class Store:
    """Async access to users, tokens, instances, workflows, executions and the audit log."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None

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
            path = Path(self.url.split(":///", 1)[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=5, max_overflow=5, pool_pre_ping=True)
        self._engine = create_async_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            sa.event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        await self.upgrade()
        return self

    async def aclose(self) -> None:
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
        """Apply Alembic migrations up to head; concurrent starters take turns."""
        async with _translated():
            if self.url.startswith("sqlite"):
                await asyncio.to_thread(self._locked_sqlite_upgrade)
            else:
                async with self.engine.begin() as conn:
                    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7418880021)"))
                    await conn.run_sync(_run_alembic)

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
                t.users.insert().values(id=user_id, email=email, created_at=time.time())
            )
            return user_id

    async def user_id(self, email: str) -> str | None:
        async with self.begin() as conn:
            found = (
                await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == email))
            ).first()
            return None if found is None else str(found[0])

    async def token_row(self, email: str) -> dict[str, Any] | None:
        async with self.begin() as conn:
            query = sa.select(t.oauth_tokens).join(t.users).where(t.users.c.email == email)
            row = (await conn.execute(query)).first()
            return None if row is None else dict(row._mapping)

    async def save_tokens(self, email: str, client_id: str, **fields: Any) -> None:
        """Upsert the user's ciphertext token fields (refresh_token, access_token, ...)."""
        user_id = await self.ensure_user(email)
        async with self.begin() as conn:
            values = {**fields, "updated_at": time.time()}
            updated = await conn.execute(
                t.oauth_tokens.update().where(t.oauth_tokens.c.user_id == user_id).values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    t.oauth_tokens.insert().values(user_id=user_id, client_id=client_id, **values)
                )

    # --- accounts and instances ----------------------------------------------------------

    async def upsert_account(
        self, user_id: str, entity_id: str, marketplace_id: str, region: str, name: str | None
    ) -> str:
        async with self.begin() as conn:
            c = t.amc_accounts.c
            where = sa.and_(
                c.user_id == user_id, c.entity_id == entity_id, c.marketplace_id == marketplace_id
            )
            found = (await conn.execute(sa.select(c.id).where(where))).first()
            if found is not None:
                await conn.execute(
                    t.amc_accounts.update().where(where).values(region=region, name=name)
                )
                return str(found[0])
            account_pk = str(uuid.uuid4())
            await conn.execute(
                t.amc_accounts.insert().values(
                    id=account_pk,
                    user_id=user_id,
                    entity_id=entity_id,
                    marketplace_id=marketplace_id,
                    region=region,
                    name=name,
                )
            )
            return account_pk

    async def upsert_instance(
        self, account_pk: str, instance_id: str, name: str | None, api_endpoint: str | None
    ) -> str:
        async with self.begin() as conn:
            c = t.amc_instances.c
            where = sa.and_(c.account_id == account_pk, c.instance_id == instance_id)
            found = (await conn.execute(sa.select(c.id).where(where))).first()
            if found is not None:
                await conn.execute(
                    t.amc_instances.update()
                    .where(where)
                    .values(name=name, api_endpoint=api_endpoint)
                )
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
            a.c.user_id,
        ).join(a, a.c.id == i.c.account_id)

    async def list_instances(self, user_id: str) -> list[InstanceRow]:
        query = self._instances_query().where(t.amc_accounts.c.user_id == user_id)
        async with self.begin() as conn:
            rows = (await conn.execute(query.order_by(t.amc_instances.c.instance_id))).all()
        return [InstanceRow.from_row(r) for r in rows]

    async def find_instance(self, user_id: str, ref: str) -> InstanceRow | None:
        """By AMC instance id or by our internal id."""
        i = t.amc_instances.c
        query = self._instances_query().where(
            t.amc_accounts.c.user_id == user_id, sa.or_(i.instance_id == ref, i.id == ref)
        )
        async with self.begin() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else InstanceRow.from_row(row)

    async def instance_by_pk(self, pk: str) -> InstanceRow:
        async with self.begin() as conn:
            row = (
                await conn.execute(self._instances_query().where(t.amc_instances.c.id == pk))
            ).one()
        return InstanceRow.from_row(row)

    # --- workflows -----------------------------------------------------------------------

    async def save_workflow(
        self,
        instance_pk: str,
        workflow_id: str,
        sql: str,
        sql_hash: str,
        input_parameters: list[dict[str, Any]],
    ) -> None:
        now = time.time()
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

    async def add_execution(self, values: dict[str, Any]) -> str:
        now = time.time()
        row = {
            "id": str(uuid.uuid4()),
            "created_at": now,
            "updated_at": now,
            "next_check_at": now,
            "attempts": 0,
            "nonce": uuid.uuid4().hex,
            **values,
        }
        async with self.begin() as conn:
            await conn.execute(t.workflow_executions.insert().values(**row))
        return str(row["id"])

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
    ) -> list[ExecutionRow]:
        c = t.workflow_executions.c
        query = sa.select(t.workflow_executions).order_by(c.created_at.desc())
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        if instance_pk is not None:
            query = query.where(c.instance_id == instance_pk)
        if states is not None:
            query = query.where(c.state.in_(list(states)))
        async with self.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [ExecutionRow.from_row(r) for r in rows]

    async def claim(
        self,
        owner: str,
        now: float,
        lease: float,
        limit: int,
        states: Sequence[str] = OPEN_STATES,
        ids: Sequence[str] | None = None,
    ) -> list[ExecutionRow]:
        """Lease up to `limit` due executions nobody holds (or whose holder died)."""
        c = t.workflow_executions.c
        due = sa.and_(
            c.state.in_(list(states)),
            c.next_check_at <= now,
            sa.or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
        )
        if ids is not None:
            due = sa.and_(due, c.id.in_(list(ids)))
        query = sa.select(c.id).where(due).order_by(c.next_check_at, c.created_at).limit(limit)
        claimed: list[str] = []
        async with self.begin() as conn:
            if self.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = [str(r[0]) for r in (await conn.execute(query)).all()]
            for execution_id in ids:
                done = await conn.execute(
                    t.workflow_executions.update()
                    .where(c.id == execution_id, due)
                    .values(lease_owner=owner, lease_expires_at=now + lease)
                )
                if done.rowcount:
                    claimed.append(execution_id)
            if not claimed:
                return []
            rows = (
                await conn.execute(sa.select(t.workflow_executions).where(c.id.in_(claimed)))
            ).all()
        return [ExecutionRow.from_row(r) for r in rows]

    async def update_execution(self, execution_id: str, owner: str | None, **values: Any) -> bool:
        """Write fields if `owner` still holds the lease (None: no lease check)."""
        c = t.workflow_executions.c
        where = [c.id == execution_id]
        if owner is not None:
            where.append(c.lease_owner == owner)
        async with self.begin() as conn:
            done = await conn.execute(
                t.workflow_executions.update()
                .where(*where)
                .values(updated_at=time.time(), **values)
            )
            return bool(done.rowcount)

    async def update_held(self, execution_ids: Sequence[str], owner: str, **values: Any) -> int:
        """Write the same fields to each of these executions that `owner` still holds, at once."""
        if not execution_ids:
            return 0
        c = t.workflow_executions.c
        async with self.begin() as conn:
            done = await conn.execute(
                t.workflow_executions.update()
                .where(c.id.in_(list(execution_ids)), c.lease_owner == owner)
                .values(updated_at=time.time(), **values)
            )
            return int(done.rowcount)

    async def open_counts(
        self, *, instance_pk: str, account_pk: str, day_start: float
    ) -> tuple[int, int, int]:
        """Active executions on the instance and the account, and today's ad-hoc submissions."""
        e, i = t.workflow_executions.c, t.amc_instances.c
        active = e.state.in_(["submitting", "pending", "running"])
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

    async def audit_counts(self) -> dict[str, int]:
        c = t.audit_log.c
        async with self.begin() as conn:
            rows = (await conn.execute(sa.select(c.kind, sa.func.count()).group_by(c.kind))).all()
        return {str(k): int(n) for k, n in rows}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _run_alembic(connection: sa.Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


# --- shared budgets: executions per instance/account and the request rate -------------------


async def start_submission(
    store: Store,
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
) -> bool:
    """Move a queued execution to `submitting` if every budget allows it, atomically.

    Oldest first: an execution passes only if no older one is queued on its instance. On
    PostgreSQL the instance and account rows are locked first, so concurrent workers take turns;
    SQLite runs the whole conditional UPDATE under its single writer lock.
    """
    e = t.workflow_executions
    c = e.c
    other = e.alias("other")
    active = other.c.state.in_(["submitting", "pending", "running"])
    on_instance = sa.select(sa.func.count()).where(other.c.instance_id == instance_pk, active)
    same_account = sa.select(t.amc_instances.c.id).where(t.amc_instances.c.account_id == account_pk)
    on_account = sa.select(sa.func.count()).where(other.c.instance_id.in_(same_account), active)
    older_queued = sa.select(sa.func.count()).where(
        other.c.instance_id == instance_pk,
        other.c.state == "queued",
        other.c.created_at < sa.select(c.created_at).where(c.id == execution_id).scalar_subquery(),
    )
    conditions = [
        c.id == execution_id,
        c.state == "queued",
        c.lease_owner == owner,
        on_instance.scalar_subquery() < max_instance,
        on_account.scalar_subquery() < max_account,
        older_queued.scalar_subquery() == 0,
    ]
    if daily_quota:
        today = sa.select(sa.func.count()).where(
            other.c.instance_id == instance_pk,
            other.c.adhoc.is_(True),
            other.c.submit_started_at >= day_start,
        )
        conditions.append(sa.or_(c.adhoc.is_(False), today.scalar_subquery() < daily_quota))
    async with store.begin() as conn:
        if store.dialect == "postgresql":
            await conn.execute(
                sa.select(t.amc_accounts.c.id)
                .where(t.amc_accounts.c.id == account_pk)
                .with_for_update()
            )
        done = await conn.execute(
            e.update()
            .where(*conditions)
            .values(state="submitting", submit_started_at=now, updated_at=now)
        )
        return bool(done.rowcount)


async def reserve_request(
    store: Store, key: str, now: float, max_rate: float, recovery: float, step: float
) -> float:
    """Reserve the next request slot for `key`; returns how long the caller must wait.

    Compare-and-set: the UPDATE applies only if the row is still what was read, else the
    reservation starts over. SQLite's driver begins a transaction only at the first write, so
    there the SELECT alone would let two callers take the same slot (PostgreSQL also locks the
    row with FOR UPDATE).
    """
    b = t.request_budget
    while True:
        async with store.begin() as conn:
            query = sa.select(b).where(b.c.key == key)
            if store.dialect == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).first()
            if row is None:
                insert = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(b)
                created = await conn.execute(
                    insert.values(
                        key=key,
                        next_free=now + 1 / max_rate,
                        paused_until=0.0,
                        rate=max_rate,
                        last_penalty=0.0,
                    ).on_conflict_do_nothing(index_elements=["key"])
                )
                if created.rowcount:
                    return 0.0
                continue  # another caller created it first
            m = row._mapping
            rate, last = float(m["rate"]), float(m["last_penalty"])
            if rate < max_rate and now - last >= recovery:
                steps = int((now - last) // recovery)
                rate, last = min(max_rate, rate + steps * step), now
            start = max(now, float(m["next_free"]), float(m["paused_until"]))
            done = await conn.execute(
                b.update()
                .where(
                    b.c.key == key,
                    b.c.next_free == m["next_free"],
                    b.c.paused_until == m["paused_until"],
                    b.c.rate == m["rate"],
                    b.c.last_penalty == m["last_penalty"],
                )
                .values(next_free=start + 1 / rate, rate=rate, last_penalty=last)
            )
            if done.rowcount:
                return start - now


async def penalize_requests(
    store: Store, key: str, now: float, retry_after: float | None, min_rate: float
) -> None:
    b = t.request_budget
    async with store.begin() as conn:
        row = (await conn.execute(sa.select(b).where(b.c.key == key))).first()
        if row is None:
            return
        m = row._mapping
        values: dict[str, Any] = {"last_penalty": now}
        if now >= float(m["paused_until"]):
            values["rate"] = max(min_rate, float(m["rate"]) / 2)
        if retry_after:
            values["paused_until"] = max(float(m["paused_until"]), now + retry_after)
        await conn.execute(b.update().where(b.c.key == key).values(**values))


async def user_email(store: Store, user_id: str) -> str:
    async with store.begin() as conn:
        row = (await conn.execute(sa.select(t.users.c.email).where(t.users.c.id == user_id))).one()
    return str(row[0])
