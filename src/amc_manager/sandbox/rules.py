"""AMC's compile-time rules: the grammar it refuses, unknown names, and the privacy rules."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope, walk_in_scope

from amc_manager.catalogue import Catalogue, ThresholdClass
from amc_manager.sandbox.dialect import Span, invalid, invalid_at, keyword_span, span_of
from amc_manager.sandbox.lineage import Lineage, is_aggregating, origin

_LIMIT_HINT = "use RANK() or ROW_NUMBER() in a sub-query to keep the top rows"
_CLAUSE_MESSAGES = {
    "order": "ORDER BY is only supported inside window specifications (OVER)",
    "limit": f"LIMIT is not supported; {_LIMIT_HINT}",
    "offset": f"OFFSET is not supported; {_LIMIT_HINT}",
    "fetch": f"FETCH is not supported; {_LIMIT_HINT}",
    "sort": "SORT BY is not supported",
    "cluster": "CLUSTER BY is not supported",
    "distribute": "DISTRIBUTE BY is not supported",
}
_LITERAL_FILTER_CLASSES = (ThresholdClass.HIGH, ThresholdClass.VERY_HIGH)
_BINARY_FILTERS: tuple[type[exp.Expr], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.Like,
    exp.ILike,
    exp.RegexpLike,
    exp.RegexpILike,
    exp.SimilarTo,
)


def check_grammar(query: exp.Query, workflow_id: str) -> None:
    """Reject SELECT *, LIMIT, ORDER BY outside windows, RIGHT JOIN, INTERSECT and EXCEPT."""
    for node in query.walk():
        violation = _grammar_violation(node)
        if violation:
            raise invalid_at(workflow_id, *violation)
        if isinstance(node, exp.Select):
            if not node.expressions:
                raise invalid(workflow_id, "Incorrect syntax: SELECT needs at least one column")
            _check_stars(node, workflow_id)


def _grammar_violation(node: exp.Expr) -> tuple[str, Span | None] | None:
    """(message, position of the offending part) for a construct AMC refuses."""
    if isinstance(node, exp.Query):
        for arg, message in _CLAUSE_MESSAGES.items():
            clause = node.args.get(arg)
            if clause:
                return message, span_of(clause) or span_of(node)
    if isinstance(node, exp.Intersect | exp.Except):
        message = f"{node.key.upper()} is not supported; only UNION [ALL] combines queries"
        return message, keyword_span(node) or span_of(node)
    if isinstance(node, exp.Join) and node.side.upper() == "RIGHT":
        message = "RIGHT JOIN is not supported; swap the tables and use LEFT JOIN"
        return message, span_of(node.this) or span_of(node)
    return None


def _check_stars(select: exp.Select, workflow_id: str) -> None:
    source = select.args.get("from_")
    if source is not None and isinstance(source.this, exp.Values) and not select.args.get("joins"):
        # The parser reads `WITH t (a, b) AS (VALUES ...)` as `SELECT * FROM (VALUES ...)`.
        return
    for projection in select.expressions:
        star = isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        )
        if star:
            raise invalid(
                workflow_id,
                "SELECT * is not supported: name the columns to select",
                projection,
            )


def check_tables(query: exp.Query, workflow_id: str, catalogue: Catalogue) -> None:
    """Every table a query reads must be a CTE or a table of the catalogue (Calcite's "Object
    not found")."""
    for scope in traverse_scope(query):
        for _, source in scope.selected_sources.values():
            if isinstance(source, exp.Table) and catalogue.table(source.name) is None:
                raise invalid(workflow_id, f"Object '{source.name}' not found", source)


def check_columns(lineage: Lineage, workflow_id: str) -> None:
    """Every column reference must resolve to exactly one source column."""
    for scope in lineage.scopes:
        for column in scope.columns:
            message = _column_problem(column, scope, lineage.catalogue)
            if message:
                raise invalid(workflow_id, message, column)


def _column_problem(column: exp.Column, scope: Scope, catalogue: Catalogue) -> str | None:
    name = column.name
    if not column.table:
        owners = [
            alias
            for alias, source in scope.selected_sources.items()
            if _has(source[1], name, catalogue)
        ]
        if len(owners) > 1:
            return f"Column '{name}' is ambiguous"
        return f"Column '{name}' not found in any table"
    source = _source(column.table, scope)
    if source is None:
        return f"Table '{column.table}' not found"
    if not _has(source, name, catalogue) and not _opaque(source):
        return f"Column '{name}' not found in table '{column.table}'"
    return None


def _source(alias: str, scope: Scope) -> exp.Expr | Scope | None:
    current: Scope | None = scope
    while current is not None:
        if alias in current.sources:
            return current.sources[alias]
        current = current.parent
    return None


def _has(source: exp.Expr | Scope, name: str, catalogue: Catalogue) -> bool:
    if isinstance(source, exp.Table):
        table = catalogue.table(source.name)
        return table is not None and table.column(name) is not None
    return name in getattr(source.expression, "named_selects", [])


def _opaque(source: exp.Expr | Scope) -> bool:
    """Sources whose columns sqlglot cannot list (VALUES, table functions): trust the query."""
    return isinstance(source, Scope) and not isinstance(source.expression, exp.Query)


def check_outputs(lineage: Lineage, workflow_id: str) -> None:
    """VERY_HIGH and INTERNAL columns may not reach the result, even through CTEs."""
    root = lineage.root
    for index, cls in enumerate(lineage.outputs(root)):
        if cls.outputtable:
            continue
        branch, projection = _projection(root, index)
        base = origin(lineage, projection.unalias(), branch, cls) or projection.alias_or_name
        raise invalid(
            workflow_id,
            f"Column '{base}' has aggregation threshold {cls.value} and cannot be selected in "
            f"the output (output column '{projection.alias_or_name}'); use it only inside "
            "aggregations such as COUNT(DISTINCT ...) or in joins",
            projection,
        )


def _projection(scope: Scope, index: int) -> tuple[Scope, exp.Expr]:
    """The scope and expression behind output column `index` (left branch of a UNION)."""
    while isinstance(scope.expression, exp.SetOperation) and scope.set_operation_scopes:
        scope = scope.set_operation_scopes[0]
    select = scope.expression
    assert isinstance(select, exp.Select)
    return scope, select.selects[index]


def check_aggregated(lineage: Lineage, workflow_id: str) -> None:
    """The result must be aggregated: raw event-level rows cannot be exported."""
    offender = _row_level_select(lineage.root)
    if offender is not None:
        raise invalid(
            workflow_id,
            "The query must aggregate at least one column (for example COUNT or SUM with "
            "GROUP BY): event-level rows cannot be exported",
            *offender.expressions,
        )


def _row_level_select(scope: Scope) -> exp.Select | None:
    """A SELECT of `scope` that passes individual events through, if any."""
    query = scope.expression
    if isinstance(query, exp.SetOperation):
        for branch in scope.set_operation_scopes:
            found = _row_level_select(branch)
            if found is not None:
                return found
        return None
    if not isinstance(query, exp.Select) or is_aggregating(query):
        return None
    for _, source in query_sources(scope):
        if isinstance(source, exp.Table):
            return query
        if _row_level_select(source) is not None:
            return query
    return None


def query_sources(scope: Scope) -> list[tuple[str, exp.Table | Scope]]:
    """The (alias, source) pairs a SELECT reads rows from: FROM and JOIN items."""
    return [(alias, pair[1]) for alias, pair in scope.selected_sources.items()]


def check_literal_filters(lineage: Lineage, workflow_id: str) -> None:
    """HIGH and VERY_HIGH values may not be compared with literals (=, IN, LIKE, BETWEEN, ...)."""
    for scope in lineage.scopes:
        for node in walk_in_scope(scope.expression):
            for side in _literal_compared(node):
                cls = lineage.expression_class(side, scope)
                if cls in _LITERAL_FILTER_CLASSES:
                    name = origin(lineage, side, scope, cls) or side.sql()
                    raise invalid(
                        workflow_id,
                        f"Column '{name}' has aggregation threshold {cls.value} and cannot be "
                        "compared with literal values",
                        node,
                    )


def _literal_compared(node: exp.Expr) -> list[exp.Expr]:
    """The operands of `node` that it compares with constants only."""
    if isinstance(node, _BINARY_FILTERS):
        left, right = node.this, node.expression
        return [s for s, o in ((left, right), (right, left)) if _constant(o) and not _constant(s)]
    if isinstance(node, exp.Between):
        bounds = (node.args.get("low"), node.args.get("high"))
        return [node.this] if all(_constant(b) for b in bounds if b is not None) else []
    if isinstance(node, exp.In) and node.expressions and not node.args.get("query"):
        return [node.this] if all(_constant(e) for e in node.expressions) else []
    if isinstance(node, exp.ArrayContains):
        return [node.expression] if _constant(node.this) else []
    if isinstance(node, exp.Case) and node.this is not None:
        # CASE postal_code WHEN '98101' THEN ... compares with each WHEN literal.
        whens = [branch.this for branch in node.args.get("ifs") or []]
        return [node.this] if whens and all(_constant(w) for w in whens) else []
    return []


def _constant(node: exp.Expr | None) -> bool:
    if node is None:
        return False
    return not any(isinstance(n, exp.Column | exp.Query) for n in node.walk())
