"""Grammar AMC refuses (amc-api.md 6.3): SELECT *, LIMIT, ORDER BY outside windows, RIGHT JOIN,
INTERSECT/EXCEPT, and column counts that do not match (VALUES rows, column lists, UNIONs)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

from amc_manager.sql.problems import Problem, Severity
from amc_manager.sql.syntax import Parsed

_RANK_HINT = "keep the top rows with RANK() or ROW_NUMBER() OVER (...) in a sub-query, then filter"
_CLAUSES: dict[str, tuple[TokenType, str, str]] = {
    "order": (
        TokenType.ORDER_BY,
        "ORDER BY is not supported outside window specifications",
        "drop it and sort the downloaded result; ORDER BY is allowed only inside OVER (...)",
    ),
    "limit": (TokenType.LIMIT, "LIMIT is not supported", _RANK_HINT),
    "offset": (TokenType.OFFSET, "OFFSET is not supported", _RANK_HINT),
    "fetch": (TokenType.FETCH, "FETCH is not supported", _RANK_HINT),
    "sort": (TokenType.SORT_BY, "SORT BY is not supported", "drop it"),
    "cluster": (TokenType.CLUSTER_BY, "CLUSTER BY is not supported", "drop it"),
    "distribute": (TokenType.DISTRIBUTE_BY, "DISTRIBUTE BY is not supported", "drop it"),
}
# AMC functions (amc-api.md 6.3) and Spark functions that sqlglot reads as unknown ones;
# every other unknown name is worth a warning (AMC: "No match found for function signature").
KNOWN_FUNCTIONS = frozenset(
    "CUSTOM_PARAMETER BUILT_IN_PARAMETER SECONDS_BETWEEN CONVERT_TIME_ZONE_FROM_UTC "
    "CONVERT_TIME_ZONE_TO_UTC EPOCH_TO_UTC_TIMESTAMP HASH64 CONTAINED_IN COLLECT ISNULL "
    "ISNOTNULL WEEKDAY DATE_PART DATEPART CARDINALITY EXTEND_TIME_WINDOW UUID".split()
)
_SAME_COUNT = "give every row the same number of values"


def grammar_problems(parsed: Parsed) -> list[Problem]:
    """Every refused construct, each at its keyword or first token."""
    problems = list(_stray_commas(parsed))
    for node in parsed.query.walk():
        if isinstance(node, exp.Query):
            problems += _clauses(parsed, node)
        if isinstance(node, exp.Intersect | exp.Except):
            problems.append(_set_operation(parsed, node))
        elif isinstance(node, exp.SetOperation):
            problems += _union_widths(parsed, node)
        if isinstance(node, exp.Join) and node.side.upper() == "RIGHT":
            problems.append(
                parsed.problem(
                    parsed.keyword_before(parsed.start(node.this), TokenType.RIGHT),
                    "RIGHT JOIN is not supported",
                    "swap the two tables and use LEFT JOIN",
                )
            )
        if isinstance(node, exp.Select):
            problems += _stars(parsed, node)
            problems += _ordinals(parsed, node)
        if isinstance(node, exp.Values):
            problems += _values(parsed, node)
        if isinstance(node, exp.CTE):
            problems += _cte_columns(parsed, node)
        if isinstance(node, exp.Anonymous) and str(node.this).upper() not in KNOWN_FUNCTIONS:
            problems.append(_unknown_function(parsed, node))
    return problems


def _unknown_function(parsed: Parsed, node: exp.Anonymous) -> Problem:
    return parsed.problem(
        parsed.start(node),
        f"unknown function '{node.this}': neither an AMC function nor one of Spark SQL's",
        "check the name against AMC's SQL functions (e.g. SECONDS_BETWEEN, not DATEDIFF)",
        Severity.WARNING,
    )


def _stray_commas(parsed: Parsed) -> Iterator[Problem]:
    tokens = parsed.tokens
    for comma, following in zip(tokens, tokens[1:], strict=False):
        if comma.token_type is TokenType.COMMA and following.token_type in (
            TokenType.FROM,
            TokenType.R_PAREN,
        ):
            yield parsed.problem(
                comma.start,
                f"a comma before {following.text.upper()}",
                "remove the comma after the last item",
            )


def _clauses(parsed: Parsed, query: exp.Query) -> Iterator[Problem]:
    for arg, (keyword, message, hint) in _CLAUSES.items():
        clause = query.args.get(arg)
        if clause:
            offset = parsed.keyword_before(parsed.start(clause), keyword)
            yield parsed.problem(offset, message, hint)


def _set_operation(parsed: Parsed, node: exp.SetOperation) -> Problem:
    name = "INTERSECT" if isinstance(node, exp.Intersect) else "EXCEPT"
    keyword = (TokenType.INTERSECT, TokenType.EXCEPT)
    return parsed.problem(
        parsed.keyword_before(parsed.start(node.expression), *keyword),
        f"{name} is not supported",
        "only UNION and UNION ALL combine queries; use a JOIN or NOT EXISTS instead",
    )


def _union_widths(parsed: Parsed, node: exp.SetOperation) -> Iterator[Problem]:
    left, right = _width(node.this), _width(node.expression)
    if left is not None and right is not None and left != right:
        yield parsed.problem(
            parsed.keyword_before(parsed.start(node.expression), TokenType.UNION),
            f"the queries joined by UNION return {left} and {right} columns",
            "return the same columns, in the same order, from every branch",
        )


def _width(query: exp.Expr) -> int | None:
    """How many columns a query returns; None when a star hides it."""
    if isinstance(query, exp.Subquery):
        return _width(query.unnest())
    if isinstance(query, exp.SetOperation):
        return _width(query.this)
    if not isinstance(query, exp.Select):
        return None
    if any(isinstance(p, exp.Star) or isinstance(p.this, exp.Star) for p in query.expressions):
        return None
    return len(query.expressions)


def _stars(parsed: Parsed, select: exp.Select) -> Iterator[Problem]:
    for projection in select.expressions:
        star = isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        )
        offset = parsed.start(projection)
        # The parser writes its own `SELECT *` for `WITH t (a) AS (VALUES ...)`: a star that
        # is not in the text is not the user's.
        written = offset is not None and (
            isinstance(projection, exp.Column) or parsed.template.text.startswith("*", offset)
        )
        if star and written:
            yield parsed.problem(
                offset,
                "SELECT * is not supported",
                "name the columns you need; AMC never exports every column of a table",
            )


def _ordinals(parsed: Parsed, select: exp.Select) -> Iterator[Problem]:
    group = select.args.get("group")
    width = len(select.expressions)
    for key in group.expressions if group else []:
        if isinstance(key, exp.Literal) and key.is_int and not 1 <= int(key.name) <= width:
            yield parsed.problem(
                parsed.start(key),
                f"GROUP BY {key.name} names no column: the SELECT list has {width}",
                f"use a number from 1 to {width}, or name the expression",
            )


def _values(parsed: Parsed, values: exp.Values) -> Iterator[Problem]:
    rows = values.expressions
    widths = [len(r.expressions) if isinstance(r, exp.Tuple) else 1 for r in rows]
    for number, (row, width) in enumerate(zip(rows, widths, strict=True), start=1):
        if width != widths[0]:
            yield parsed.problem(
                _row_start(parsed, row),
                f"VALUES row {number} has {width} value{'s' * (width != 1)}, the first row "
                f"has {widths[0]}",
                _SAME_COUNT,
            )
    names = _values_column_names(values)
    if widths and names and len(names) != widths[0]:
        yield parsed.problem(
            _row_start(parsed, rows[0]),
            f"the column list names {len(names)} column{'s' * (len(names) != 1)} but the "
            f"VALUES rows have {widths[0]} value{'s' * (widths[0] != 1)}",
            "name one column per value",
        )


def _row_start(parsed: Parsed, row: exp.Expr) -> int | None:
    """A VALUES row starts at its parenthesis."""
    first = parsed.start(row)
    if isinstance(row, exp.Tuple):
        return parsed.keyword_before(first, TokenType.L_PAREN)
    return first


def _values_column_names(values: exp.Values) -> list[str]:
    if values.alias_column_names:
        return list(values.alias_column_names)
    select = values.parent.parent if isinstance(values.parent, exp.From) else None
    cte = select.parent if isinstance(select, exp.Select) else None
    if isinstance(cte, exp.CTE):
        return list(cte.alias_column_names)
    return []


def _cte_columns(parsed: Parsed, cte: exp.CTE) -> Iterator[Problem]:
    names = cte.alias_column_names
    query = cte.this
    if not names or not isinstance(query, exp.Query):
        return
    width = _width(query)
    if width is not None and width != len(names):
        alias = cte.args.get("alias")
        yield parsed.problem(
            parsed.start(alias),
            f"'{cte.alias}' names {len(names)} columns but its query returns {width}",
            "name one column per selected expression",
        )
