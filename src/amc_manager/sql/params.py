"""`{{name}}` substitution and `CUSTOM_PARAMETER` declarations turned into AMC's parameters.

contracts.md "Parameters": a placeholder is substituted once, in one pass over the template (a
placeholder inside a value stays text); strings become standard-SQL literals (a quote doubled,
a backslash ordinary), numbers and booleans stay bare, a list after IN becomes a parenthesised
list, and a list longer than the threshold becomes a VALUES common table expression with a
named column that the IN reads. Nothing is inserted on a new line, so AMC's line numbers stay
those of the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from amc_manager.errors import ParameterError
from amc_manager.sql.problems import Problem, Severity, placeless
from amc_manager.sql.template import Declaration, PlaceholderUse, Template, scan_template
from amc_manager.sql.values import ParamValue, coerce, describe

DEFAULT_LIST_THRESHOLD = 100
_GIVE_HINT = "give it with --param {0}=VALUE (text), --param-json {0}=JSON or --params-file FILE"


@dataclass(frozen=True)
class PreparedQuery:
    """What an AMC request carries: `sqlQuery`, `inputParameters` and `parameterValues`."""

    sql: str
    input_parameters: tuple[dict[str, object], ...]
    parameter_values: dict[str, object]

    def workflow(self) -> dict[str, object]:
        """The ad-hoc `workflow` object of a create-execution request (amc-api.md 3.1)."""
        body: dict[str, object] = {"sqlQuery": self.sql}
        if self.input_parameters:
            body["inputParameters"] = list(self.input_parameters)
        return body


def quote_string(text: str) -> str:
    """A standard-SQL string literal: the quote doubled, every other character as is."""
    return "'" + text.replace("'", "''") + "'"


def render_scalar(value: object) -> str:
    """The SQL literal of one placeholder value (checked by `placeholder_problem`)."""
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def placeholder_problem(value: object) -> str | None:
    """Why `value` cannot be substituted for a placeholder, or None."""
    if isinstance(value, list):
        if not value:
            return "is an empty list, which IN cannot take"
        kinds = {_kind(item) for item in value}
        if None in kinds:
            bad = next(item for item in value if _kind(item) is None)
            return f"holds {describe(bad)}; list items must be text, numbers or booleans"
        if len(kinds) > 1:
            return "mixes " + " and ".join(sorted(str(k) for k in kinds)) + "; use one kind"
        return None
    if _kind(value) is None:
        return f"is {describe(value)}; give text, a number, a boolean or a list of them"
    return None


def _kind(value: object) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "booleans"
    if isinstance(value, int) or isinstance(value, Decimal | float) and _finite(value):
        return "numbers"
    return None


def _finite(value: Decimal | float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def parameter_problems(
    template: Template, values: Mapping[str, ParamValue] | None, *, strict: bool = True
) -> list[Problem]:
    """Undeclared, unused, mistyped and missing parameters. With `values` None only the
    declarations are checked (values come later, e.g. for a saved workflow); `strict` False
    leaves out what AMC accepts (a declaration no CUSTOM_PARAMETER uses)."""
    problems = _declaration_problems(template, strict=strict)
    if values is not None:
        problems += _placeholder_value_problems(template, values)
        problems += _custom_value_problems(template, values)
        problems += _unused_value_problems(template, values)
    return problems


def _declaration_problems(template: Template, *, strict: bool) -> list[Problem]:
    declared = {d.name for d in template.declarations} | template.broken
    problems = [
        template.source.problem(
            call.offset,
            f"CUSTOM_PARAMETER('{call.name}') is not declared",
            f"declare it in the leading comments: -- @param {call.name} STRING [DEFAULT]",
        )
        for call in _first_per_name(template.custom_calls())
        if call.name not in declared
    ]
    return problems + [
        problem
        for declaration in template.declarations
        if (problem := _declaration_use(template, declaration, strict=strict)) is not None
    ]


def _declaration_use(
    template: Template, declaration: Declaration, *, strict: bool
) -> Problem | None:
    name = declaration.name
    if name in {u.name for u in template.placeholders}:
        return template.source.problem(
            declaration.offset,
            f"'{name}' is both a {{{{{name}}}}} placeholder and a declared CUSTOM_PARAMETER",
            "rename one of them",
        )
    if strict and name not in {c.name for c in template.custom_calls()}:
        return template.source.problem(
            declaration.offset,
            f"parameter '{name}' is declared but never used",
            f"use CUSTOM_PARAMETER('{name}') or remove the declaration",
        )
    return None


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def _first_per_name(items: Iterable[_N]) -> list[_N]:
    seen: set[str] = set()
    first: list[_N] = []
    for item in items:
        if item.name not in seen:
            seen.add(item.name)
            first.append(item)
    return first


def _placeholder_value_problems(
    template: Template, values: Mapping[str, ParamValue]
) -> list[Problem]:
    problems = [
        problem
        for use in _first_per_name(template.placeholders)
        if (problem := _value_problem(template, use, values.get(use.name))) is not None
    ]
    return problems + [
        template.source.problem(
            use.start,
            f"{{{{{use.name}}}}} is given a list, but a list can only follow IN",
            f"write column IN {{{{{use.name}}}}} (no parentheses), or give one value",
        )
        for use in template.placeholders
        if use.name in values and isinstance(values[use.name].value, list) and not use.in_list
    ]


def _value_problem(
    template: Template, use: PlaceholderUse, given: ParamValue | None
) -> Problem | None:
    if given is None:
        hint = _GIVE_HINT.format(use.name)
        return template.source.problem(use.start, f"no value for {{{{{use.name}}}}}", hint)
    reason = placeholder_problem(given.value)
    if reason is None:
        return None
    return template.source.problem(
        use.start,
        f"the value of {{{{{use.name}}}}} ({given.origin}) {reason}",
        "give text, a number, a boolean, or a non-empty list of one of them",
    )


def _custom_value_problems(template: Template, values: Mapping[str, ParamValue]) -> list[Problem]:
    source = template.source
    problems: list[Problem] = []
    first_call = {c.name: c for c in reversed(template.custom_calls())}
    for declaration in template.declarations:
        given = values.get(declaration.name)
        call = first_call.get(declaration.name)
        if given is None:
            broken = declaration.name in template.broken
            if declaration.default is None and call is not None and not broken:
                problems.append(_no_custom_value(template, declaration, call.offset))
            continue
        try:
            coerce(given.value, declaration.ptype, raw=given.raw)
        except ValueError as exc:
            problems.append(
                placeless(
                    source.file,
                    f"the value of parameter '{declaration.name}' ({given.origin}) does not fit "
                    f"{declaration.ptype}: {exc}",
                    _type_hint(declaration),
                )
            )
    return problems


def _no_custom_value(template: Template, declaration: Declaration, offset: int) -> Problem:
    return template.source.problem(
        offset,
        f"CUSTOM_PARAMETER('{declaration.name}') has no value and its declaration no default",
        _GIVE_HINT.format(declaration.name)
        + f", or add a default: -- @param {declaration.name} {declaration.ptype} DEFAULT",
    )


def _type_hint(declaration: Declaration) -> str:
    if declaration.ptype.is_array:
        return f"""give a JSON array: --param-json {declaration.name}='["a", "b"]'"""
    return f"give a {declaration.ptype} value, e.g. --param {declaration.name}=VALUE"


def _unused_value_problems(template: Template, values: Mapping[str, ParamValue]) -> list[Problem]:
    used = {u.name for u in template.placeholders} | {d.name for d in template.declarations}
    problems = []
    for name, given in values.items():
        if name in used:
            continue
        close = difflib.get_close_matches(name, sorted(used), n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif used:
            hint = "the SQL uses: " + ", ".join(sorted(used))
        else:
            hint = "the SQL takes no parameters; remove it"
        problems.append(
            placeless(
                template.source.file,
                f"a value is given for '{name}' ({given.origin}), which the SQL does not use",
                hint,
            )
        )
    return problems


def prepare(
    sql: str | Template,
    values: Mapping[str, ParamValue],
    *,
    list_threshold: int = DEFAULT_LIST_THRESHOLD,
) -> PreparedQuery:
    """Substitute the placeholders and build AMC's parameters; ParameterError naming the first
    parameter problem (missing, empty or mistyped values, values the SQL does not use...).
    A declaration no CUSTOM_PARAMETER uses is sent anyway (AMC accepts it; `lint` reports it)."""
    template = sql if isinstance(sql, Template) else scan_template(sql)
    for problem in parameter_problems(template, values, strict=False):
        if problem.severity is Severity.ERROR:
            raise ParameterError(problem.message, hint=problem.hint)
    return PreparedQuery(
        sql=substitute(template, values, list_threshold=list_threshold),
        input_parameters=input_parameters(template),
        parameter_values={
            d.name: coerce(values[d.name].value, d.ptype, raw=values[d.name].raw)
            for d in template.declarations
            if d.name in values
        },
    )


def input_parameters(template: Template) -> tuple[dict[str, object], ...]:
    """AMC's `inputParameters` for the template's `-- @param` declarations."""
    return tuple(_input_parameter(d) for d in template.declarations)


def _input_parameter(declaration: Declaration) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": declaration.name,
        "dataType": declaration.ptype.amc_data_type(),
        "columnType": "DIMENSION",
    }
    if declaration.default is not None:
        entry["defaultValue"] = declaration.default
    return entry


def substitute(
    template: Template,
    values: Mapping[str, ParamValue],
    *,
    list_threshold: int = DEFAULT_LIST_THRESHOLD,
) -> str:
    """The template's text with every placeholder replaced by its value, in one pass (values
    must have been checked: `parameter_problems` finds none)."""
    ctes = _ValuesTables(template, list_threshold)
    edits: list[tuple[int, int, str]] = []
    for use in template.placeholders:
        edits.append((use.start, use.end, ctes.render(use, values[use.name].value)))
    inserted = ctes.definitions()
    if inserted:
        edits.append(_cte_edit(template, inserted))
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    pieces: list[str] = []
    position = 0
    for start, end, replacement in edits:
        pieces += [template.text[position:start], replacement]
        position = end
    pieces.append(template.text[position:])
    return "".join(pieces)


def _cte_edit(template: Template, definitions: list[str]) -> tuple[int, int, str]:
    """Merge into the leading WITH, or open one, on the statement's first line."""
    joined = ", ".join(definitions)
    if template.with_end is not None:
        return (template.with_end, template.with_end, f" {joined},")
    first = template.first_code or 0
    return (first, first, f"WITH {joined} ")


