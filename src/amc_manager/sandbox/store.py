"""The sandbox's state in SQLite, shared by every process that points at the same state dir.

Each operation runs in a worker thread inside one `BEGIN IMMEDIATE` transaction, so processes
sharing `AMC_HOME/sandbox/` serialise their writes and never block an event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from amc_manager.sandbox.errors import SandboxError

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS access_token_identities (
    token TEXT PRIMARY KEY, identity INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS consent_identities (
    secret TEXT PRIMARY KEY, identity INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS workflows (
    instance_id TEXT NOT NULL, workflow_id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (instance_id, workflow_id));
CREATE TABLE IF NOT EXISTS executions (
    execution_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, workflow_id TEXT NOT NULL,
    created_at REAL NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS executions_by_instance ON executions (instance_id, created_at);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (instance_id, status);
"""

ACTIVE = ("PENDING", "RUNNING")


class StoreClosed(SandboxError, RuntimeError):
    """The store was closed; late work from a cancelled task is dropped."""


class SandboxStore:
    """One SQLite database (a file in the state dir, or private memory) behind a lock."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        # A thread of its own: transactions take turns anyway (the lock), and in the default
        # pool a status read would queue behind every query run waiting there (`_produce`),
        # which made AMC's quickest calls take seconds under load.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-store")

    def open(self) -> None:
        if self._conn is not None:
            return
        target = ":memory:"
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            target = str(self._path)
        conn = sqlite3.connect(target, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        self._conn = conn

    def close(self) -> None:
        # Under the lock: a worker thread may still be inside a transaction (its awaiting task
        # was cancelled, the thread was not), and closing under it would crash SQLite.
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._closed = True
        self._thread.shutdown(wait=False)

    def transact_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one immediate transaction (serialised across processes)."""
        if self._conn is None and not self._closed:
            self.open()
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreClosed("the sandbox store is closed")
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    async def transact(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreClosed("the sandbox store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self.transact_sync, fn)


# --- operations: plain functions over a connection, composed by callers inside transact() ---


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def add_access_token(
    conn: sqlite3.Connection, token: str, client_id: str, expires: float, identity: int = 0
) -> None:
    """Issue `token`; `identity` is the Login with Amazon identity it acts as (0: default)."""
    conn.execute("DELETE FROM access_tokens WHERE expires_at < ?", (expires - 86400 * 2,))
    conn.execute(
        "DELETE FROM access_token_identities WHERE token NOT IN (SELECT token FROM access_tokens)"
    )
    conn.execute(
        "INSERT INTO access_tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
        (token, client_id, expires),
    )
    if identity:
        conn.execute(
            "INSERT INTO access_token_identities (token, identity) VALUES (?, ?)",
            (token, identity),
        )


def access_token(conn: sqlite3.Connection, token: str) -> tuple[str, float, int] | None:
    """(client id, expiry, identity) of an issued token."""
    row = conn.execute(
        "SELECT a.client_id, a.expires_at, COALESCE(i.identity, 0) FROM access_tokens a "
        "LEFT JOIN access_token_identities i ON i.token = a.token WHERE a.token = ?",
        (token,),
    ).fetchone()
    return None if row is None else (str(row[0]), float(row[1]), int(row[2]))


def add_refresh_token(
    conn: sqlite3.Connection, token: str, client_id: str, identity: int = 0
) -> None:
    """A refresh token issued through consent; `identity`: who consented (0: the default)."""
    conn.execute(
        "INSERT OR IGNORE INTO refresh_tokens (token, client_id) VALUES (?, ?)", (token, client_id)
    )
    if identity:
        _set_identity(conn, token, identity)


def consent_identity(conn: sqlite3.Connection, secret: str) -> int | None:
    """The identity that consented to an authorization code or a refresh token issued for one
    (None: not one consent chose)."""
    row = conn.execute(
        "SELECT identity FROM consent_identities WHERE secret = ?", (secret,)
    ).fetchone()
    return None if row is None else int(row[0])


def _set_identity(conn: sqlite3.Connection, secret: str, identity: int) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO consent_identities (secret, identity) VALUES (?, ?)",
        (secret, identity),
    )


def refresh_token_client(conn: sqlite3.Connection, token: str) -> str | None:
    row = conn.execute(
        "SELECT client_id FROM refresh_tokens WHERE token = ? AND revoked = 0", (token,)
    ).fetchone()
    return None if row is None else str(row[0])


def add_auth_code(
    conn: sqlite3.Connection,
    code: str,
    client_id: str,
    redirect_uri: str,
    expires: float,
    identity: int = 0,
) -> None:
    conn.execute(
        "INSERT INTO auth_codes (code, client_id, redirect_uri, expires_at) VALUES (?, ?, ?, ?)",
        (code, client_id, redirect_uri, expires),
    )
    if identity:
        _set_identity(conn, code, identity)


def use_auth_code(conn: sqlite3.Connection, code: str) -> tuple[str, str, float] | None:
    """Consume a code once: later uses find nothing."""
    row = conn.execute(
        "SELECT client_id, redirect_uri, expires_at FROM auth_codes WHERE code = ? AND used = 0",
        (code,),
    ).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE auth_codes SET used = 1 WHERE code = ?", (code,))
    return str(row[0]), str(row[1]), float(row[2])


def get_workflow(
    conn: sqlite3.Connection, instance_id: str, workflow_id: str
) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM workflows WHERE instance_id = ? AND workflow_id = ?",
        (instance_id, workflow_id),
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def put_workflow(conn: sqlite3.Connection, instance_id: str, doc: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO workflows (instance_id, workflow_id, doc) VALUES (?, ?, ?) "
        "ON CONFLICT (instance_id, workflow_id) DO UPDATE SET doc = excluded.doc",
        (instance_id, doc["workflowId"], json.dumps(doc)),
    )


def delete_workflow(conn: sqlite3.Connection, instance_id: str, workflow_id: str) -> bool:
    cur = conn.execute(
        "DELETE FROM workflows WHERE instance_id = ? AND workflow_id = ?",
        (instance_id, workflow_id),
    )
    return cur.rowcount > 0


def list_workflows(conn: sqlite3.Connection, instance_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT doc FROM workflows WHERE instance_id = ? ORDER BY workflow_id", (instance_id,)
    ).fetchall()
    return [dict(json.loads(r[0])) for r in rows]


def insert_execution(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO executions (execution_id, instance_id, workflow_id, created_at, status, doc) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            doc["execution_id"],
            doc["instance_id"],
            doc["workflow_id"],
            doc["created_at"],
            doc["status"],
            json.dumps(doc),
        ),
    )


