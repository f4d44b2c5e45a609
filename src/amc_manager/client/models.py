"""Typed views of AMC's answers and the create-execution request (amc-api.md 3.1-3.6).

Every model keeps fields it does not know (`extra="allow"`) and accepts AMC's flat shapes as
well as the spec's wrapped ones (`unwrap`). Fields whose format no source pins down are parsed
leniently, so an unexpected spelling never makes a whole answer unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from amc_manager.client.errors import (
    AmcError,
    ExecutionFailed,
    ExecutionRejected,
    ValidationError,
)
from amc_manager.client.identity import (
    AccountRef,
    Region,
    region_for_endpoint,
    region_for_marketplace,
)

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"})
# AMC's compile failures, whether refused at create (400) or reported later (FAILED).
COMPILE_FAILURE = "Was unable to compile workflow "
_POSITION = re.compile(r"From line (\d+), column (\d+)")


def _lenient_time(value: object) -> datetime | None:
    """An instant in AMC's `…Z` form, ISO 8601, or epoch seconds/milliseconds; else None."""
    if isinstance(value, datetime) or value is None:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


LenientTime = Annotated[datetime | None, BeforeValidator(_lenient_time)]


def compile_position(details: str | None) -> tuple[int, int] | None:
    """(line, column) of an AMC compile message that gives one (Calcite's wording)."""
    found = _POSITION.search(details or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Account(_Model):
    """An AMC account as `GET /amc/accounts` lists it; its marketplace gives its region."""

    account_id: str = Field(alias="accountId")
    account_name: str | None = Field(None, alias="accountName")
    marketplace_id: str = Field(alias="marketplaceId")

    @field_validator("account_id", "marketplace_id")
    @classmethod
    def _strip(cls, value: str) -> str:
        # Amazon's own sample carries a trailing space in an account id; headers must not.
        return value.strip()

    @property
    def region(self) -> Region | None:
        """The region of the account's marketplace; None for a marketplace we do not know."""
        return region_for_marketplace(self.marketplace_id)

    def ref(self, fallback: Region) -> AccountRef:
        """The account as the client addresses it; `fallback` when the marketplace is unknown
        (the region whose host listed the account: AMC's hosts answer for every region)."""
        return AccountRef(self.account_id, self.marketplace_id, self.region or fallback)


class Instance(_Model):
    """An AMC instance as `GET /amc/instances` lists it (`GET /amc/instances/{id}` wraps it
    in `instance`)."""

    instance_id: str = Field(alias="instanceId")
    instance_name: str | None = Field(None, alias="instanceName")
    instance_type: str | None = Field(None, alias="instanceType")
    api_endpoint: str | None = Field(None, alias="apiEndpoint")
    creation_status: str | None = Field(None, alias="creationStatus")
    creation_time: LenientTime = Field(None, alias="creationDatetime")
    customer_canonical_name: str | None = Field(None, alias="customerCanonicalName")
    s3_bucket_name: str | None = Field(None, alias="s3BucketName")
    s3_bucket_region: str | None = Field(None, alias="s3BucketRegion")
    aws_account_id: str | None = Field(None, alias="awsAccountId")
    entities: list[str] = Field(default_factory=list)
    advertiser_types: list[str] = Field(default_factory=list, alias="advertiserTypes")

    @property
    def region(self) -> Region | None:
        """The region whose API host the instance's `apiEndpoint` names, if any."""
        return region_for_endpoint(self.api_endpoint)


class OutputColumn(_Model):
    """One result column as AMC declares it: name and AMC data type (`LONG`, `DECIMAL`, ...),
    with DECIMAL's precision and scale when given."""

    name: str
    data_type: str | None = Field(None, alias="dataType")
    precision: int | None = Field(None, alias="dataTypePrecision")
    scale: int | None = Field(None, alias="dataTypeScale")
    column_type: str | None = Field(None, alias="columnType")


class Execution(_Model):
    """A workflow execution, from the flat or the `workflowExecution`-wrapped shape."""

    execution_id: str = Field(alias="workflowExecutionId")
    workflow_id: str | None = Field(None, alias="workflowId")
    status: str
    status_reason: str | None = Field(None, alias="statusReason")
    create_time: datetime | None = Field(None, alias="createTime")
    last_updated_time: datetime | None = Field(None, alias="lastUpdatedTime")
    expire_time: LenientTime = Field(None, alias="expireTime")
    wait_until: LenientTime = Field(None, alias="waitUntil")
    validated_time: LenientTime = Field(None, alias="validatedTime")
    execution_time: LenientTime = Field(None, alias="executionTime")
    execution_category: str | None = Field(None, alias="executionCategory")
    time_window_start: datetime | None = Field(None, alias="timeWindowStart")
    time_window_end: datetime | None = Field(None, alias="timeWindowEnd")
    time_window_start_original: str | None = Field(None, alias="timeWindowStartOriginal")
    time_window_end_original: str | None = Field(None, alias="timeWindowEndOriginal")
    time_window_time_zone: str | None = Field(None, alias="timeWindowTimeZoneOriginal")
    parameter_values: dict[str, Any] = Field(default_factory=dict, alias="parameterValues")
    data_gaps: list[Any] = Field(default_factory=list, alias="dataGaps")
    timeout_seconds: int | None = Field(None, alias="workflowExecutionTimeoutSeconds")
    output_columns: list[OutputColumn] | None = Field(None, alias="outputColumns")
    sql_query: str | None = Field(None, alias="sqlQuery")

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def compile_failure(self) -> bool:
        """FAILED because AMC could not compile the SQL (reported late, after a 200 create)."""
        return self.status == "FAILED" and (self.status_reason or "").startswith(COMPILE_FAILURE)

    @property
    def error_position(self) -> tuple[int, int] | None:
        """(line, column) of a late compile failure, when AMC gave one."""
        return compile_position(self.status_reason) if self.compile_failure else None

    def outcome_error(self) -> AmcError | None:
        """The error a finished-but-unsuccessful execution stands for (None otherwise).

        A compile failure reported late carries the advice AMC's refusal at create does."""
        reason = self.status_reason or "no reason given"
        if self.status == "REJECTED":
            return ExecutionRejected(f"AMC rejected execution {self.execution_id}: {reason}")
        if self.status == "FAILED":
            hint = ValidationError.hint if self.compile_failure else None
            return ExecutionFailed(f"execution {self.execution_id} failed: {reason}", hint=hint)
        if self.status == "CANCELLED":
            return ExecutionFailed(
                f"execution {self.execution_id} was cancelled", hint="Submit it again if needed."
            )
        return None


class Workflow(_Model):
    """A saved workflow, flat as AMC answers it (the spec wraps it in `workflow`)."""

    workflow_id: str = Field(alias="workflowId")
    sql_query: str | None = Field(None, alias="sqlQuery")
    input_parameters: list[dict[str, Any]] = Field(default_factory=list, alias="inputParameters")
    output_columns: list[OutputColumn] | None = Field(None, alias="outputColumns")
    input_schema: str | None = Field(None, alias="inputSchema")
    filtered_metrics_discriminator_column: str | None = Field(
        None, alias="filteredMetricsDiscriminatorColumn"
    )
    distinct_user_count_column: str | None = Field(None, alias="distinctUserCountColumn")
    filtered_reason_column: str | None = Field(None, alias="filteredReasonColumn")


class DownloadUrls(_Model):
    download_urls: list[str] = Field(default_factory=list, alias="downloadUrls")
    metadata_download_urls: list[str] = Field(default_factory=list, alias="metadataDownloadUrls")
    next_token: str | None = Field(None, alias="nextToken")


class DataSource(_Model):
    data_source_id: str = Field(alias="dataSourceId")
    description: str | None = None
    columns: list[dict[str, Any]] = Field(default_factory=list)
    owner: str | None = None
    provider: str | None = None
    tags: list[dict[str, Any]] = Field(default_factory=list)


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
