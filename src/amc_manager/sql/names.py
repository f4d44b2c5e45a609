"""Name resolution over the query's scopes: which table or sub-query each column reads, and the
unknown tables, unknown or ambiguous columns and misplaced aliases that follow from it."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope, walk_in_scope

from amc_manager.sql.problems import Problem, Severity
from amc_manager.sql.schema import KnownSchema
from amc_manager.sql.syntax import Parsed

Source = exp.Table | Scope
# Clauses in which a SELECT alias may be named instead of repeating its expression.
_ALIAS_CLAUSES = (exp.Group, exp.Having, exp.Order)


@dataclass(frozen=True)
class Resolved:
    """Where a column comes from: `source` None when it cannot be told (unknown schema, an
    opaque source, a SELECT alias); `problem` set when the reference is wrong."""

    source: Source | None = None
    problem: str | None = None
    hint: str | None = None


class Scopes:
    """The query's scopes and the columns each source offers."""

    def __init__(self, query: exp.Query, schema: KnownSchema | None) -> None:
        self.scopes: list[Scope] = traverse_scope(query)
        self.root: Scope = self.scopes[-1]
        self.schema = schema
        self._by_expression = {id(s.expression): s for s in self.scopes}

    def scope_of(self, node: exp.Expr) -> Scope | None:
        inner = node.unnest() if isinstance(node, exp.Subquery) else node
        return self._by_expression.get(id(inner))

    def columns_of(self, source: Source) -> list[str] | None:
        """Column names a source offers, in order; None when they cannot be known."""
        if isinstance(source, exp.Table):
            table = self.schema.table(source.name) if self.schema else None
            return list(table.columns) if table else None
        return output_names(source)

    def resolve(self, column: exp.Column, scope: Scope) -> Resolved:
        if column.table:
            return self._qualified(column, scope)
        return self._unqualified(column, scope)

    def _qualified(self, column: exp.Column, scope: Scope) -> Resolved:
        alias = column.table.lower()
        current: Scope | None = scope
        while current is not None:
            sources = selected(current)
            if alias in sources:
                return self._member(sources[alias], column)
            current = outer_scope(current)
        return Resolved(
            problem=f"'{column.table}' is not a table or alias of this query",
            hint=_suggest(alias, list(selected(scope)))
            or "qualify columns with a table or alias named in FROM or JOIN",
        )

    def _member(self, source: Source, column: exp.Column) -> Resolved:
        names = self.columns_of(source)
        if names is None or column.name.lower() in names:
            return Resolved(source)
        return Resolved(
            problem=f"{_describe(source)} has no column '{column.name}'",
            hint=_suggest(column.name.lower(), names) or "check the column's name and its table",
        )

    def _unqualified(self, column: exp.Column, scope: Scope) -> Resolved:
        name = column.name.lower()
        current: Scope | None = scope
        while current is not None:
            sources = selected(current)
            offered = {alias: self.columns_of(source) for alias, source in sources.items()}
            owners = [alias for alias, names in offered.items() if names and name in names]
            if len(owners) > 1:
                return Resolved(
                    problem=f"column '{column.name}' is ambiguous: "
                    + " and ".join(f"'{o}'" for o in owners)
                    + " both have it",
                    hint=f"qualify it, e.g. {owners[0]}.{column.name}",
                )
            if owners:
                return Resolved(sources[owners[0]])
            if any(names is None for names in offered.values()) or _is_alias(column, current):
                return Resolved()
            current = outer_scope(current)
        return self._missing(column, scope)

    def _missing(self, column: exp.Column, scope: Scope) -> Resolved:
        if column.name.lower() in _select_aliases(scope):
            return Resolved(
                problem=f"'{column.name}' is an alias of the SELECT list and cannot be used here",
                hint="repeat the expression, or compute it in a sub-query",
            )
        known = [n for s in selected(scope).values() for n in self.columns_of(s) or []]
        return Resolved(
            problem=f"unknown column '{column.name}'",
            hint=_suggest(column.name.lower(), known)
            or "check the column's name and the tables in FROM and JOIN",
        )