def update_execution(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE executions SET status = ?, doc = ? WHERE execution_id = ?",
        (doc["status"], json.dumps(doc), doc["execution_id"]),
    )


def get_execution(
    conn: sqlite3.Connection, instance_id: str, execution_id: str
) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM executions WHERE execution_id = ? AND instance_id = ?",
        (execution_id, instance_id),
    ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def active_executions(conn: sqlite3.Connection, instance_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT doc FROM executions WHERE instance_id = ? AND status IN ('PENDING', 'RUNNING') "
        "ORDER BY created_at",
        (instance_id,),
    ).fetchall()
    return [dict(json.loads(r[0])) for r in rows]


def instance_clock(conn: sqlite3.Connection, instance_id: str) -> float:
    """The latest moment a slot changed hands on this instance (a start, finish or cancel)."""
    value = meta_get(conn, f"clock:{instance_id}")
    return float(value) if value is not None else 0.0


def set_instance_clock(conn: sqlite3.Connection, instance_id: str, clock: float) -> None:
    if clock > instance_clock(conn, instance_id):
        meta_set(conn, f"clock:{instance_id}", repr(clock))


def list_executions(
    conn: sqlite3.Connection,
    instance_id: str,
    *,
    workflow_id: str | None,
    min_created: float | None,
    max_created: float | None,
) -> list[dict[str, Any]]:
    clauses: list[str] = ["instance_id = ?"]
    args: list[object] = [instance_id]
    if workflow_id is not None:
        clauses.append("workflow_id = ?")
        args.append(workflow_id)
    if min_created is not None:
        clauses.append("created_at >= ?")
        args.append(min_created)
    if max_created is not None:
        clauses.append("created_at <= ?")
        args.append(max_created)
    rows = conn.execute(
        f"SELECT doc FROM executions WHERE {' AND '.join(clauses)} "
        "ORDER BY created_at DESC, execution_id",
        args,
    ).fetchall()
    return [dict(json.loads(r[0])) for r in rows]


def count_adhoc_since(conn: sqlite3.Connection, instance_id: str, since: float) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM executions WHERE instance_id = ? AND created_at >= ? "
        "AND json_extract(doc, '$.adhoc') = 1 AND json_extract(doc, '$.dry_run') = 0",
        (instance_id, since),
    ).fetchone()
    return int(row[0])


def count_executions(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM executions").fetchone()[0])
