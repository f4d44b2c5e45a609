"""Query rewrite that makes every row carry the list of users it stands for (data lineage).

Each SELECT that feeds the result gets a hidden last column `__amc_users__` (BIGINT[]): base
tables contribute their row's `__user_key` (-1 standing for "a row without a user"), a plain
SELECT concatenates the lists of the rows it joins, and an aggregating SELECT unions the lists
of the rows it collapses. The result's lists then give each output row's distinct users.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from amc_manager.sandbox.lineage import Lineage, is_aggregating
from amc_manager.sandbox.rules import query_sources
from amc_manager.sandbox.tables import USER_KEY_COLUMN

USERS_COLUMN = "__amc_users__"
NO_USER = -1


def _call(name: str, *arguments: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(arguments))


def _empty() -> exp.Expr:
    return exp.cast(exp.Array(expressions=[]), exp.DataType.build("BIGINT[]", dialect="duckdb"))


def _user_key(alias: str) -> exp.Expr:
    key = exp.column(USER_KEY_COLUMN, table=alias)
    return exp.Coalesce(this=key, expressions=[exp.Literal.number(NO_USER)])


def add_user_lists(lineage: Lineage) -> exp.Query:
    """Rewrite the qualified query of `lineage` in place; returns the (possibly new) root."""
    carriers: dict[int, Scope] = {}
    _collect(lineage.root, carriers)
    root = lineage.root.expression
    for scope in carriers.values():
        if isinstance(scope.expression, exp.Select):
            _add_to_select(scope, carriers)
    for scope in carriers.values():
        query = scope.expression
        if isinstance(query, exp.Union) and query.args.get("distinct"):
            replacement = _deduplicated_union(query)
            if query is root:
                root = replacement
    assert isinstance(root, exp.Query)
    return root


def _collect(scope: Scope, carriers: dict[int, Scope]) -> None:
    """The scopes whose rows flow into the result (not WHERE sub-queries, not VALUES)."""
    if id(scope) in carriers or not isinstance(scope.expression, exp.Select | exp.Union):
        return
    carriers[id(scope)] = scope
    if isinstance(scope.expression, exp.Union):
        for branch in scope.set_operation_scopes:
            _collect(branch, carriers)
        return
    for _, source in query_sources(scope):
        if isinstance(source, Scope):
            _collect(source, carriers)


def _add_to_select(scope: Scope, carriers: dict[int, Scope]) -> None:
    select = scope.expression
    assert isinstance(select, exp.Select)
    _distinct_to_group(select)
    parts: list[exp.Expr] = []
    tables: list[str] = []
    for alias, source in query_sources(scope):
        if isinstance(source, exp.Table):
            tables.append(alias)
            parts.append(_call("list_value", _user_key(alias)))
        elif id(source) in carriers:
            users = exp.column(USERS_COLUMN, table=alias)
            parts.append(exp.Coalesce(this=users, expressions=[_empty()]))
    if not is_aggregating(select):
        users_expr = _concat(parts)
    elif len(parts) == 1 and len(tables) == 1:
        # One base table: aggregate the keys directly instead of one-element lists.
        users_expr = _call("list_distinct", _call("list", _user_key(tables[0])))
    else:
        users_expr = _call("list_distinct", _call("flatten", _call("list", _concat(parts))))
    select.append("expressions", exp.alias_(users_expr, USERS_COLUMN))


def _concat(parts: list[exp.Expr]) -> exp.Expr:
    if not parts:
        return _empty()
    combined = parts[0]
    for part in parts[1:]:
        combined = _call("list_concat", combined, part)
    return combined


def _distinct_to_group(select: exp.Select) -> None:
    """SELECT DISTINCT collapses rows, so it must union their users: make it a GROUP BY."""
    if not select.args.get("distinct") or select.args.get("group"):
        return
    if any(select.find_all(exp.Window)) or is_aggregating(select):
        return
    select.set("distinct", None)
    keys = [projection.unalias().copy() for projection in select.expressions]
    select.set("group", exp.Group(expressions=keys))


def _deduplicated_union(union: exp.Union) -> exp.Select:
    """UNION (distinct) regrouped so that merged rows union their user lists."""
    names = [n for n in union.named_selects if n != USERS_COLUMN]
    union.set("distinct", False)
    placeholder = exp.Select()
    union.replace(placeholder)
    keys = [exp.column(name, table="_u") for name in names]
    users = _call(
        "list_distinct", _call("flatten", _call("list", exp.column(USERS_COLUMN, table="_u")))
    )
    regrouped = (
        exp.select(*keys, exp.alias_(users, USERS_COLUMN))
        .from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("_u"))))
        .group_by(*[k.copy() for k in keys])
    )
    placeholder.replace(regrouped)
    return regrouped
