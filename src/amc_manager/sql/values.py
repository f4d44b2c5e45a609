"""Parameter values as users give them (`--param`, `--param-json`, `--params-file`) and AMC types.

A value from `--param NAME=VALUE` is text, taken as is (`raw`); JSON values keep their JSON
types, numbers as exact Decimals. Nothing here judges a value's words: values are quoted or
sent as data, never scanned for keywords (lessons.md 9).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from amc_manager.errors import ParameterError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
AMC_TYPES = frozenset(
    "BINARY BOOLEAN BYTE CALENDAR_INTERVAL DATE DECIMAL DOUBLE FLOAT INTEGER LONG SHORT STRING "
    "TIMESTAMP".split()
)
_INTEGER_RANGES = {
    "BYTE": 2**7,
    "SHORT": 2**15,
    "INTEGER": 2**31,
    "LONG": 2**63,
}
_FLOATS = frozenset({"DOUBLE", "FLOAT"})
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


@dataclass(frozen=True)
class ParamValue:
    """One given value: `raw` when it came as text from `--param NAME=VALUE`."""

    name: str
    value: object
    raw: bool
    origin: str


@dataclass(frozen=True)
class ParamType:
    """An AMC parameter type: a scalar type or `ARRAY<element>`."""

    element: str
    is_array: bool = False

    def __str__(self) -> str:
        return f"ARRAY<{self.element}>" if self.is_array else self.element

    def amc_data_type(self) -> str | dict[str, str]:
        """The `dataType` of AMC's inputParameters entry (amc-api.md 3.1)."""
        if self.is_array:
            return {"type": "ARRAY", "elementDataType": self.element}
        return self.element


def parse_type(text: str) -> ParamType:
    """`LONG`, `array<string>`... as a ParamType; ValueError naming the allowed types."""
    upper = text.strip().upper()
    inner = upper[6:-1] if upper.startswith("ARRAY<") and upper.endswith(">") else None
    element = inner if inner is not None else upper
    if element not in AMC_TYPES:
        allowed = ", ".join(sorted(AMC_TYPES))
        raise ValueError(f"unknown type '{text}': use one of {allowed}, or ARRAY<TYPE>")
    return ParamType(element, inner is not None)


def load_json(text: str) -> object:
    """JSON with exact numbers (Decimal); NaN and Infinity refused. ValueError when invalid."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at character {exc.pos})") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number AMC accepts")


def describe(value: object) -> str:
    """A short, one-line description of a value for messages."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def coerce(value: object, ptype: ParamType, *, raw: bool) -> object:
    """The value as AMC's parameterValues carries it: scalars as strings (the spec's type),
    arrays as JSON arrays (numbers and booleans native, DECIMAL as exact strings).
    ValueError when it does not fit the type."""
    if ptype.is_array:
        items = load_json(value) if raw and isinstance(value, str) else value
        if not isinstance(items, list):
            raise ValueError(f"{describe(value)} is not a JSON array")
        return [_array_item(_scalar(item, ptype.element), ptype.element) for item in items]
    scalar = _scalar_text(value, ptype.element) if raw else _scalar(value, ptype.element)
    return _as_string(scalar)


def _array_item(value: object, element: str) -> object:
    if element in _INTEGER_RANGES or isinstance(value, bool):
        return value
    if element in _FLOATS and isinstance(value, Decimal):
        return float(value)
    return _as_string(value)


def _as_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scalar(value: object, element: str) -> object:
    """A JSON-typed value checked against a scalar AMC type."""
    if isinstance(value, list | dict) or value is None:
        raise ValueError(f"{describe(value)} is not a single {element} value")
    if isinstance(value, str):
        # AMC's parameterValues are strings (amc-api.md 3.2): text is read as the type.
        return _scalar_text(value, element)
    if isinstance(value, bool):
        if element == "BOOLEAN":
            return value
        raise ValueError(f"{describe(value)} is not a {element}")
    return _number(value, element)


def _number(value: object, element: str) -> object:
    if isinstance(value, float):
        value = _decimal_text(repr(value), element)
    if not isinstance(value, int | Decimal):
        raise ValueError(f"{describe(value)} is not a {element}")
    if element in _INTEGER_RANGES:
        if isinstance(value, Decimal) and value != value.to_integral_value():
            raise ValueError(f"{value} is not a whole number ({element})")
        return _in_range(int(value), element)
    if element in _FLOATS or element == "DECIMAL":
        return value
    raise ValueError(f"{describe(value)} is a number, not a {element}")


