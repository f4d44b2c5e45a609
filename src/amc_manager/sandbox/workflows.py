"""Workflow definitions: validation of the Workflow object and saved-workflow CRUD rules."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from amc_manager.catalogue import Catalogue
from amc_manager.sandbox.dialect import invalid_at
from amc_manager.sandbox.errors import BadRequest
from amc_manager.sandbox.query import (
    CompileError,
    InputParameter,
    PrivacyOptions,
    QueryRequest,
    compile_query,
)

WORKFLOW_ID = re.compile(r"^[A-Za-z0-9._-]+$")
DATA_TYPES = frozenset(
    "BINARY BOOLEAN BYTE CALENDAR_INTERVAL DATE DECIMAL DOUBLE FLOAT INTEGER LONG SHORT STRING "
    "TIMESTAMP".split()
)
_KNOWN_FIELDS = frozenset(
    {
        "workflowId",
        "sqlQuery",
        "inputParameters",
        "filteredMetricsDiscriminatorColumn",
        "distinctUserCountColumn",
        "filteredReasonColumn",
        "privacyFilteringBehavior",
        "outputColumns",
        "outputFormat",
        # The schema unqualified table names resolve in; the sandbox has one (kept as given).
        "inputSchema",
        # Legacy operations; AMC uses sqlQuery when both are sent, as the sandbox does.
        "query",
    }
)
_DEFAULT_FORMAT = {"separatorCharacter": ",", "quoteCharacter": '"', "escapeCharacter": "\\"}


def check_workflow_id(value: object) -> str:
    if not isinstance(value, str) or not WORKFLOW_ID.match(value):
        raise BadRequest(
            f"Invalid workflowId '{value}': use letters, digits, '.', '-' and '_' only."
        )
    return value


def _check_input_parameter(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise BadRequest("Each inputParameters entry needs a name and a dataType.")
    data_type = raw.get("dataType")
    if isinstance(data_type, dict):
        element = data_type.get("elementDataType")
        if data_type.get("type") != "ARRAY" or element not in DATA_TYPES:
            raise BadRequest(f"Invalid dataType for input parameter {raw['name']}.")
    elif data_type not in DATA_TYPES:
        raise BadRequest(f"Invalid dataType '{data_type}' for input parameter {raw['name']}.")
    column_type = raw.get("columnType", "DIMENSION")
    if column_type not in ("DIMENSION", "METRIC"):
        raise BadRequest(f"Invalid columnType '{column_type}' for input parameter {raw['name']}.")
    return dict(raw)


def _check_output_format(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise BadRequest(
            "outputFormat must be an object with separatorCharacter, quoteCharacter "
            "and escapeCharacter."
        )
    merged = {**_DEFAULT_FORMAT, **value}
    for key, char in merged.items():
        if key not in _DEFAULT_FORMAT or not isinstance(char, str) or len(char) != 1:
            raise BadRequest(f"Invalid outputFormat.{key}: a single character is required.")
    return merged


def _check_output_column(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise BadRequest("Each outputColumns entry needs a name and a dataType.")
    name = raw["name"]
    if raw.get("dataType") not in DATA_TYPES:
        raise BadRequest(f"Invalid dataType '{raw.get('dataType')}' for output column {name}.")
    if raw.get("columnType", "DIMENSION") not in ("DIMENSION", "METRIC"):
        raise BadRequest(f"Invalid columnType '{raw['columnType']}' for output column {name}.")
    for key in ("dataTypePrecision", "dataTypeScale"):
        if key in raw and not (isinstance(raw[key], int) and raw[key] >= 0):
            raise BadRequest(f"Invalid {key} for output column {raw['name']}.")
    return dict(raw)


def check_workflow(body: object, *, adhoc: bool) -> dict[str, Any]:
    """Validate a Workflow object and return it normalised (ad-hoc ids may be absent)."""
    if not isinstance(body, dict):
        raise BadRequest("The workflow must be a JSON object.")
    for key in body:
        if key not in _KNOWN_FIELDS:
            raise BadRequest(f"Unrecognized field '{key}' in workflow.")
    if not adhoc or "workflowId" in body:
        check_workflow_id(body.get("workflowId"))
    sql = body.get("sqlQuery")
    if not isinstance(sql, str) or not sql.strip():
        if "query" in body:
            raise BadRequest("The legacy 'query' operations list is not supported; send sqlQuery.")
        raise BadRequest("sqlQuery is required.")
    schema = body.get("inputSchema")
    if schema is not None and not isinstance(schema, str):
        raise BadRequest("inputSchema must be a schema name.")
    params = body.get("inputParameters", [])
    if not isinstance(params, list) or len(params) > 100:
        raise BadRequest("inputParameters must be a list of at most 100 parameters.")
    outputs = body.get("outputColumns", [])
    if not isinstance(outputs, list) or len(outputs) > 100:
        raise BadRequest("outputColumns must be a list of at most 100 columns.")
    behaviour = body.get("privacyFilteringBehavior", "REMOVE_ROWS")
    if behaviour not in ("REMOVE_ROWS", "REMOVE_VALUES"):
        raise BadRequest(f"Invalid privacyFilteringBehavior '{behaviour}'.")
    normalised = dict(body)
    normalised["inputParameters"] = [_check_input_parameter(p) for p in params]
    if outputs:
        normalised["outputColumns"] = [_check_output_column(c) for c in outputs]
    if "outputFormat" in body:
        normalised["outputFormat"] = _check_output_format(body["outputFormat"])
    return normalised


def input_parameters(workflow: dict[str, Any]) -> tuple[InputParameter, ...]:
    result = []
    for raw in workflow.get("inputParameters", []):
        data_type = raw["dataType"]
        if isinstance(data_type, dict):
            data_type = f"ARRAY<{data_type['elementDataType']}>"
        result.append(InputParameter(raw["name"], data_type, raw.get("defaultValue")))
    return tuple(result)


def privacy_options(workflow: dict[str, Any], disable_controls: bool) -> PrivacyOptions:
    return PrivacyOptions(
        filtered_metrics_discriminator_column=workflow.get("filteredMetricsDiscriminatorColumn"),
        distinct_user_count_column=workflow.get("distinctUserCountColumn"),
        filtered_reason_column=workflow.get("filteredReasonColumn"),
        privacy_filtering_behavior=workflow.get("privacyFilteringBehavior", "REMOVE_ROWS"),
        disable_aggregation_controls=disable_controls,
    )


_PLACEHOLDERS: dict[str, object] = {
    "STRING": "x",
    "DATE": "2024-01-01",
    "TIMESTAMP": "2024-01-01T00:00:00",
    "BOOLEAN": True,
}


def _placeholder(data_type: str) -> object:
    if data_type.startswith("ARRAY<"):
        return [_placeholder(data_type[6:-1])]
    return _PLACEHOLDERS.get(data_type, 1)


def compile_saved(workflow: dict[str, Any], now: datetime, catalogue: Catalogue) -> None:
    """AMC compiles a workflow when it is saved; parameter values come later, so declared
    parameters without a default compile against a placeholder of their type."""
    params = input_parameters(workflow)
    values = {p.name: _placeholder(p.data_type) for p in params if p.default_value is None}
    end = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    request = QueryRequest(
        sql=workflow["sqlQuery"],
        workflow_id=workflow["workflowId"],
        window_start=end - timedelta(days=1),
        window_end=end,
        input_parameters=params,
        parameter_values=values,
        privacy=privacy_options(workflow, False),
    )
    try:
        compiled = compile_query(request, catalogue)
        check_output_names(workflow, compiled.output_columns, workflow["workflowId"])
    except CompileError as exc:
        raise BadRequest(exc.details) from None


def check_output_names(workflow: dict[str, Any], names: Sequence[str], workflow_id: str) -> None:
    """A workflow that declares `outputColumns` compiles only when the query's output has
    exactly those columns, in that order (the privacy columns the workflow adds may be listed
    too). Types are compared once the result exists (executions.check_output_types)."""
    declared = [str(c["name"]) for c in workflow.get("outputColumns", [])]
    if not declared:
        return
    extras = [
        workflow.get(key)
        for key in (
            "filteredMetricsDiscriminatorColumn",
            "distinctUserCountColumn",
            "filteredReasonColumn",
        )
    ]
    accepted = [list(names), [*names, *(str(e) for e in extras if e)]]
    if [d.lower() for d in declared] not in [[n.lower() for n in a] for a in accepted]:
        raise invalid_at(
            workflow_id,
            f"The query's output columns ({', '.join(names)}) do not match the declared "
            f"outputColumns ({', '.join(declared)})",
            None,
        )
