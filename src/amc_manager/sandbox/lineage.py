"""Threshold classes of the expressions of a qualified AMC query, resolved through its scopes."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from amc_manager.sandbox.catalogue import ThresholdClass, get_table

NONE = ThresholdClass.NONE

# Aggregates whose result is one of the input values (or a list of them): they reveal their
# argument, so they carry its class. Every other aggregate (COUNT, SUM, AVG, ...) is a metric.
TRANSPARENT_AGGREGATES: tuple[type[exp.Expr], ...] = (
    exp.Min,
    exp.Max,
    exp.ArrayAgg,
    exp.ArrayUniqueAgg,
    exp.AnyValue,
    exp.First,
    exp.Last,
    exp.FirstValue,
    exp.LastValue,
    exp.Lag,
    exp.Lead,
    exp.NthValue,
    exp.ArgMax,
    exp.ArgMin,
    exp.Mode,
    exp.Median,
    exp.Quantile,
    exp.PercentileCont,
    exp.PercentileDisc,
    exp.GroupConcat,
)


def strictest(classes: list[ThresholdClass] | tuple[ThresholdClass, ...]) -> ThresholdClass:
    """The most restrictive class of `classes` (NONE for none)."""
    return max(classes, key=lambda c: c.rank, default=NONE)


def is_windowed(node: exp.Expr) -> bool:
    """Whether the aggregate `node` is the function of a window (`SUM(x) OVER (...)`)."""
    child: exp.Expr = node
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Query):
        if isinstance(parent, exp.Window) and child.arg_key == "this":
            return True
        child, parent = parent, parent.parent
    return False


def owning_select(node: exp.Expr) -> exp.Expr | None:
    """The nearest query expression (SELECT or set operation) containing `node`."""
    return node.find_ancestor(exp.Query)


class Lineage:
    """Answers "which threshold class does this value carry" for a qualified query."""

    def __init__(self, root: exp.Query) -> None:
        self.scopes: list[Scope] = traverse_scope(root)
        self.root: Scope = self.scopes[-1]
        self._by_expression = {id(s.expression): s for s in self.scopes}
        self._outputs: dict[int, list[ThresholdClass]] = {}

    def scope_of(self, query: exp.Expr) -> Scope | None:
        return self._by_expression.get(id(query))

    def outputs(self, scope: Scope) -> list[ThresholdClass]:
        """The class of every output column of `scope`, in order."""
        cached = self._outputs.get(id(scope))
        if cached is None:
            cached = self._compute_outputs(scope)
            self._outputs[id(scope)] = cached
        return cached

    def _compute_outputs(self, scope: Scope) -> list[ThresholdClass]:
        query = scope.expression
        if isinstance(query, exp.SetOperation) and scope.set_operation_scopes:
            branches = [self.outputs(s) for s in scope.set_operation_scopes]
            return [strictest(list(c)) for c in zip(*branches, strict=False)]
        if isinstance(query, exp.Select):
            return [self.expression_class(p.unalias(), scope) for p in query.selects]
        return [NONE] * len(getattr(query, "named_selects", []))

    def expression_class(self, node: exp.Expr, scope: Scope) -> ThresholdClass:
        """The class an expression evaluated in `scope` carries into its result."""
        if isinstance(node, exp.Column):
            return self.column_class(node, scope)
        if isinstance(node, exp.Window):
            function = node.this
            if isinstance(function, TRANSPARENT_AGGREGATES):
                return self._children_class(function, scope)
            return NONE
        if isinstance(node, exp.AggFunc):
            if isinstance(node, TRANSPARENT_AGGREGATES):
                return self._children_class(node, scope)
            return NONE
        if isinstance(node, exp.Query):
            inner = self.scope_of(node)
            return strictest(self.outputs(inner)[:1]) if inner else NONE
        return self._children_class(node, scope)

    def _children_class(self, node: exp.Expr, scope: Scope) -> ThresholdClass:
        return strictest([self.expression_class(c, scope) for c in node.iter_expressions()])

    def column_class(self, column: exp.Column, scope: Scope) -> ThresholdClass:
        source = _find_source(column.table, scope)
        if source is None:
            return NONE
        return self.source_column_class(source, column.name)

    def source_column_class(self, source: exp.Expr | Scope, name: str) -> ThresholdClass:
        """The class of column `name` read from a table or from a sub-scope."""
        if isinstance(source, exp.Table):
            table = get_table(source.name)
            column = table.column(name) if table else None
            return column.threshold if column else NONE
        names = list(getattr(source.expression, "named_selects", []))
        if not isinstance(source, Scope) or name not in names:
            return NONE
        classes = self.outputs(source)
        index = names.index(name)
        return classes[index] if index < len(classes) else NONE


def _find_source(table: str, scope: Scope) -> exp.Expr | Scope | None:
    """The source `table` names, looking outwards for correlated references."""
    current: Scope | None = scope
    while current is not None:
        source = current.sources.get(table)
        if source is not None:
            return source
        current = current.parent
    return None


# Ranking window functions number rows; their values are neither data nor metrics.
_RANKINGS: tuple[type[exp.Expr], ...] = (exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist)


def is_aggregating(select: exp.Select) -> bool:
    """Whether a SELECT collapses rows: GROUP BY, or an aggregate outside a window."""
    if select.args.get("group"):
        return True
    for clause in (*select.expressions, select.args.get("having")):
        if clause is None:
            continue
        for node in clause.find_all(exp.AggFunc):
            if owning_select(node) is select and not is_windowed(node):
                return True
    return False


def is_metric(node: exp.Expr) -> bool:
    """Whether an output expression is a metric (COUNT, SUM, AVG, ...) that sums when merging."""
    for aggregate in node.find_all(exp.AggFunc):
        if not isinstance(aggregate, TRANSPARENT_AGGREGATES + _RANKINGS):
            return True
    return False


def origin(lineage: Lineage, node: exp.Expr, scope: Scope, wanted: ThresholdClass) -> str | None:
    """The name of a base column of class `wanted` that `node` derives its class from."""
    if isinstance(node, exp.Column):
        source = _find_source(node.table, scope)
        if isinstance(source, exp.Table):
            return node.name if lineage.column_class(node, scope) is wanted else None
        if isinstance(source, Scope):
            return _origin_in_scope(lineage, source, node.name, wanted)
        return None
    if isinstance(node, exp.AggFunc | exp.Window) and lineage.expression_class(node, scope) is NONE:
        return None
    for child in node.iter_expressions():
        found = origin(lineage, child, scope, wanted)
        if found:
            return found
    return None


def _origin_in_scope(
    lineage: Lineage, scope: Scope, name: str, wanted: ThresholdClass
) -> str | None:
    query = scope.expression
    if isinstance(query, exp.SetOperation):
        index = list(query.named_selects).index(name) if name in query.named_selects else -1
        for branch in scope.set_operation_scopes:
            selects = getattr(branch.expression, "selects", [])
            if 0 <= index < len(selects):
                found = origin(lineage, selects[index].unalias(), branch, wanted)
                if found:
                    return found
        return None
    if isinstance(query, exp.Select):
        for projection in query.selects:
            if projection.alias_or_name == name:
                return origin(lineage, projection.unalias(), scope, wanted)
    return None