class _ValuesTables:
    """Renders placeholder values; lists over the threshold become VALUES CTEs, one per name."""

    def __init__(self, template: Template, threshold: int) -> None:
        self.template = template
        self.threshold = threshold
        self.names: dict[str, tuple[str, str]] = {}
        self.bodies: dict[str, str] = {}
        self.taken = set(template.words)

    def render(self, use: PlaceholderUse, value: object) -> str:
        items = value if isinstance(value, list) else None
        if items is None:
            return f"({render_scalar(value)})" if use.in_list else render_scalar(value)
        if len(items) <= self.threshold:
            return "(" + ", ".join(render_scalar(item) for item in items) + ")"
        table, column = self._table(use.name, items)
        return f"(SELECT {column} FROM {table})"

    def _table(self, name: str, items: list[object]) -> tuple[str, str]:
        if name not in self.names:
            table, column = self._fresh(f"{name}_list"), f"{name}_item"
            rows = ", ".join("(" + render_scalar(item) + ")" for item in items)
            self.names[name] = (table, column)
            self.bodies[name] = f"{table} ({column}) AS (VALUES {rows})"
        return self.names[name]

    def _fresh(self, base: str) -> str:
        candidate, counter = base, 1
        while candidate.lower() in self.taken:
            candidate, counter = f"{base}_{counter}", counter + 1
        self.taken.add(candidate.lower())
        return candidate

    def definitions(self) -> list[str]:
        return list(self.bodies.values())
