"""Typed values the store hands out: execution states, outcomes, users, API tokens, instances,
executions, events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from amc_manager.client.identity import AccountRef, InstanceRef, Region


class ExecutionState(StrEnum):
    """Our state of an execution (contracts.md); AMC's own status is kept beside it."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    PENDING = "pending"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


S = ExecutionState
# Occupying one of AMC's running slots (what the per-instance and per-account limits count).
ACTIVE_STATES: tuple[ExecutionState, ...] = (S.SUBMITTING, S.PENDING, S.RUNNING)
# Waiting at AMC: what status tracking polls.
TRACKED_STATES: tuple[ExecutionState, ...] = (S.PENDING, S.RUNNING)
OPEN_STATES: tuple[ExecutionState, ...] = (
    S.QUEUED,
    S.SUBMITTING,
    S.PENDING,
    S.RUNNING,
    S.DOWNLOADING,
)
TERMINAL_STATES: tuple[ExecutionState, ...] = (S.SUCCEEDED, S.FAILED, S.CANCELLED, S.REJECTED)

# The state machine, written once: the store refuses any other change of state.
#   queued -> submitting -> pending -> running -> downloading -> succeeded
#   submitting -> queued (AMC's quota said "later"); open -> failed | cancelled | rejected
TRANSITIONS: Mapping[ExecutionState, frozenset[ExecutionState]] = {
    S.QUEUED: frozenset({S.SUBMITTING, S.FAILED, S.CANCELLED}),
    S.SUBMITTING: frozenset(
        {S.QUEUED, S.PENDING, S.RUNNING, S.DOWNLOADING, S.FAILED, S.CANCELLED, S.REJECTED}
    ),
    S.PENDING: frozenset({S.RUNNING, S.DOWNLOADING, S.FAILED, S.CANCELLED, S.REJECTED}),
    S.RUNNING: frozenset({S.DOWNLOADING, S.FAILED, S.CANCELLED, S.REJECTED}),
    S.DOWNLOADING: frozenset({S.SUCCEEDED, S.FAILED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}


def allowed(current: ExecutionState, target: ExecutionState) -> bool:
    """Staying in a state (AMC's status changed within it) is always allowed while open."""
    return target in TRANSITIONS[current] or (target == current and not current.terminal)


def sources(target: ExecutionState) -> frozenset[ExecutionState]:
    """Every state from which `target` may be reached."""
    return frozenset(s for s in ExecutionState if allowed(s, target))


class FailureKind(StrEnum):
    """Why a `failed` execution failed; front ends decide by this, never by the error text."""

    REFUSED = "refused"  # AMC refused the request at submission: invalid SQL or request (exit 2)
    FAILED = "failed"  # accepted, then failed at AMC
    LOST_ACCESS = "lost_access"  # AMC refused the credentials or the instance


@dataclass(frozen=True)
class InstanceRow:
    """An AMC instance as stored: internal id beside AMC's, with its account."""

    id: str
    instance_id: str
    name: str | None
    api_endpoint: str | None
    account_pk: str
    entity_id: str
    marketplace_id: str
    region: str

    def ref(self) -> InstanceRef:
        account = AccountRef(self.entity_id, self.marketplace_id, Region(self.region))
        return InstanceRef(self.instance_id, account, self.api_endpoint)

    @classmethod
    def from_row(cls, row: Any) -> InstanceRow:
        m = row._mapping
        return cls(
            id=m["id"],
            instance_id=m["instance_id"],
            name=m["name"],
            api_endpoint=m["api_endpoint"],
            account_pk=m["account_id"],
            entity_id=m["entity_id"],
            marketplace_id=m["marketplace_id"],
            region=m["region"],
        )


@dataclass(frozen=True)
class NewExecution:
    """What `Store.add_execution` needs to queue a run; the store fills in the rest."""

    user_id: str
    instance_id: str
    adhoc: bool
    time_window_type: str
    time_zone: str
    sql: str | None = None
    sql_hash: str | None = None
    workflow_id: str | None = None
    time_window_start: str | None = None
    time_window_end: str | None = None
    input_parameters: list[dict[str, Any]] = field(default_factory=list)
    parameter_values: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    request_hash: str | None = None
    collection_id: str | None = None  # the collection whose cell this run is


@dataclass(frozen=True)
class StoredResult:
    """A succeeded execution's result file and what was learnt while writing it."""

    row_count: int
    path: str | None = None
    columns: list[dict[str, Any]] | None = None
    checksum: str | None = None
    advice: str | None = None


@dataclass(frozen=True)
class ExecutionRow:
    """One row of `workflow_executions` (see schema.py for the meaning of each field)."""

    id: str
    user_id: str
    instance_id: str
    state: ExecutionState
    amc_status: str | None
    amc_execution_id: str | None
    workflow_id: str | None
    adhoc: bool
    sql: str | None
    sql_hash: str | None
    input_parameters: list[dict[str, Any]]
    parameter_values: dict[str, Any]
    time_window_type: str
    time_window_start: str | None
    time_window_end: str | None
    time_zone: str
    options: dict[str, Any]
    nonce: str
    submit_started_at: float | None
    submitted_at: float | None
    lease_owner: str | None
    lease_expires_at: float | None
    next_check_at: float
    attempts: int
    error: str | None
    advice: str | None
    row_count: int | None
    result_path: str | None
    result_columns: list[dict[str, Any]] | None
    result_checksum: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    failure_kind: FailureKind | None
    idempotency_key: str | None = None
    request_hash: str | None = None
    collection_id: str | None = None

    @property
    def terminal(self) -> bool:
        return self.state.terminal

    @property
    def last_wait(self) -> float:
        """How long the run was put off when it was last released (at `updated_at`, due at
        `next_check_at`)."""
        return self.next_check_at - self.updated_at

    @classmethod
    def from_row(cls, row: Any) -> ExecutionRow:
        m = row._mapping
        kind = m["failure_kind"]
        return cls(
            id=m["id"],
            user_id=m["user_id"],
            instance_id=m["instance_id"],
            state=ExecutionState(m["state"]),
            amc_status=m["amc_status"],
            amc_execution_id=m["amc_execution_id"],
            workflow_id=m["workflow_id"],
            adhoc=bool(m["adhoc"]),
            sql=m["sql"],
            sql_hash=m["sql_hash"],
            input_parameters=list(m["input_parameters"] or []),
            parameter_values=dict(m["parameter_values"] or {}),
            time_window_type=m["time_window_type"],
            time_window_start=m["time_window_start"],
            time_window_end=m["time_window_end"],
            time_zone=m["time_zone"],
            options=dict(m["options"] or {}),
            nonce=m["nonce"],
            submit_started_at=m["submit_started_at"],
            submitted_at=m["submitted_at"],
            lease_owner=m["lease_owner"],
            lease_expires_at=m["lease_expires_at"],
            next_check_at=float(m["next_check_at"]),
            attempts=int(m["attempts"]),
            error=m["error"],
            advice=m["advice"],
            row_count=m["row_count"],
            result_path=m["result_path"],
            result_columns=m["result_columns"],
            result_checksum=m["result_checksum"],
            created_at=float(m["created_at"]),
            updated_at=float(m["updated_at"]),
            finished_at=m["finished_at"],
            failure_kind=None if kind is None else FailureKind(kind),
            idempotency_key=m["idempotency_key"],
            request_hash=m["request_hash"],
            collection_id=m.get("collection_id"),
        )


@dataclass(frozen=True)
class ExecutionEvent:
    """One change in an execution's timeline: the state (and AMC's status) it reached, when."""

    execution_id: str
    state: ExecutionState
    amc_status: str | None
    at: float
    note: str | None

    @classmethod
    def from_row(cls, row: Any) -> ExecutionEvent:
        m = row._mapping
        return cls(
            execution_id=m["execution_id"],
            state=ExecutionState(m["state"]),
            amc_status=m["amc_status"],
            at=float(m["at"]),
            note=m["note"],
        )


class Role(StrEnum):
    """What a user may do beyond their instances: admins see everything and grant access."""

    ADMIN = "admin"
    MEMBER = "member"


class Access(StrEnum):
    """Why a user sees an instance: they connected its account, an admin granted it, or they
    are an admin (who sees every instance but runs work only where connected or granted)."""

    CONNECTED = "connected"
    GRANTED = "granted"
    ADMIN = "admin"

    @property
    def may_run(self) -> bool:
        return self != Access.ADMIN


@dataclass(frozen=True)
class UserRow:
    """One row of `users` (the password hash stays in the application layer)."""

    id: str
    email: str
    role: Role
    password_hash: str | None
    disabled: bool
    session_epoch: int
    created_at: float

    @classmethod
    def from_row(cls, row: Any) -> UserRow:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> UserRow:
        return cls(
            id=m["id"],
            email=m["email"],
            role=Role(m["role"]),
            password_hash=m["password_hash"],
            disabled=bool(m["disabled"]),
            session_epoch=int(m["session_epoch"]),
            created_at=float(m["created_at"]),
        )


@dataclass(frozen=True)
class ApiTokenRow:
    """One API token as stored: its SHA-256, never the token."""

    id: str
    user_id: str
    name: str | None
    token_hash: str
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> ApiTokenRow:
        m = row._mapping
        return cls(
            id=m["id"],
            user_id=m["user_id"],
            name=m["name"],
            token_hash=m["token_hash"],
            created_at=float(m["created_at"]),
            expires_at=m["expires_at"],
            last_used_at=m["last_used_at"],
            revoked_at=m["revoked_at"],
        )
