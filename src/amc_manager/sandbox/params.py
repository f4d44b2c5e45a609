"""CUSTOM_PARAMETER and BUILT_IN_PARAMETER: workflow parameters turned into SQL literals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from amc_manager.sandbox.dialect import AMC, CompileError, invalid


@dataclass(frozen=True)
class InputParameter:
    """A declared workflow parameter; `data_type` is an AMC type or "ARRAY<STRING>" style."""

    name: str
    data_type: str
    default_value: object | None = None


_INTEGER_TYPES = {"LONG", "INTEGER", "INT", "SHORT", "BYTE", "BIGINT", "SMALLINT", "TINYINT"}
_FLOAT_TYPES = {"DOUBLE", "FLOAT"}
_MISSING = object()
# Element types for an empty array literal, which has no values to infer its type from.
_SQL_TYPES = {"DECIMAL": "DECIMAL(38, 4)", "INTEGER": "INT", "CALENDAR_INTERVAL": "STRING"}


def element_type(data_type: str) -> tuple[bool, str]:
    """(is_array, element type) of a declared type such as "LONG" or "ARRAY<STRING>"."""
    text = data_type.strip().upper().replace(" ", "")
    if text.startswith("ARRAY<") and text.endswith(">"):
        return True, text[len("ARRAY<") : -1]
    if text == "ARRAY":
        return True, "STRING"
    return False, text


def scalar_literal(data_type: str, value: object) -> exp.Expr:
    """The SQL literal for one value of an AMC scalar type; ValueError if it does not fit."""
    if value is None:
        return exp.null()
    if data_type in _INTEGER_TYPES:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return exp.Literal.number(int(str(value).strip()) if isinstance(value, str) else value)
    if data_type in _FLOAT_TYPES:
        return exp.Literal.number(repr(float(str(value))))
    if data_type == "DECIMAL":
        return exp.cast(exp.Literal.string(str(_decimal(value))), "DECIMAL(38, 4)")
    if data_type == "BOOLEAN":
        return exp.Boolean(this=_boolean(value))
    if data_type == "DATE":
        return exp.cast(exp.Literal.string(date.fromisoformat(str(value)).isoformat()), "DATE")
    if data_type == "TIMESTAMP":
        moment = datetime.fromisoformat(str(value).replace("Z", ""))
        return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")
    return exp.Literal.string(str(value))


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(value) from None


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(value)
    return text == "true"


def array_values(value: object) -> list[object]:
    """The elements of an array parameter given as a list or a JSON array text."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list | tuple):
        raise ValueError(value)
    return list(value)


@dataclass(frozen=True)
class ParameterContext:
    """What parameter references resolve against while compiling one workflow."""

    workflow_id: str
    declared: Mapping[str, InputParameter]
    values: Mapping[str, object]
    window_start: datetime
    window_end: datetime
    time_zone: str


def substitute_parameters(query: exp.Query, context: ParameterContext) -> exp.Query:
    """Replace every CUSTOM_PARAMETER / BUILT_IN_PARAMETER call with literals, in place."""
    for call in list(query.find_all(exp.Anonymous)):
        name = str(call.this).upper()
        if name == "CUSTOM_PARAMETER":
            _replace_custom(call, context)
        elif name == "BUILT_IN_PARAMETER":
            call.replace(_built_in(call, context))
    return query


def _parameter_name(call: exp.Anonymous, context: ParameterContext) -> str:
    arguments = call.expressions
    if len(arguments) != 1 or not isinstance(arguments[0], exp.Literal):
        raise invalid(
            context.workflow_id,
            f"{str(call.this).upper()} takes one string literal, the parameter name",
            call,
        )
    return str(arguments[0].this)


def _built_in(call: exp.Anonymous, context: ParameterContext) -> exp.Expr:
    name = _parameter_name(call, context).upper()
    if name == "TIME_WINDOW_START":
        return scalar_literal("TIMESTAMP", context.window_start.isoformat())
    if name == "TIME_WINDOW_END":
        return scalar_literal("TIMESTAMP", context.window_end.isoformat())
    if name in ("TIME_WINDOW_TIME_ZONE", "TIME_ZONE"):
        return exp.Literal.string(context.time_zone)
    raise invalid(context.workflow_id, f"Unknown built-in parameter '{name}'", call)


def _replace_custom(call: exp.Anonymous, context: ParameterContext) -> None:
    name = _parameter_name(call, context)
    declared = context.declared.get(name)
    if declared is None:
        raise CompileError(
            f"Was unable to compile workflow {context.workflow_id} because it was found to be "
            f"invalid: {_operation(call)} referenced an undeclared parameter {name}."
        )
    value = context.values.get(name, _MISSING)
    if value is _MISSING:
        value = declared.default_value
        if value is None:
            raise invalid(
                context.workflow_id,
                f"Parameter {name} has no value: it declares no defaultValue and none was "
                "given in parameterValues",
                call,
            )
    is_array, element = element_type(declared.data_type)
    try:
        if is_array:
            _replace_array(call, element, None if value is None else array_values(value))
        else:
            call.replace(scalar_literal(element, value))
    except (ValueError, TypeError):
        raise invalid(
            context.workflow_id,
            f"Value {value!r} of parameter {name} is not a valid {declared.data_type}",
            call,
        ) from None


def _replace_array(call: exp.Anonymous, element: str, values: list[object] | None) -> None:
    if values is None:
        call.replace(exp.null())
        return
    literals = [scalar_literal(element, v) for v in values]
    parent = call.parent
    if isinstance(parent, exp.In) and call.arg_key == "expressions":
        # `x IN (CUSTOM_PARAMETER('list'))` reads as membership in the list's elements.
        others = [e for e in parent.expressions if e is not call]
        members = others + literals
        if members:
            parent.set("expressions", members)
        else:
            parent.replace(exp.false())
        return
    if literals:
        call.replace(exp.Array(expressions=literals))
    else:
        array_type = exp.DataType.build(f"ARRAY<{_SQL_TYPES.get(element, element)}>", dialect=AMC)
        call.replace(exp.cast(exp.Array(expressions=[]), array_type))


def _operation(call: exp.Expr) -> str:
    """How AMC's planner names the operation a parameter reference sits in."""
    clause = call.find_ancestor(exp.Where, exp.Having, exp.Join, exp.Group, exp.Select)
    if isinstance(clause, exp.Where | exp.Having | exp.Join):
        return "Filter operation filter_operation"
    if isinstance(clause, exp.Group):
        return "Aggregate operation aggregate_operation"
    return "Project operation project_operation"
