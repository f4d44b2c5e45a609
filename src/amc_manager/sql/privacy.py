"""AMC's privacy rules (amc-api.md 6.4): threshold classes followed through scopes, VERY_HIGH
columns kept out of the output, no literal filters on HIGH columns, and aggregated results."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, walk_in_scope
from sqlglot.tokenizer_core import TokenType

from amc_manager.sql.names import Scopes, output_names, selected
from amc_manager.sql.problems import Problem
from amc_manager.sql.schema import (
    NO_LITERAL_FILTERS,
    NOT_OUTPUTTABLE,
    KnownSchema,
    SchemaTable,
    strictest,
)
from amc_manager.sql.syntax import Parsed

# Aggregates whose result is one of their input values: they carry their argument's class.
# Every other aggregate (COUNT, SUM, AVG...) is a metric of class NONE.
_TRANSPARENT_NAMES = (
    "Min Max ArrayAgg ArrayUniqueAgg AnyValue First Last FirstValue LastValue Lag Lead NthValue "
    "ArgMax ArgMin Mode Median Quantile ApproxQuantile PercentileCont PercentileDisc GroupConcat"
)
TRANSPARENT: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, n) for n in _TRANSPARENT_NAMES.split() if hasattr(exp, n)
)
# AMC aggregates sqlglot reads as unknown functions; all return their inputs (a list of them).
ANONYMOUS_AGGREGATES = frozenset({"COLLECT"})
_NULL_TESTS = frozenset({"ISNULL", "ISNOTNULL"})
# Aggregates whose WITHIN GROUP (ORDER BY x) holds the value they take (PERCENTILE_CONT...).
_ORDERED_SET: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, n) for n in "PercentileCont PercentileDisc Mode Median Quantile".split()
)
_COMPARISON_NAMES = (
    "EQ NEQ NullSafeEQ NullSafeNEQ GT GTE LT LTE Like ILike RegexpLike RegexpILike SimilarTo Glob"
)
_COMPARISONS: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, n) for n in _COMPARISON_NAMES.split() if hasattr(exp, n)
)


class Classes:
    """The threshold class each expression carries into its result."""

    def __init__(self, scopes: Scopes, documented: KnownSchema) -> None:
        self.scopes = scopes
        self.documented = documented
        self._outputs: dict[int, list[str]] = {}

    def table(self, name: str) -> SchemaTable | None:
        """The classes of table `name`: the schema's where it lists the table, else the
        catalogue's (a table an instance's dataSources lacks may still be documented)."""
        schema = self.scopes.schema
        listed = schema.table(name) if schema else None
        return listed if listed is not None else self.documented.table(name)

    def outputs(self, scope: Scope) -> list[str]:
        """The class of every output column of `scope`, in order."""
        key = id(scope)
        if key not in self._outputs:
            self._outputs[key] = []  # a scope reading itself (invalid SQL) ends here
            self._outputs[key] = self._compute_outputs(scope)
        return self._outputs[key]

    def _compute_outputs(self, scope: Scope) -> list[str]:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            branches = [self.outputs(s) for s in scope.set_operation_scopes]
            return [strictest(column) for column in zip(*branches, strict=False)]
        if isinstance(expression, exp.Select) and "*" not in expression.named_selects:
            return [self.of(p.unalias(), scope) for p in expression.selects]
        return ["NONE"] * len(output_names(scope) or [])

    def of(self, node: exp.Expr, scope: Scope) -> str:
        if isinstance(node, exp.Column):
            return self.column_class(node, scope)
        if _null_test(node):
            return "NONE"
        if isinstance(node, exp.Window):
            function = _unwrap(node.this)
            return self._children(function, scope) if is_transparent(function) else "NONE"
        if isinstance(node, exp.AggFunc) and not is_transparent(node):
            return "NONE"
        if isinstance(node, exp.Query | exp.Subquery):
            inner = self.scopes.scope_of(node)
            return self.outputs(inner)[0] if inner and self.outputs(inner) else "NONE"
        return self._children(node, scope)

    def _children(self, node: exp.Expr, scope: Scope) -> str:
        return strictest(self.of(child, scope) for child in value_parts(node))

    def column_class(self, column: exp.Column, scope: Scope) -> str:
        source = self.scopes.resolve(column, scope).source or self._documented(column, scope)
        name = column.name.lower()
        if isinstance(source, exp.Table):
            table = self.table(source.name)
            found = table.column(name) if table else None
            return found.threshold if found else "NONE"
        if source is None:
            return "NONE"
        names = output_names(source) or []
        classes = self.outputs(source)
        index = names.index(name) if name in names else -1
        return classes[index] if 0 <= index < len(classes) else "NONE"

    def _documented(self, column: exp.Column, scope: Scope) -> exp.Table | None:
        """Without a schema, the one documented table of the scope that has the column."""
        if column.table:
            return None
        owners = [
            source
            for source in selected(scope).values()
            if isinstance(source, exp.Table)
            and (table := self.table(source.name)) is not None
            and table.column(column.name) is not None
        ]
        return owners[0] if len(owners) == 1 else None

    def origin(self, node: exp.Expr, scope: Scope, wanted: str) -> str | None:
        """The base column of class `wanted` that `node` takes its class from."""
        if isinstance(node, exp.Column):
            source = self.scopes.resolve(node, scope).source
            if isinstance(source, Scope):
                return self._origin_in(source, node.name.lower(), wanted)
            return node.name if self.of(node, scope) == wanted else None
        if isinstance(node, exp.AggFunc | exp.Window) and self.of(node, scope) == "NONE":
            return None
        for child in node.iter_expressions():
            found = self.origin(child, scope, wanted)
            if found:
                return found
        return None

    def _origin_in(self, scope: Scope, name: str, wanted: str) -> str | None:
        names = output_names(scope) or []
        index = names.index(name) if name in names else -1
        for branch, select in root_selects(scope):
            if 0 <= index < len(select.selects):
                found = self.origin(select.selects[index].unalias(), branch, wanted)
                if found:
                    return found
        return None


def _unwrap(node: exp.Expr) -> exp.Expr:
    """The function inside IGNORE NULLS / RESPECT NULLS."""
    while isinstance(node, exp.IgnoreNulls | exp.RespectNulls):
        node = node.this
    return node


def _null_test(node: exp.Expr) -> bool:
    """`x IS NULL`, ISNULL(x), ISNOTNULL(x): a boolean that does not reveal x."""
    if isinstance(node, exp.Is):
        return isinstance(node.expression, exp.Null)
    return isinstance(node, exp.Anonymous) and str(node.this).upper() in _NULL_TESTS


def value_parts(node: exp.Expr) -> list[exp.Expr]:
    """The parts of `node` whose values can reach its result, not the keys that only order
    them (an aggregate's ORDER BY, MAX_BY's key, ARRAY_SORT's comparator, a window's spec)."""
    if isinstance(node, exp.Order) and node.this is not None:
        return [node.this]
    if isinstance(node, exp.WithinGroup) and not isinstance(node.this, _ORDERED_SET):
        return [node.this]
    if isinstance(node, exp.ArgMax | exp.ArgMin | exp.ArraySort | exp.Window):
        return [node.this]
    return list(node.iter_expressions())


def is_transparent(node: exp.Expr | None) -> bool:
    if isinstance(node, exp.Anonymous):
        return str(node.this).upper() in ANONYMOUS_AGGREGATES
    return isinstance(node, TRANSPARENT)


def root_selects(scope: Scope) -> list[tuple[Scope, exp.Select]]:
    """The SELECTs whose rows a scope returns: itself, or every branch of its UNIONs."""
    expression = scope.expression
    if isinstance(expression, exp.SetOperation):
        return [pair for branch in scope.set_operation_scopes for pair in root_selects(branch)]
    return [(scope, expression)] if isinstance(expression, exp.Select) else []


def privacy_problems(parsed: Parsed, scopes: Scopes, documented: KnownSchema) -> list[Problem]:
    classes = Classes(scopes, documented)
    problems = list(_output_problems(parsed, classes))
    problems += _literal_filter_problems(parsed, classes)
    problems += _aggregation_problems(parsed, scopes)
    return problems


def _output_problems(parsed: Parsed, classes: Classes) -> Iterator[Problem]:
    for scope, select in root_selects(classes.scopes.root):
        for projection, cls in zip(select.selects, classes.outputs(scope), strict=False):
            if cls not in NOT_OUTPUTTABLE:
                continue
            base = classes.origin(projection.unalias(), scope, cls) or projection.alias_or_name
            shown = projection.alias_or_name
            renamed = f" (as output column '{shown}')" if shown and shown != base else ""
            yield parsed.problem(
                parsed.start(projection),
                f"column '{base}' has aggregation threshold {cls} and cannot be in the "
                f"output{renamed}",
                f"use it only inside COUNT(DISTINCT {base}) or in a join, never as a result column",
            )


def _literal_filter_problems(parsed: Parsed, classes: Classes) -> Iterator[Problem]:
    for scope in classes.scopes.scopes:
        for node in walk_in_scope(scope.expression):
            for side in literal_compared(node):
                cls = classes.of(side, scope)
                if cls not in NO_LITERAL_FILTERS:
                    continue
                name = classes.origin(side, scope, cls) or side.sql()
                offset = parsed.start(node)
                if isinstance(node, exp.Case):
                    offset = parsed.keyword_before(offset, TokenType.CASE)
                yield parsed.problem(
                    offset,
                    f"column '{name}' has aggregation threshold {cls} and cannot be compared "
                    "with literal values",
                    "filter on a lower-threshold column instead; HIGH and VERY_HIGH values may "
                    "be grouped or counted, not matched against literals or parameters",
                )


def literal_compared(node: exp.Expr) -> list[exp.Expr]:
    """The operands that `node` compares with constants only (literals, parameters)."""
    if isinstance(node, _COMPARISONS):
        left, right = node.this, node.expression
        return [s for s, o in ((left, right), (right, left)) if constant(o) and not constant(s)]
    if isinstance(node, exp.Between):
        bounds = [node.args.get("low"), node.args.get("high")]
        return [node.this] if all(constant(b) for b in bounds if b is not None) else []
    if isinstance(node, exp.In):
        if isinstance(node.args.get("field"), exp.Placeholder):
            return [node.this]
        if node.expressions and not node.args.get("query"):
            return [node.this] if all(constant(e) for e in node.expressions) else []
    if isinstance(node, exp.Case) and node.this is not None:
        whens = [branch.this for branch in node.args.get("ifs") or []]
        return [node.this] if whens and all(constant(w) for w in whens) else []
    return _membership(node)


def _membership(node: exp.Expr) -> list[exp.Expr]:
    """ARRAY_CONTAINS(literal array, x) and AMC's CONTAINED_IN(x, literal array)."""
    if isinstance(node, exp.ArrayContains):
        return [node.expression] if constant(node.this) else []
    if isinstance(node, exp.Anonymous) and str(node.this).upper() == "CONTAINED_IN":
        arguments = node.expressions
        if len(arguments) == 2 and constant(arguments[1]) and not constant(arguments[0]):
            return [arguments[0]]
    return []


