"""Threshold classes of the expressions of a qualified AMC query, resolved through its scopes."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from amc_manager.catalogue import Catalogue, ThresholdClass

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


# Aggregates whose values are their ORDER BY keys (`PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
# x)`); for every other aggregate the ORDER BY keys only order the values.
_ORDERED_SET_AGGREGATES: tuple[type[exp.Expr], ...] = (
    exp.PercentileCont,
    exp.PercentileDisc,
    exp.Mode,
    exp.Median,
    exp.Quantile,
)

# Functions whose result is one of their first argument's elements or values, or a reordered,
# filtered or sliced array of them: elements that are structs keep their fields' classes.
_ELEMENT_PRESERVING: tuple[type[exp.Expr], ...] = (
    exp.ArrayAgg,
    exp.ArrayUniqueAgg,
    exp.ArraySort,
    exp.ArrayDistinct,
    exp.ArrayReverse,
    exp.ArraySlice,
    exp.ArrayFilter,
    exp.Bracket,
    exp.Order,
    exp.WithinGroup,
    exp.Min,
    exp.Max,
    exp.ArgMax,
    exp.ArgMin,
    exp.AnyValue,
    exp.First,
    exp.Last,
)

# Per-field classes of a struct (or of the struct elements of an array), by lowercase name.
Fields = dict[str, ThresholdClass]


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
    """Answers "which threshold class does this value carry" for a qualified query whose
    tables are those of `catalogue`."""

    def __init__(self, root: exp.Query, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
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
        """The class an expression evaluated in `scope` carries into its result.

        Only values that can reach the result count: a null test (`x IS NULL`) yields a
        boolean, and keys that only order values (ORDER BY in an aggregate or window,
        MAX_BY's key, the fields ARRAY_SORT sorts by but TRANSFORM drops) lend no class.
        """
        if isinstance(node, exp.Column):
            return self.column_class(node, scope)
        if isinstance(node, exp.Query):
            inner = self.scope_of(node)
            return strictest(self.outputs(inner)[:1]) if inner else NONE
        if _is_null_test(node):
            return NONE
        if isinstance(node, exp.Window):
            return self._aggregate_class(node.this, scope)
        if isinstance(node, exp.AggFunc):
            return self._aggregate_class(node, scope)
        field = self._field_class(node, scope)
        if field is not None:
            return field
        return self._parts_class(node, scope)

    def _aggregate_class(self, function: exp.Expr, scope: Scope) -> ThresholdClass:
        """Transparent aggregates carry their values' class; metrics and rankings carry none."""
        while isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
            function = function.this
        if isinstance(function, exp.WithinGroup):
            return self.expression_class(function, scope)
        if isinstance(function, TRANSPARENT_AGGREGATES):
            return self._parts_class(function, scope)
        return NONE

    def _parts_class(self, node: exp.Expr, scope: Scope) -> ThresholdClass:
        return strictest([self.expression_class(p, scope) for p in _value_parts(node)])

    def _field_class(self, node: exp.Expr, scope: Scope) -> ThresholdClass | None:
        """The class of a struct field read (`s.f`, `s['f']`) or of TRANSFORM over struct
        elements, when the struct's fields are known; None otherwise."""
        if isinstance(node, exp.Transform) and isinstance(node.expression, exp.Lambda):
            fields = self.element_fields(node.this, scope)
            if fields is None:
                return None
            return self._lambda_class(node.expression, fields, scope)
        access = _field_access(node)
        if access is None:
            return None
        fields = self.element_fields(access[0], scope)
        return fields.get(access[1]) if fields else None

    def element_fields(self, node: exp.Expr, scope: Scope) -> Fields | None:
        """The classes of the fields of struct `node` or of its struct elements, if known."""
        if isinstance(node, exp.Struct):
            return self._struct_fields(node, scope)
        if isinstance(node, _ELEMENT_PRESERVING) and _field_access(node) is None:
            return self.element_fields(node.this, scope) if node.this is not None else None
        if isinstance(node, exp.Column):
            source = _find_source(node.table, scope)
            if isinstance(source, Scope) and isinstance(source.expression, exp.Select):
                for projection in source.expression.selects:
                    if projection.alias_or_name == node.name:
                        return self.element_fields(projection.unalias(), source)
        return None

    def _struct_fields(self, struct: exp.Struct, scope: Scope) -> Fields:
        items = (_struct_item(i, item) for i, item in enumerate(struct.expressions))
        return {name: self.expression_class(value, scope) for name, value in items}

    def _lambda_class(self, function: exp.Lambda, fields: Fields, scope: Scope) -> ThresholdClass:
        """The class of `x -> body` applied to elements with `fields`: only the fields the
        body reads reach the result."""
        element = function.expressions[0].name if function.expressions else ""
        return self._body_class(function.this, element, fields, scope)

    def _body_class(
        self, node: exp.Expr, element: str, fields: Fields, scope: Scope
    ) -> ThresholdClass:
        whole = strictest(list(fields.values()))
        if _names(node, element):
            return whole
        access = _field_access(node)
        if access is not None and _names(access[0], element):
            return fields.get(access[1], whole)
        if isinstance(node, exp.Column) or not any(_names(n, element) for n in node.walk()):
            return self.expression_class(node, scope)
        parts = [self._body_class(p, element, fields, scope) for p in node.iter_expressions()]
        return strictest(parts)

    def column_class(self, column: exp.Column, scope: Scope) -> ThresholdClass:
        source = _find_source(column.table, scope)
        if source is None:
            return NONE
        return self.source_column_class(source, column.name)

    def source_column_class(self, source: exp.Expr | Scope, name: str) -> ThresholdClass:
        """The class of column `name` read from a table or from a sub-scope."""
        if isinstance(source, exp.Table):
            table = self.catalogue.table(source.name)
            column = table.column(name) if table else None
            return column.threshold if column else NONE
        names = list(getattr(source.expression, "named_selects", []))
        if not isinstance(source, Scope) or name not in names:
            return NONE
        classes = self.outputs(source)
        index = names.index(name)
        return classes[index] if index < len(classes) else NONE


def _is_null_test(node: exp.Expr) -> bool:
    """`x IS NULL` (also inside NOT): a boolean that does not reveal x."""
    return isinstance(node, exp.Is) and isinstance(node.expression, exp.Null)


def _value_parts(node: exp.Expr) -> list[exp.Expr]:
    """The sub-expressions of `node` whose values can reach its result: not the keys that
    only order them (an aggregate's or window's ORDER BY, MAX_BY's key, ARRAY_SORT's
    comparator)."""
    if isinstance(node, exp.Order) and node.this is not None:
        return [node.this]
    if isinstance(node, exp.WithinGroup) and not isinstance(node.this, _ORDERED_SET_AGGREGATES):
        return [node.this]
    if isinstance(node, exp.ArgMax | exp.ArgMin | exp.ArraySort | exp.Window):
        return [node.this]
    return list(node.iter_expressions())


def _struct_item(index: int, item: exp.Expr) -> tuple[str, exp.Expr]:
    """(lowercase field name, value) of one STRUCT argument; Spark names unnamed ones colN."""
    if isinstance(item, exp.PropertyEQ):
        return item.this.name.lower(), item.expression
    if isinstance(item, exp.Alias):
        return item.alias.lower(), item.this
    if isinstance(item, exp.Column):
        return item.name.lower(), item
    return f"col{index + 1}", item


def _field_access(node: exp.Expr) -> tuple[exp.Expr, str] | None:
    """(struct, lowercase field name) for `struct.field` or `struct['field']`."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        return node.this, node.expression.name.lower()
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        key = node.expressions[0]
        if isinstance(key, exp.Literal) and key.is_string:
            return node.this, key.name.lower()
    return None


def _names(node: exp.Expr, name: str) -> bool:
    """Whether `node` is a bare reference to lambda variable `name`."""
    if isinstance(node, exp.Identifier):
        return node.name == name
    return isinstance(node, exp.Column) and not node.table and node.name == name


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
    if lineage.expression_class(node, scope) is not wanted:
        return None
    for child in _value_parts(node):
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
