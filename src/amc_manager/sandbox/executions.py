"""Workflow executions: the create request's rules (amc-api.md 3.2) and the object (3.3)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as _compute

from amc_manager.catalogue import DATA_LAG, Catalogue
from amc_manager.sandbox import timewindow as tw
from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.errors import BadRequest
from amc_manager.sandbox.query import (
    CompiledQueries,
    CompileError,
    QueryRequest,
    QueryRuntimeError,
    WindowSource,
)
from amc_manager.sandbox.workflows import (
    check_output_names,
    check_workflow,
    input_parameters,
    privacy_options,
)

# pyarrow-stubs type compute kernels narrower than Arrow accepts.
pc: Any = _compute

Doc = dict[str, Any]
DEFAULT_TIMEOUT = 21600
_KNOWN = frozenset(
    {
        "workflowId",
        "workflow",
        "timeWindowType",
        "timeWindowStart",
        "timeWindowEnd",
        "timeWindowTimeZone",
        "parameterValues",
        "workflowExecutionTimeoutSeconds",
        "dryRun",
        "ignoreDataGaps",
        "skipPublish",
        "requireSyntheticData",
        "disableAggregationControls",
        "advertisers",
        "maxCertifiedTime",
        "maxDimensionTime",
    }
)
_REFUSED = {
    "additionalAcrResultsReceivers": "additionalAcrResultsReceivers is only valid for Clean "
    "Rooms instances.",
}
ADVERTISER_TYPES = ("DISPLAY", "SPONSORED_ADS", "SAS")
# AMC's integral and floating types each compare as one when outputColumns are checked.
_TYPE_FAMILY = {
    "BYTE": "INTEGRAL",
    "SHORT": "INTEGRAL",
    "INTEGER": "INTEGRAL",
    "LONG": "INTEGRAL",
    "FLOAT": "FLOATING",
    "DOUBLE": "FLOATING",
}
OVERLAP_MESSAGE = (
    'Execution "{execution}" of workflow "{workflow}" could not be run because too many '
    "workflows have already been run against the same input data sources in the same or "
    "overlapping time windows."
)


def amc_type(data_type: pa.DataType) -> str:
    """AMC's name for a result column's Arrow type (text for anything AMC has no name for)."""
    checks = (
        (pa.types.is_boolean, "BOOLEAN"),
        (pa.types.is_int8, "BYTE"),
        (pa.types.is_int16, "SHORT"),
        (pa.types.is_int32, "INTEGER"),
        (pa.types.is_integer, "LONG"),
        (pa.types.is_float32, "FLOAT"),
        (pa.types.is_floating, "DOUBLE"),
        (pa.types.is_decimal, "DECIMAL"),
        (pa.types.is_date, "DATE"),
        (pa.types.is_timestamp, "TIMESTAMP"),
        (pa.types.is_binary, "BINARY"),
    )
    return next((name for check, name in checks if check(data_type)), "STRING")


def _flag(body: Doc, key: str) -> bool:
    """Booleans; a real pipeline sends `"true"` strings, which AMC accepts."""
    value = body.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"Invalid {key}: '{value}' is not a boolean.")


def _timeout(body: Doc) -> int:
    value = body.get("workflowExecutionTimeoutSeconds", DEFAULT_TIMEOUT)
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid workflowExecutionTimeoutSeconds: '{value}'.") from None
    if not 900 <= seconds <= 86400:
        raise BadRequest("workflowExecutionTimeoutSeconds must be between 900 and 86400.")
    return seconds


def _window(body: Doc, now: datetime, retention_start: datetime) -> tuple[str, tw.Window]:
    kind = body.get("timeWindowType", "MOST_RECENT_DAY")
    if kind not in tw.WINDOW_TYPES:
        raise BadRequest(f"Invalid timeWindowType '{kind}'.")
    tz_name = body.get("timeWindowTimeZone", "UTC")
    if not isinstance(tz_name, str):
        raise BadRequest("timeWindowTimeZone must be an IANA time zone name.")
    has_bounds = "timeWindowStart" in body or "timeWindowEnd" in body
    if kind != "EXPLICIT":
        if has_bounds:
            raise BadRequest(
                "timeWindowStart and timeWindowEnd are only allowed with timeWindowType EXPLICIT."
            )
        return kind, tw.relative_window(kind, tz_name, now, retention_start)
    if "timeWindowStart" not in body or "timeWindowEnd" not in body:
        raise BadRequest("timeWindowType EXPLICIT requires both timeWindowStart and timeWindowEnd.")
    return kind, tw.explicit_window(body["timeWindowStart"], body["timeWindowEnd"], tz_name)


def _check_fields(body: Doc) -> None:
    for key in body:
        if key in _REFUSED:
            raise BadRequest(_REFUSED[key])
        if key not in _KNOWN:
            raise BadRequest(f"Unrecognized field '{key}' in workflow execution request.")
    if ("workflowId" in body) == ("workflow" in body):
        raise BadRequest("Exactly one of workflowId or workflow must be provided.")


def _advertisers(body: Doc) -> list[Doc] | None:
    """The advertisers an execution reads (None: all of the instance's), as AMC echoes them."""
    value = body.get("advertisers")
    if value is None:
        return None
    if not isinstance(value, list):
        raise BadRequest("advertisers must be a list of {id, type, marketplaceId} objects.")
    checked: list[Doc] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise BadRequest("Each advertisers entry needs an id and a type.")
        if item.get("type") not in ADVERTISER_TYPES:
            raise BadRequest(
                f"Invalid advertiser type '{item.get('type')}' for advertiser {item['id']}: "
                f"one of {', '.join(ADVERTISER_TYPES)}."
            )
        market = item.get("marketplaceId")
        if market is not None and not isinstance(market, str):
            raise BadRequest(f"Invalid marketplaceId for advertiser {item['id']}.")
        checked.append({"id": item["id"], "type": item["type"], "marketplaceId": market})
    return checked


def _data_versions(body: Doc, window: tw.Window) -> tuple[str | None, str | None]:
    """`maxCertifiedTime` and `maxDimensionTime` as UTC ISO instants (in the window's zone).

    A dimension time before the window's end is refused, as the spec says."""
    tz = tw.zone(window.time_zone)
    certified = dimension = None
    if body.get("maxCertifiedTime") is not None:
        local = tw.parse_local(body["maxCertifiedTime"], "maxCertifiedTime")
        certified = tw.local_to_utc(local, tz).isoformat()
    if body.get("maxDimensionTime") is not None:
        moment = tw.local_to_utc(tw.parse_local(body["maxDimensionTime"], "maxDimensionTime"), tz)
        if moment < window.end:
            raise BadRequest("maxDimensionTime cannot be earlier than the time window end.")
        dimension = moment.isoformat()
    return certified, dimension


@dataclass(frozen=True)
class CreateContext:
    """What a create needs besides the body: the instance, its saved workflow, the clock."""

    instance_id: str
    saved_workflow: Doc | None
    now: datetime
    retention_start: datetime


def build_execution(body: Doc, ctx: CreateContext, config: SandboxConfig) -> Doc:
    """Validate a create request and return the new execution's stored document.

    Raises BadRequest for anything AMC refuses synchronously; compile errors too, unless the
    config makes them surface later as a FAILED execution.
    """
    _check_fields(body)
    adhoc = "workflow" in body
    workflow = check_workflow(body["workflow"], adhoc=True) if adhoc else ctx.saved_workflow
    if workflow is None:
        raise BadRequest(f"Workflow with ID {body['workflowId']} does not exist.")
    synthetic = _flag(body, "requireSyntheticData")
    disable = _flag(body, "disableAggregationControls")
    if disable and not synthetic:
        raise BadRequest("disableAggregationControls is only allowed with requireSyntheticData.")
    kind, window = _window(body, ctx.now, ctx.retention_start)
    certified, dimension = _data_versions(body, window)
    values = body.get("parameterValues", {})
    if not isinstance(values, dict):
        raise BadRequest("parameterValues must be an object of parameter names to values.")
    execution_id = str(uuid.uuid4())
    workflow_id = workflow.get("workflowId") or f"transient_{uuid.uuid4()}"
    doc: Doc = {
        "execution_id": execution_id,
        "instance_id": ctx.instance_id,
        "workflow_id": workflow_id,
        "adhoc": adhoc,
        "workflow": {**workflow, "workflowId": workflow_id},
        "parameter_values": values,
        "time_window_type": kind,
        "window": _window_doc(window),
        "timeout_seconds": _timeout(body),
        "dry_run": _flag(body, "dryRun"),
        "ignore_data_gaps": _flag(body, "ignoreDataGaps"),
        "skip_publish": _flag(body, "skipPublish"),
        "require_synthetic_data": synthetic,
        "disable_aggregation_controls": disable,
        "data_gaps": tw.data_gaps(window, ctx.now),
        "advertisers": _advertisers(body),
        "max_certified_time": certified,
        "max_dimension_time": dimension,
        "status": "PENDING",
        "result": None,
    }
    _plan(doc, ctx.now, config)
    return doc


def _window_doc(window: tw.Window) -> Doc:
    return {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "start_original": window.start_original,
        "end_original": window.end_original,
        "time_zone": window.time_zone,
    }


def query_request(doc: Doc) -> QueryRequest:
    workflow = doc["workflow"]
    return QueryRequest(
        sql=workflow["sqlQuery"],
        workflow_id=doc["workflow_id"],
        window_start=datetime.fromisoformat(doc["window"]["start"]),
        window_end=datetime.fromisoformat(doc["window"]["end"]),
        time_zone=doc["window"]["time_zone"],
        input_parameters=input_parameters(workflow),
        parameter_values=doc["parameter_values"],
        privacy=privacy_options(workflow, doc["disable_aggregation_controls"]),
    )


def compile_error(doc: Doc, queries: CompiledQueries) -> str | None:
    """AMC's compile message for this execution's SQL, or None when it compiles.

    Records the tables the query reads, which the privacy-overlap rule compares, and when the
    query was validated.
    """
    try:
        compiled = queries.compile(query_request(doc))
        check_output_names(doc["workflow"], compiled.output_columns, doc["workflow_id"])
    except CompileError as exc:
        doc["tables"] = []
        return exc.details
    doc["tables"] = sorted(compiled.tables)
    doc["validated_at"] = doc["created_at"]
    return None


def data_time(doc: Doc) -> datetime:
    """The moment whose data the run reads: its creation, or an older `maxCertifiedTime`
    (the sandbox's data for a moment never changes, so replaying one is exact)."""
    created = datetime.fromtimestamp(float(doc["created_at"]), UTC).replace(tzinfo=None)
    certified = doc.get("max_certified_time")
    return min(created, datetime.fromisoformat(certified)) if certified else created


class _AdvertiserView:
    """The instance's data seen through an execution's `advertisers` list.

    Rows carry `advertiser_id` for Amazon DSP advertisers only; sponsored-ads (and SAS) rows
    have none there, so they stay when any non-DSP advertiser is listed."""

    def __init__(self, data: WindowSource, advertisers: list[Doc], catalogue: Catalogue) -> None:
        self._data = data
        self._catalogue = catalogue
        display = [a["id"] for a in advertisers if a["type"] == "DISPLAY"]
        self._ids = pa.array([int(i) for i in display if i.isdigit()], pa.int64())
        self._keep_unattributed = any(a["type"] != "DISPLAY" for a in advertisers)

    def window(
        self,
        table: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        columns: Iterable[str] | None = None,
    ) -> pa.Table:
        served = self._catalogue.table(table)
        if served is None or "advertiser_id" not in served.column_names:
            return self._data.window(table, start, end, now=now, columns=columns)
        wanted = None if columns is None else list(columns)
        read = None if wanted is None else [*dict.fromkeys([*wanted, "advertiser_id"])]
        rows = self._data.window(table, start, end, now=now, columns=read)
        ids = pc.cast(rows.column("advertiser_id"), pa.int64())
        keep = pc.fill_null(pc.is_in(ids, value_set=self._ids), False)
        if self._keep_unattributed:
            keep = pc.or_(keep, pc.is_null(ids))
        rows = rows.filter(keep)
        if wanted is None or "advertiser_id" in wanted:
            return rows
        return rows.drop_columns(["advertiser_id"])


def restricted(data: WindowSource, doc: Doc, catalogue: Catalogue) -> WindowSource:
    """`data` limited to the execution's advertisers, when it lists some."""
    advertisers = doc.get("advertisers")
    return _AdvertiserView(data, advertisers, catalogue) if advertisers else data


def output_columns(schema: pa.Schema) -> list[Doc]:
    """A result's columns as AMC's `outputColumns`: name and data type (with DECIMAL's
    precision and scale)."""
    columns: list[Doc] = []
    for field in schema:
        column: Doc = {"name": field.name, "dataType": amc_type(field.type)}
        if pa.types.is_decimal(field.type):
            column.update(dataTypePrecision=field.type.precision, dataTypeScale=field.type.scale)
        columns.append(column)
    return columns


def check_output_types(doc: Doc, schema: pa.Schema) -> None:
    """The workflow's declared `outputColumns` types against the result's; AMC checks them
    while compiling, the sandbox once the types are known (the run fails instead)."""
    declared = {c["name"].lower(): c["dataType"] for c in doc["workflow"].get("outputColumns", [])}
    for field in schema:
        wanted = declared.get(field.name.lower())
        actual = amc_type(field.type)
        if wanted is not None and _TYPE_FAMILY.get(wanted, wanted) != _TYPE_FAMILY.get(
            actual, actual
        ):
            raise QueryRuntimeError(
                f"Was unable to compile workflow {doc['workflow_id']} because it was found to be "
                f"invalid: output column {field.name} is {actual}, but outputColumns declares "
                f"{wanted}"
            )


def _plan(doc: Doc, now: datetime, config: SandboxConfig) -> None:
    """Fix the timeline at creation: when it may start, how long it runs, how it ends."""
    created = now.replace(tzinfo=UTC).timestamp()
    rng = random.Random(doc["execution_id"])
    low, high = config.duration_range()
    simulated = rng.uniform(low, high)
    ready = created
    if doc["data_gaps"] and not doc["ignore_data_gaps"]:
        window_end = datetime.fromisoformat(doc["window"]["end"])
        ready = (window_end + DATA_LAG).replace(tzinfo=UTC).timestamp()
    doc.update(created_at=created, updated_at=created, ready_at=ready)
    doc["outcome"], doc["outcome_reason"] = "SUCCEEDED", None
    if doc["dry_run"]:
        simulated = min(simulated, 1.0)
    elif simulated > doc["timeout_seconds"]:
        simulated = doc["timeout_seconds"]
        doc["outcome"] = "FAILED"
        doc["outcome_reason"] = (
            f"Workflow execution timed out after {doc['timeout_seconds']} seconds."
        )
    elif rng.random() < config.faults.execution_failure_rate:
        doc["outcome"] = "FAILED"
        doc["outcome_reason"] = "Internal error while running the workflow. Try again later."
    doc["run_seconds"] = config.scaled(simulated)


def mark_rejected(doc: Doc) -> None:
    doc["outcome"] = "REJECTED"
    doc["outcome_reason"] = OVERLAP_MESSAGE.format(
        execution=doc["execution_id"], workflow=doc["workflow_id"]
    )


def mark_compile_failure(doc: Doc, details: str) -> None:
    doc["outcome"] = "FAILED"
    doc["outcome_reason"] = details


def same_sources(a: Doc, b: Doc) -> bool:
    """AMC's overlap rule is about the input data sources, not the SQL's wording."""
    return bool(a.get("tables")) and a.get("tables") == b.get("tables")


def overlaps(a: Doc, b: Doc) -> bool:
    return bool(
        a["window"]["start"] < b["window"]["end"] and b["window"]["start"] < a["window"]["end"]
    )


def _instant(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return tw.format_utc(datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None))


def execution_json(doc: Doc, *, include_workflow: bool, bucket: str) -> Doc:
    """The flat WorkflowExecution object AMC returns (amc-api.md 3.3, 3.7)."""
    window = doc["window"]
    created = float(doc["created_at"])
    status = doc["status"]
    channel_status = {
        "SUCCEEDED": "AVAILABLE",
        "FAILED": "FAILED",
        "CANCELLED": "UNAVAILABLE",
        "REJECTED": "UNAVAILABLE",
    }.get(status, "PENDING")
    if doc["skip_publish"] or doc["dry_run"]:
        channel_status = "UNAVAILABLE" if status in ("SUCCEEDED",) else channel_status
    body: Doc = {
        "workflowExecutionId": doc["execution_id"],
        "workflowId": doc["workflow_id"],
        "status": status,
        "createTime": _instant(created),
        "lastUpdatedTime": _instant(float(doc["updated_at"])),
        "expireTime": _instant(created + 86400),
        "waitUntil": _instant(float(doc["ready_at"])),
        "executionCategory": "AD_HOC",
        "timeWindowType": doc["time_window_type"],
        "timeWindowStart": tw.format_utc(datetime.fromisoformat(window["start"])),
        "timeWindowEnd": tw.format_utc(datetime.fromisoformat(window["end"])),
        "timeWindowStartOriginal": window["start_original"],
        "timeWindowEndOriginal": window["end_original"],
        "timeWindowTimeZoneOriginal": window["time_zone"],
        "parameterValues": doc["parameter_values"],
        "dataGaps": doc["data_gaps"],
        "ignoreDataGaps": doc["ignore_data_gaps"],
        "disableAggregationControls": doc["disable_aggregation_controls"],
        "requireSyntheticData": doc["require_synthetic_data"],
        "workflowExecutionTimeoutSeconds": doc["timeout_seconds"],
        "invalidationOffsetSecs": 0,
        "outputS3URI": f"s3://{bucket}/workflow={doc['workflow_id']}/schedule=adhoc/",
        "outputChannels": [{"channel": {"type": "DOWNLOAD"}, "status": channel_status}],
    }
    body.update(_known_later(doc))
    if doc.get("advertisers"):
        body["advertisers"] = doc["advertisers"]
    if doc.get("status_reason"):
        body["statusReason"] = doc["status_reason"]
        body["outputChannels"][0]["statusReason"] = doc["status_reason"]
    if include_workflow:
        body["sqlQuery"] = doc["workflow"]["sqlQuery"]
    return body


def _known_later(doc: Doc) -> Doc:
    """Fields AMC adds as the execution goes: when the SQL was validated, when it started
    running, and the result's columns (declared by the workflow, else the result's own)."""
    fields: Doc = {}
    if doc.get("validated_at") is not None:
        fields["validatedTime"] = _instant(float(doc["validated_at"]))
    if doc.get("started_at") is not None:
        fields["executionTime"] = _instant(float(doc["started_at"]))
    declared = doc["workflow"].get("outputColumns")
    produced = (doc.get("result") or {}).get("output_columns")
    if declared or (produced is not None and doc["status"] == "SUCCEEDED"):
        fields["outputColumns"] = declared or produced
    return fields


def utc_day_start(now: datetime) -> float:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(tzinfo=UTC).timestamp()


def creation_bound(value: str, tz_name: str, field: str) -> float:
    local = tw.parse_local(value, field)
    moment = tw.local_to_utc(local, tw.zone(tz_name, "timeZone"))
    return moment.replace(tzinfo=UTC).timestamp()


def expire_seconds(config: SandboxConfig) -> int:
    return max(1, round(config.scaled(config.url_expiry_seconds)))


def result_age_ok(result: Doc | None, now: float, stale_after: float) -> bool:
    """A computing claim older than `stale_after` belongs to a dead process and may be retaken."""
    if not result or result.get("state") != "computing":
        return False
    return now - float(result.get("since", 0)) < stale_after