def _in_range(number: int, element: str) -> int:
    limit = _INTEGER_RANGES[element]
    if not -limit <= number < limit:
        raise ValueError(f"{number} is out of range for {element}")
    return number


def _scalar_text(text: object, element: str) -> object:
    """A text value read as a scalar AMC type (`--param` values, quoted JSON strings)."""
    if not isinstance(text, str):
        return _scalar(text, element)
    if element in ("STRING", "BINARY", "CALENDAR_INTERVAL"):
        return text
    stripped = text.strip()
    if element in _INTEGER_RANGES:
        if not _INTEGER_TEXT.fullmatch(stripped):
            raise ValueError(f"'{text}' is not a whole number ({element})")
        return _in_range(int(stripped), element)
    if element in _FLOATS or element == "DECIMAL":
        return _decimal_text(text, element)
    if element == "BOOLEAN":
        if stripped.lower() not in ("true", "false"):
            raise ValueError(f"'{text}' is not a BOOLEAN: use true or false")
        return stripped.lower() == "true"
    return _moment_text(stripped, element)


def _decimal_text(text: str, element: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number ({element})") from None
    if not number.is_finite():
        raise ValueError(f"'{text}' is not a finite number ({element})")
    return number


def _moment_text(text: str, element: str) -> str:
    pattern, form = (
        (_DATE_TEXT, "YYYY-MM-DD")
        if element == "DATE"
        else (_TIMESTAMP_TEXT, "YYYY-MM-DDTHH:MM:SS")
    )
    try:
        if not pattern.fullmatch(text):
            raise ValueError(text)
        if element == "DATE":
            date.fromisoformat(text)
        else:
            datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise ValueError(f"'{text}' is not a {element}: use {form}") from None
    return text


def read_values(
    params: Sequence[str] = (),
    param_json: Sequence[str] = (),
    params_file: Path | None = None,
) -> dict[str, ParamValue]:
    """Collect `--param`, `--param-json` and `--params-file` values; ParameterError when one is
    malformed or a name is given twice."""
    found: list[ParamValue] = [_text_param(item) for item in params]
    found += [_json_param(item) for item in param_json]
    if params_file is not None:
        found += _file_params(params_file)
    return _unique(found)


def _split(item: str, option: str) -> tuple[str, str]:
    name, equals, value = item.partition("=")
    if not equals or not NAME.fullmatch(name.strip()):
        raise ParameterError(
            f"{option} '{item}' is not NAME=VALUE",
            hint=f"write {option} name=value; names are letters, digits and _",
        )
    return name.strip(), value


def _text_param(item: str) -> ParamValue:
    name, value = _split(item, "--param")
    return ParamValue(name, value, raw=True, origin="--param")


def _json_param(item: str) -> ParamValue:
    name, text = _split(item, "--param-json")
    try:
        value = load_json(text)
    except ValueError as exc:
        raise ParameterError(
            f"--param-json {name}: {exc}",
            hint=f"""give JSON, e.g. --param-json {name}='["a", "b"]' or {name}=42""",
        ) from None
    return ParamValue(name, value, raw=False, origin="--param-json")


def _file_params(path: Path) -> list[ParamValue]:
    origin = f"--params-file {path}"
    try:
        data = load_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ParameterError(
            f"cannot read {origin}: {exc}", hint="give a UTF-8 JSON object of name: value"
        ) from None
    if not isinstance(data, dict):
        raise ParameterError(f"{origin} must hold a JSON object", hint='write {"name": value, ...}')
    return [ParamValue(str(name), value, raw=False, origin=origin) for name, value in data.items()]


def _unique(values: Iterable[ParamValue]) -> dict[str, ParamValue]:
    result: dict[str, ParamValue] = {}
    for item in values:
        first = result.get(item.name)
        if first is not None:
            raise ParameterError(
                f"parameter '{item.name}' is given twice ({first.origin} and {item.origin})",
                hint="give each parameter once",
            )
        result[item.name] = item
    return result


def values_from_mapping(values: dict[str, object], origin: str = "api") -> dict[str, ParamValue]:
    """Typed values from a program (JSON-like Python values), for library callers."""
    return {
        name: ParamValue(name, value, raw=False, origin=origin) for name, value in values.items()
    }
