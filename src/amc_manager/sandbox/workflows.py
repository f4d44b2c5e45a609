"""Workflow definitions: validation of the Workflow object and saved-workflow CRUD rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from amc_manager.catalogue import Catalogue
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
    }
)
# Documented fields the sandbox cannot honour: refused rather than silently ignored.
_REFUSED_FIELDS = {
    "inputSchema": "inputSchema is not supported by the sandbox; use unqualified table names.",
    "query": "The legacy 'query' operations list is not supported; send sqlQuery.",
}
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


def check_workflow(body: object, *, adhoc: bool) -> dict[str, Any]:
    """Validate a Workflow object and return it normalised (ad-hoc ids may be absent)."""
    if not isinstance(body, dict):
        raise BadRequest("The workflow must be a JSON object.")
    for key in body:
        if key in _REFUSED_FIELDS:
            raise BadRequest(_REFUSED_FIELDS[key])
        if key not in _KNOWN_FIELDS:
            raise BadRequest(f"Unrecognized field '{key}' in workflow.")
    if not adhoc or "workflowId" in body:
        check_workflow_id(body.get("workflowId"))
    sql = body.get("sqlQuery")
    if not isinstance(sql, str) or not sql.strip():
        raise BadRequest("sqlQuery is required.")
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
        compile_query(request, catalogue)
    except CompileError as exc:
        raise BadRequest(exc.details) from None