def outer_scope(scope: Scope) -> Scope | None:
    """The scope a sub-query's correlated columns may come from; None for CTEs, derived
    tables and the root, which see only their own FROM."""
    current = scope
    while current.is_set_operation and current.parent is not None:
        current = current.parent
    return current.parent if current.is_subquery else None


def selected(scope: Scope) -> dict[str, Source]:
    """The FROM and JOIN sources of a scope by lower-cased alias."""
    found: dict[str, Source] = {}
    for alias, (_, source) in scope.selected_sources.items():
        if isinstance(source, exp.Table | Scope):
            found[alias.lower()] = source
    return found


def output_names(scope: Scope) -> list[str] | None:
    """The columns a scope returns: its column list if it has one, else its SELECT's names."""
    expression = scope.expression
    container = expression.parent if isinstance(expression.parent, exp.CTE | exp.Subquery) else None
    for holder in (container, expression):
        listed = getattr(holder, "alias_column_names", None) if holder is not None else None
        if listed:
            return [n.lower() for n in listed]
    names = getattr(expression, "named_selects", None)
    if not isinstance(expression, exp.Query) or not names or "*" in names:
        return None
    return [n.lower() for n in names]


def _is_alias(column: exp.Column, scope: Scope) -> bool:
    if column.name.lower() not in _select_aliases(scope):
        return False
    clause = column.find_ancestor(*_ALIAS_CLAUSES, exp.Select)
    return isinstance(clause, _ALIAS_CLAUSES)


def _select_aliases(scope: Scope) -> set[str]:
    expression = scope.expression
    if not isinstance(expression, exp.Select):
        return set()
    return {p.alias.lower() for p in expression.expressions if isinstance(p, exp.Alias)}


def _describe(source: Source) -> str:
    if isinstance(source, exp.Table):
        return f"table '{source.name}'"
    parent = source.expression.parent
    if isinstance(parent, exp.CTE):
        return f"'{parent.alias}'"
    return "the sub-query"


def _suggest(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def _unknown_table(parsed: Parsed, source: exp.Table, schema: KnownSchema) -> Problem:
    """An error where the schema is complete; a warning where AMC decides at submission."""
    suggestion = _suggest(source.name.lower(), list(schema.table_names))
    if schema.unlisted is Severity.ERROR:
        message = f"unknown table '{source.name}'"
        hint = suggestion or f"{schema.origin} has no such table"
    else:
        message = f"table '{source.name}' is not in {schema.origin}: AMC decides at submission"
        listing = "`amc datasources list --instance ID` lists the instance's tables"
        hint = f"{suggestion} ({listing})" if suggestion else listing
    return parsed.problem(parsed.start(source), message, hint, schema.unlisted)


def build_scopes(parsed: Parsed, schema: KnownSchema | None) -> Scopes | Problem:
    try:
        return Scopes(parsed.query, schema)
    except OptimizeError as error:
        return parsed.problem(parsed.start(parsed.query), f"the query cannot be analysed: {error}")


def scope_columns(scope: Scope) -> Iterator[exp.Column]:
    """The column references of one scope (not of its sub-queries), lambda variables left out."""
    for node in walk_in_scope(scope.expression):
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            if not _lambda_variable(node):
                yield node


def _lambda_variable(column: exp.Column) -> bool:
    lambda_ = column.find_ancestor(exp.Lambda)
    while lambda_ is not None:
        if column.name in {p.name for p in lambda_.expressions}:
            return True
        lambda_ = lambda_.find_ancestor(exp.Lambda)
    return False


def name_problems(parsed: Parsed, scopes: Scopes) -> list[Problem]:
    """Unknown tables (with a known schema), then every column that does not resolve."""
    problems: list[Problem] = []
    schema = scopes.schema
    for scope in scopes.scopes:
        for source in selected(scope).values():
            if isinstance(source, exp.Table) and schema and schema.table(source.name) is None:
                problems.append(_unknown_table(parsed, source, schema))
        if isinstance(scope.expression, exp.SetOperation):
            continue  # its only columns are in ORDER BY, refused by the grammar rules
        for column in scope_columns(scope):
            resolved = scopes.resolve(column, scope)
            if resolved.problem:
                problems.append(
                    parsed.problem(parsed.start(column), resolved.problem, resolved.hint)
                )
    return problems
