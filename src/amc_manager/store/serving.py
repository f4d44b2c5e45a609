"""The REST API's store operations: its hot reads (the caller of an API token, an execution
page, one execution with its timeline: one read each, the access check in the query) and the
single-use secrets that every `amc serve` process shares (consent states, one-time sign-in
links).

On SQLite a hot read runs whole in one worker thread over a plain `sqlite3` connection of a
small read-only pool (WAL lets it read beside a writer): aiosqlite would hop threads for every
cursor call, which cost more than the query. On PostgreSQL it runs on a small pool of its own
in autocommit and without a ping per checkout: BEGIN, COMMIT and the ping were three of a
read's five round trips.
`Store` inherits `ServingStore`; its methods use the store's engine (`begin`) and URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from amc_manager.store import schema as t
from amc_manager.store.access import usable_instances
from amc_manager.store.errors import StoreError
from amc_manager.store.rows import ApiTokenRow, ExecutionEvent, ExecutionRow, UserRow

T = TypeVar("T")
# What a list never shows stays out of a page (decoding them was a third of a page's cost).
LIST_OMITS = frozenset({"sql", "input_parameters", "options", "result_columns"})
LIST_COLUMNS = [
    sa.null().label(col.name) if col.name in LIST_OMITS else col for col in t.workflow_executions.c
]
READERS = 4  # pooled read connections (and as many more at a peak)
# SQLite reads get threads of their own (not shared with other blocking work); two, as a read
# is mostly Python holding the GIL, so more threads add no throughput.
READ_THREADS = 2


@dataclass(frozen=True)
class ConsentStateRow:
    """A consent under way: who asked, bound to what, the redirect URI its code is tied to."""

    email: str
    binding: str
    redirect_uri: str
    expires_at: float


class ServingStore:
    """The REST API's reads and single-use secrets (a mixin of `Store`)."""

    url: str
    _reader: sa.Engine | None = None
    _async_reader: AsyncEngine | None = None
    _read_threads: ThreadPoolExecutor | None = None

    if TYPE_CHECKING:

        def begin(self) -> AbstractAsyncContextManager[AsyncConnection]: ...

    async def read(self, work: Callable[[sa.Connection], T]) -> T:
        """`work` over a connection, in one read (see the module's docstring): on SQLite in
        one worker thread; on PostgreSQL on a small pool of its own in autocommit (no BEGIN
        and COMMIT) without a ping on every checkout: a read whose connection turns out to
        be gone is tried once more on a fresh one (reads are safe to repeat)."""
        if self.url.startswith("sqlite"):
            return await self._read_sqlite(work)
        reader = self._async_reader
        if reader is None:
            reader = self._async_reader = create_async_engine(
                self.url,
                pool_size=READERS,
                max_overflow=READERS,
                isolation_level="AUTOCOMMIT",
            )
        for attempt in (1, 2):
            try:
                async with reader.connect() as conn:
                    return await conn.run_sync(work)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    raise _store_error(exc) from exc
            except SQLAlchemyError as exc:
                raise _store_error(exc) from exc
        raise AssertionError("unreachable")

    async def _read_sqlite(self, work: Callable[[sa.Connection], T]) -> T:
        reader = self._reader
        if reader is None:
            reader = self._reader = _sqlite_reader(self.url)

        def run() -> T:
            try:
                with reader.connect() as conn:
                    return work(conn)
            except SQLAlchemyError as exc:
                raise _store_error(exc) from exc

        if self._read_threads is None:
            self._read_threads = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="amc-read")
        return await asyncio.get_running_loop().run_in_executor(self._read_threads, run)

    async def close_reader(self) -> None:
        """Close the read pools (the store is closing)."""
        if self._read_threads is not None:
            self._read_threads.shutdown(wait=False)
            self._read_threads = None
        if self._reader is not None:
            self._reader.dispose()
            self._reader = None
        if self._async_reader is not None:
            await self._async_reader.dispose()
            self._async_reader = None

    # --- hot reads ---------------------------------------------------------------------------

    async def token_caller(self, token_hash: str) -> tuple[ApiTokenRow, UserRow] | None:
        """The API token with this hash and its user, whatever their state (one read)."""
        k, u = t.api_tokens, t.users
        query = (
            sa.select(k, *[col.label(f"owner_{col.name}") for col in u.c])
            .join(u, u.c.id == k.c.user_id)
            .where(k.c.token_hash == token_hash)
        )

        def work(conn: sa.Connection) -> tuple[ApiTokenRow, UserRow] | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            m = row._mapping
            user = UserRow.from_mapping({c.name: m[f"owner_{c.name}"] for c in u.c})
            return ApiTokenRow.from_row(row), user

        return await self.read(work)

    async def user_by_id(self, user_id: str) -> UserRow | None:
        """A user by internal id (one read: a web session's check on every request)."""

        def work(conn: sa.Connection) -> UserRow | None:
            row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
            return None if row is None else UserRow.from_row(row)

        return await self.read(work)

    async def execution_page(
        self,
        *,
        visible_to: str | None,
        instance_pk: str | None = None,
        states: Sequence[str] | None = None,
        limit: int | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[tuple[ExecutionRow, str]]:
        """Newest first, with each one's AMC instance id: of the instances `visible_to` may
        use (None: all), on one instance, in `states`; `limit` rows older than `before`.
        Rows as a list shows them: without their SQL, input parameters, options and result
        columns (None or empty; `execution_detail` reads them)."""
        c = t.workflow_executions.c
        i = t.amc_instances.c
        query = (
            sa.select(*LIST_COLUMNS, i.instance_id.label("amc_instance_id"))
            .join(t.amc_instances, i.id == c.instance_id)
            .order_by(c.created_at.desc(), c.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        if visible_to is not None:
            query = query.where(c.instance_id.in_(usable_instances(visible_to)))
        if before is not None:
            at, last_id = before
            query = query.where(
                sa.or_(c.created_at < at, sa.and_(c.created_at == at, c.id < last_id))
            )
        if instance_pk is not None:
            query = query.where(c.instance_id == instance_pk)
        if states is not None:
            query = query.where(c.state.in_([str(s) for s in states]))

        def work(conn: sa.Connection) -> list[tuple[ExecutionRow, str]]:
            rows = conn.execute(query).all()
            return [(ExecutionRow.from_row(r), str(r.amc_instance_id)) for r in rows]

        return await self.read(work)

    async def execution_detail(
        self, execution_id: str, *, visible_to: str | None, timeline: bool = True
    ) -> tuple[ExecutionRow, str, list[ExecutionEvent]] | None:
        """One execution, its AMC instance id and (`timeline`) its events oldest first, when
        `visible_to` may use its instance (None: anyone's); else None."""
        c = t.workflow_executions.c
        i = t.amc_instances.c
        e = t.execution_events.c
        query = (
            sa.select(t.workflow_executions, i.instance_id.label("amc_instance_id"))
            .join(t.amc_instances, i.id == c.instance_id)
            .where(c.id == execution_id)
        )
        if visible_to is not None:
            query = query.where(c.instance_id.in_(usable_instances(visible_to)))
        events = (
            sa.select(t.execution_events).where(e.execution_id == execution_id).order_by(e.at, e.id)
        )

        def work(conn: sa.Connection) -> tuple[ExecutionRow, str, list[ExecutionEvent]] | None:
            # the timeline first: read outside one snapshot, the row's state is then at least
            # as new as the timeline's last entry
            timeline_rows = conn.execute(events).all() if timeline else []
            row = conn.execute(query).first()
            if row is None:
                return None
            return (
                ExecutionRow.from_row(row),
                str(row.amc_instance_id),
                [ExecutionEvent.from_row(r) for r in timeline_rows],
            )

        return await self.read(work)

    # --- single-use secrets ------------------------------------------------------------------

    async def add_consent_state(
        self,
        state_hash: str,
        *,
        email: str,
        binding: str,
        redirect_uri: str,
        now: float,
        expires_at: float,
    ) -> None:
        """Keep a consent's state (its hash); expired ones are dropped on the way."""
        s = t.consent_states
        async with self.begin() as conn:
            await conn.execute(s.delete().where(s.c.expires_at < now))
            await conn.execute(
                s.insert().values(
                    state_hash=state_hash,
                    email=email,
                    binding=binding,
                    redirect_uri=redirect_uri,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def take_consent_state(self, state_hash: str, now: float) -> ConsentStateRow | None:
        """The consent a state stands for, once: one `DELETE ... RETURNING` takes the row, so
        only the use whose DELETE removed it gets it (two concurrent uses cannot both
        succeed). None when unknown, used or expired."""
        s = t.consent_states
        async with self.begin() as conn:
            row = (
                await conn.execute(s.delete().where(s.c.state_hash == state_hash).returning(*s.c))
            ).first()
        if row is None or row.expires_at < now:
            return None
        return ConsentStateRow(row.email, row.binding, row.redirect_uri, float(row.expires_at))

    async def add_signin_link(
        self, token_hash: str, *, email: str, now: float, expires_at: float
    ) -> None:
        """Keep a one-time sign-in link (its hash); expired ones are dropped on the way."""
        s = t.signin_links
        async with self.begin() as conn:
            await conn.execute(s.delete().where(s.c.expires_at < now))
            await conn.execute(
                s.insert().values(
                    token_hash=token_hash, email=email, created_at=now, expires_at=expires_at
                )
            )

    async def take_signin_link(self, token_hash: str, now: float) -> str | None:
        """The e-mail a sign-in link signs in, once (`DELETE ... RETURNING`, as for consent
        states); None when unknown, used or expired."""
        s = t.signin_links
        async with self.begin() as conn:
            row = (
                await conn.execute(s.delete().where(s.c.token_hash == token_hash).returning(*s.c))
            ).first()
        if row is None or row.expires_at < now:
            return None
        return str(row.email)


def _sqlite_reader(url: str) -> sa.Engine:
    """A small pool of read-only `sqlite3` connections to the store's file, usable from any
    worker thread."""
    path = url.split(":///", 1)[1]
    engine = sa.create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=READERS,
        max_overflow=READERS,
    )
    sa.event.listen(engine, "connect", _read_only)
    return engine


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA query_only=1")
    cursor.close()


def _store_error(exc: SQLAlchemyError) -> StoreError:
    """The store's one error for a driver's (as store.Store.begin makes it)."""
    orig = getattr(exc, "orig", None)
    return StoreError(
        f"database error: {type(orig or exc).__name__}: {str(orig or exc).splitlines()[0][:200]}"
    )