def constant(node: exp.Expr | None) -> bool:
    """A value with no column or query inside: literals, placeholders, parameter calls."""
    if node is None:
        return False
    return not any(isinstance(n, exp.Column | exp.Query) for n in node.walk())


def _aggregation_problems(parsed: Parsed, scopes: Scopes) -> Iterator[Problem]:
    offender = _row_level(scopes.root, scopes)
    if offender is not None:
        first = parsed.start(offender.expressions[0]) if offender.expressions else None
        yield parsed.problem(
            parsed.keyword_before(first, TokenType.SELECT) if first is not None else None,
            "the query must aggregate: AMC does not export event-level rows",
            "aggregate the result, e.g. SUM(impressions) or COUNT(DISTINCT user_id) with GROUP "
            "BY the dimensions",
        )


def _row_level(scope: Scope, scopes: Scopes) -> exp.Select | None:
    """A SELECT of `scope` that passes individual events through to its result, if any."""
    expression = scope.expression
    if isinstance(expression, exp.SetOperation):
        for branch in scope.set_operation_scopes:
            found = _row_level(branch, scopes)
            if found is not None:
                return found
        return None
    if not isinstance(expression, exp.Select) or aggregating(expression):
        return None
    for source in selected(scope).values():
        if isinstance(source, exp.Table) or _row_level(source, scopes) is not None:
            return expression
    return None


def aggregating(select: exp.Select) -> bool:
    """GROUP BY, or an aggregate (not a window function) of this SELECT."""
    if select.args.get("group"):
        return True
    for clause in (*select.expressions, select.args.get("having")):
        if clause is None:
            continue
        for node in clause.walk():
            if _aggregate(node) and node.find_ancestor(exp.Select) is select:
                if not _windowed(node):
                    return True
    return False


def _aggregate(node: exp.Expr) -> bool:
    return isinstance(node, exp.AggFunc) or (
        isinstance(node, exp.Anonymous) and str(node.this).upper() in ANONYMOUS_AGGREGATES
    )


def _windowed(node: exp.Expr) -> bool:
    child, parent = node, node.parent
    while parent is not None and not isinstance(parent, exp.Query):
        if isinstance(parent, exp.Window) and child.arg_key == "this":
            return True
        child, parent = parent, parent.parent
    return False
