"""Pydantic models of every request and response body (snake_case, the CLI's `--json` fields)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from amc_manager.service import Access, ExecutionState, FailureKind, Role

T = TypeVar("T")
JsonValue = Any


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, so a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first; `next_cursor` fetches the next (null: the last)."""

    items: list[T]
    next_cursor: str | None = None


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    disabled: bool
    has_password: bool
    created_at: str | None


class SessionIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    csrf_token: str
    user: UserOut


class InstanceOut(BaseModel):
    id: str = Field(description="Internal id.")
    instance_id: str = Field(description="AMC's instance id.")
    name: str | None
    account_id: str
    marketplace_id: str
    region: str
    access: Access


class DataSourceOut(BaseModel):
    name: str
    description: str | None = None
    columns: int


class DataSourceDetail(BaseModel):
    name: str
    columns: list[dict[str, JsonValue]]


class WindowIn(Strict):
    start: str | None = Field(None, max_length=40, description="As `amc run --start`.")
    end: str | None = Field(
        None, max_length=40, description="As `amc run --end` (a date-only end is inclusive)."
    )
    window: str | None = Field(None, max_length=40, description="e.g. MOST_RECENT_WEEK.")
    time_zone: str | None = Field(None, max_length=64, description="IANA name; default UTC.")


class ValidateIn(WindowIn):
    sql: str = Field(max_length=500_000)
    instance_id: str | None = Field(None, max_length=64)
    parameters: dict[str, JsonValue] | None = None


class ProblemItem(BaseModel):
    severity: Literal["error", "warning"]
    message: str
    hint: str | None
    line: int | None
    column: int | None


class WindowOut(BaseModel):
    type: str
    time_zone: str
    start: str | None
    end: str | None


class ValidateOut(BaseModel):
    problems: list[ProblemItem]
    window: WindowOut | None


class ExecutionIn(WindowIn):
    instance_id: str = Field(max_length=64)
    sql: str | None = Field(None, max_length=500_000)
    workflow_id: str | None = Field(None, max_length=200)
    parameters: dict[str, JsonValue] | None = None
    ignore_data_gaps: bool = False
    filtered_column: str | None = Field(None, max_length=200)
    timeout: int | None = Field(None, description="Seconds, 900-86400.")


class TimelineOut(BaseModel):
    state: ExecutionState
    amc_status: str | None
    at: str | None
    note: str | None


class ExecutionOut(BaseModel):
    id: str
    amc_execution_id: str | None
    instance_id: str
    state: ExecutionState
    amc_status: str | None
    workflow_id: str | None
    time_window_type: str
    time_window_start: str | None
    time_window_end: str | None
    time_zone: str
    parameters: dict[str, JsonValue]
    sql_hash: str | None
    created_at: str | None
    updated_at: str | None
    finished_at: str | None
    row_count: int | None
    error: str | None
    failure_kind: FailureKind | None
    collection_id: str | None = Field(None, description="The collection whose cell it is.")
    advice: str | None
    results_url: str | None = Field(description="Where the rows are, once it succeeded.")
    timeline: list[TimelineOut] | None = None


class CreatedExecution(ExecutionOut):
    warnings: list[ProblemItem] = Field(default_factory=list)


class ColumnOut(BaseModel):
    name: str
    type: str


class ResultPage(BaseModel):
    columns: list[ColumnOut]
    rows: list[list[JsonValue]]
    next_offset: int | None


class StateEvent(BaseModel):
    """The `data` of one `state` event."""

    id: str
    instance_id: str
    state: ExecutionState
    amc_status: str | None
    updated_at: str | None
    row_count: int | None = None
    error: str | None = None


class WorkflowIn(Strict):
    instance_id: str = Field(max_length=64)
    workflow_id: str = Field(min_length=1, max_length=200)
    sql: str = Field(max_length=500_000)


class WorkflowUpdate(Strict):
    instance_id: str = Field(max_length=64)
    sql: str = Field(max_length=500_000)


class WorkflowOut(BaseModel):
    workflow_id: str
    instance_id: str
    sql: str | None
    input_parameters: list[dict[str, JsonValue]]


class LibraryParameterOut(BaseModel):
    name: str
    type: str | None = None
    default: JsonValue = None
    required: bool | None = None


class LibraryEntryOut(BaseModel):
    name: str
    title: str | None = None
    question: str | None = None
    tables: list[str] = Field(default_factory=list)
    parameters: list[dict[str, JsonValue]] = Field(default_factory=list)


class LibraryEntryDetail(LibraryEntryOut):
    sql: str
    description: str | None = None


class TokenIn(Strict):
    name: str | None = Field(None, max_length=200)
    expires_in_days: float | None = Field(None, gt=0, le=3650)


class TokenOut(BaseModel):
    id: str
    name: str | None
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None


class CreatedToken(TokenOut):
    token: str = Field(description="Shown this once; only its hash is kept.")


class UserIn(Strict):
    email: str = Field(max_length=320)
    admin: bool = False
    password: str | None = Field(None, max_length=1024)


class UserPatch(Strict):
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(None, max_length=1024)


class GrantOut(BaseModel):
    instance_id: str
    user_id: str
    granted: bool = Field(description="false: there was nothing to change.")


class AuditOut(BaseModel):
    id: int
    at: str | None
    user_email: str
    token_owner: str | None
    instance_id: str | None
    operation: str
    kind: str
    method: str
    path: str
    status: int | None
    attempt: int
    duration: float
    error: str | None
    target: str | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    schema_revision: str | None
