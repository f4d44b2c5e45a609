"""Typed views of AMC's answers and the create-execution request (amc-api.md 3.1-3.6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from amc_manager.client.errors import AmcError, ExecutionFailed, ExecutionRejected
from amc_manager.client.identity import (
    AccountRef,
    Region,
    region_for_endpoint,
    region_for_marketplace,
)

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Account(_Model):
    """An AMC account as `GET /amc/accounts` lists it; its marketplace gives its region."""

    account_id: str = Field(alias="accountId")
    account_name: str | None = Field(None, alias="accountName")
    marketplace_id: str = Field(alias="marketplaceId")

    @property
    def region(self) -> Region | None:
        """The region of the account's marketplace; None for a marketplace we do not know."""
        return region_for_marketplace(self.marketplace_id)

    def ref(self, fallback: Region) -> AccountRef:
        """The account as the client addresses it; `fallback` when the marketplace is unknown
        (the region whose host listed the account: AMC's hosts answer for every region)."""
        return AccountRef(self.account_id, self.marketplace_id, self.region or fallback)


class Instance(_Model):
    instance_id: str = Field(alias="instanceId")
    instance_name: str | None = Field(None, alias="instanceName")
    instance_type: str | None = Field(None, alias="instanceType")
    api_endpoint: str | None = Field(None, alias="apiEndpoint")
    creation_status: str | None = Field(None, alias="creationStatus")
    entities: list[str] = Field(default_factory=list)

    @property
    def region(self) -> Region | None:
        """The region whose API host the instance's `apiEndpoint` names, if any."""
        return region_for_endpoint(self.api_endpoint)


class Execution(_Model):
    """A workflow execution, from the flat or the `workflowExecution`-wrapped shape."""

    execution_id: str = Field(alias="workflowExecutionId")
    workflow_id: str | None = Field(None, alias="workflowId")
    status: str
    status_reason: str | None = Field(None, alias="statusReason")
    create_time: datetime | None = Field(None, alias="createTime")
    last_updated_time: datetime | None = Field(None, alias="lastUpdatedTime")
    time_window_start: datetime | None = Field(None, alias="timeWindowStart")
    time_window_end: datetime | None = Field(None, alias="timeWindowEnd")
    time_window_start_original: str | None = Field(None, alias="timeWindowStartOriginal")
    time_window_end_original: str | None = Field(None, alias="timeWindowEndOriginal")
    time_window_time_zone: str | None = Field(None, alias="timeWindowTimeZoneOriginal")
    parameter_values: dict[str, Any] = Field(default_factory=dict, alias="parameterValues")
    data_gaps: list[Any] = Field(default_factory=list, alias="dataGaps")
    sql_query: str | None = Field(None, alias="sqlQuery")

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def outcome_error(self) -> AmcError | None:
        """The error a finished-but-unsuccessful execution stands for (None otherwise)."""
        reason = self.status_reason or "no reason given"
        if self.status == "REJECTED":
            return ExecutionRejected(f"AMC rejected execution {self.execution_id}: {reason}")
        if self.status == "FAILED":
            return ExecutionFailed(f"execution {self.execution_id} failed: {reason}")
        if self.status == "CANCELLED":
            return ExecutionFailed(
                f"execution {self.execution_id} was cancelled", hint="Submit it again if needed."
            )
        return None


class Workflow(_Model):
    workflow_id: str = Field(alias="workflowId")
    sql_query: str | None = Field(None, alias="sqlQuery")
    input_parameters: list[dict[str, Any]] = Field(default_factory=list, alias="inputParameters")


class DownloadUrls(_Model):
    download_urls: list[str] = Field(default_factory=list, alias="downloadUrls")
    metadata_download_urls: list[str] = Field(default_factory=list, alias="metadataDownloadUrls")


class DataSource(_Model):
    data_source_id: str = Field(alias="dataSourceId")
    description: str | None = None
    columns: list[dict[str, Any]] = Field(default_factory=list)


def unwrap(body: Any, key: str) -> Any:
    """AMC's spec wraps single objects (`{"workflowExecution": {...}}`); practice is flat."""
    if isinstance(body, dict) and isinstance(body.get(key), dict):
        return body[key]
    return body


@dataclass(frozen=True)
class ExecutionRequest:
    """Everything a create-execution call may carry; exactly one of `sql`/`workflow_id`.

    Windows: `start`/`end` are AMC local timestamps (`yyyy-MM-ddTHH:mm:ss`, no offset) and
    always go with `timeWindowType: EXPLICIT`; otherwise `window_type` names a relative window.
    """

    sql: str | None = None
    workflow_id: str | None = None
    start: str | None = None
    end: str | None = None
    window_type: str | None = None
    time_zone: str = "UTC"
    parameter_values: dict[str, Any] = field(default_factory=dict)
    input_parameters: list[dict[str, Any]] = field(default_factory=list)
    timeout_seconds: int | None = None
    dry_run: bool = False
    ignore_data_gaps: bool = False
    skip_publish: bool = False
    require_synthetic_data: bool = False
    disable_aggregation_controls: bool = False
    privacy: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.workflow_id is None):
            raise ValueError("an execution request needs exactly one of sql or workflow_id")
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end go together")
        if self.start is not None and self.window_type not in (None, "EXPLICIT"):
            raise ValueError("start and end only go with an EXPLICIT window")

    def body(self, sql: str | None = None) -> dict[str, Any]:
        """The JSON body; `sql` replaces the query text (the client adds its nonce there)."""
        body: dict[str, Any] = {}
        if self.workflow_id is not None:
            body["workflowId"] = self.workflow_id
        else:
            workflow: dict[str, Any] = {"sqlQuery": sql or self.sql, **self.privacy}
            if self.input_parameters:
                workflow["inputParameters"] = self.input_parameters
            body["workflow"] = workflow
        if self.start is not None:
            body.update(
                timeWindowType="EXPLICIT", timeWindowStart=self.start, timeWindowEnd=self.end
            )
        elif self.window_type is not None:
            body["timeWindowType"] = self.window_type
        body["timeWindowTimeZone"] = self.time_zone
        if self.parameter_values:
            body["parameterValues"] = self.parameter_values
        if self.timeout_seconds is not None:
            body["workflowExecutionTimeoutSeconds"] = self.timeout_seconds
        for key, value in (
            ("dryRun", self.dry_run),
            ("ignoreDataGaps", self.ignore_data_gaps),
            ("skipPublish", self.skip_publish),
            ("requireSyntheticData", self.require_synthetic_data),
            ("disableAggregationControls", self.disable_aggregation_controls),
        ):
            if value:
                body[key] = True
        return body
