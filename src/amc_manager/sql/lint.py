"""The AMC SQL linter: every problem of a template, each with its line, column and a hint.

It reads the template, never the substituted text: placeholders are parsed as parameters, so
its cost does not grow with the size of list values, and values are never judged by their
words (lessons.md 9).
"""

from __future__ import annotations

from collections.abc import Mapping

from amc_manager.sql.grammar import grammar_problems
from amc_manager.sql.names import build_scopes, name_problems
from amc_manager.sql.params import parameter_problems
from amc_manager.sql.privacy import privacy_problems
from amc_manager.sql.problems import Problem, Severity, placeless, sort_problems
from amc_manager.sql.schema import KnownSchema, documented_classes
from amc_manager.sql.syntax import Parsed, misplaced_placeholders, parse_template
from amc_manager.sql.template import BUILT_IN_NAMES, Template, scan_template
from amc_manager.sql.values import ParamValue


def lint(
    sql: str | Template,
    *,
    file: str = "<sql>",
    schema: KnownSchema | None = None,
    values: Mapping[str, ParamValue] | None = None,
) -> list[Problem]:
    """Every problem of `sql`, in file order then placeless ones.

    `schema` None means no known schema: names go unchecked (a warning says so) and the
    privacy rules use the documented classes of AMC's tables. `values` None skips the checks
    of parameter values (missing, empty, mistyped, unused), e.g. for a saved workflow.
    """
    template = sql if isinstance(sql, Template) else scan_template(sql, file)
    problems = list(template.problems)
    problems += parameter_problems(template, values)
    problems += _built_in_problems(template)
    if schema is None:
        problems.append(_no_schema(template.source.file))
    if not template.fatal:
        problems += _query_problems(template, schema)
    return sort_problems(problems)


def _query_problems(template: Template, schema: KnownSchema | None) -> list[Problem]:
    parsed = parse_template(template)
    if not isinstance(parsed, Parsed):
        return [parsed]
    problems = grammar_problems(parsed)
    misplaced = misplaced_placeholders(parsed)
    if misplaced:
        return problems + misplaced
    scopes = build_scopes(parsed, schema)
    if isinstance(scopes, Problem):
        return [*problems, scopes]
    problems += name_problems(parsed, scopes)
    problems += privacy_problems(parsed, scopes, documented_classes())
    return problems


def _built_in_problems(template: Template) -> list[Problem]:
    return [
        template.source.problem(
            call.offset,
            f"BUILT_IN_PARAMETER('{call.name}') is not a built-in parameter AMC documents",
            "use " + " or ".join(f"BUILT_IN_PARAMETER('{n}')" for n in sorted(BUILT_IN_NAMES)),
            Severity.WARNING,
        )
        for call in template.calls
        if call.function == "BUILT_IN_PARAMETER" and call.name.upper() not in BUILT_IN_NAMES
    ]


def _no_schema(file: str) -> Problem:
    return placeless(
        file,
        "no known schema: table and column names are not checked (privacy rules use the "
        "documented classes of AMC's tables)",
        "AMC checks the names at submission; in sandbox mode the sandbox's catalogue is used",
        Severity.WARNING,
    )
