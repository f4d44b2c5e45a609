"""AMC SQL as a sqlglot dialect, parsing into one statement, and Calcite-style compile errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ParseError, TokenError
from sqlglot.parser import Parser as BaseParser
from sqlglot.parsers.spark import SparkParser
from sqlglot.tokenizer_core import Token, TokenType

from amc_manager.sandbox.errors import SandboxError


class CompileError(SandboxError):
    """AMC compile failure. `details` is the full AMC-style message."""

    def __init__(self, details: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(details)
        self.details = details
        self.line = line
        self.column = column


Position = dict[str, int]
_ModifierParser = Callable[[BaseParser], tuple[str, Any]]


def _position(token: Token) -> Position:
    return {"line": token.line, "col": token.col, "start": token.start, "end": token.end}


def _record(node: object, key: str, *tokens: Token) -> None:
    """Remember token positions on a parsed node (`extent`: first and last token of a clause or
    statement; `keyword`: its leading keyword), for the positions of compile errors."""
    if isinstance(node, exp.Expr):
        node.meta[key] = tuple(_position(token) for token in tokens)


def _with_extent(parse: _ModifierParser) -> _ModifierParser:
    """A query-modifier parser (ORDER BY, LIMIT, ...) that records the clause's extent."""

    def parse_clause(parser: BaseParser) -> tuple[str, Any]:
        keyword = parser._curr
        key, clause = parse(parser)
        _record(clause, "extent", keyword, parser._prev)
        return key, clause

    return parse_clause


def _contained_in(args: list[exp.Expr]) -> exp.Expr:
    """AMC's CONTAINED_IN(value, array): ARRAY_CONTAINS with its arguments the other way round."""
    if len(args) != 2:
        return exp.Anonymous(this="CONTAINED_IN", expressions=args)
    return exp.ArrayContains(this=args[1], expression=args[0])


def _null_test(negated: bool) -> Callable[[list[exp.Expr]], exp.Expr]:
    """Spark's ISNULL(x) / ISNOTNULL(x), read as `x IS [NOT] NULL`."""
    name = "ISNOTNULL" if negated else "ISNULL"

    def build(args: list[exp.Expr]) -> exp.Expr:
        if len(args) != 1:
            return exp.Anonymous(this=name, expressions=args)
        test = exp.Is(this=args[0], expression=exp.Null())
        return exp.Not(this=test) if negated else test

    return build


class AMC(Spark):
    """Spark SQL as AMC runs it, read through a Calcite-style front end.

    The front end parses the text, so string literals follow standard SQL: only single quotes,
    a quote is doubled, and a backslash is an ordinary character. Identifiers may be double- or
    back-quoted, and names are case-insensitive (the inherited Hive normalisation).
    """

    class Tokenizer(Spark.Tokenizer):
        QUOTES = ["'"]
        STRING_ESCAPES = ["'"]
        IDENTIFIERS = ['"', "`"]
        RAW_STRINGS: ClassVar[list[str | tuple[str, str]]] = []
        # AMC's TIMESTAMP is a naive UTC timestamp, not Spark's session-zoned one.
        KEYWORDS = {**Spark.Tokenizer.KEYWORDS, "TIMESTAMP": TokenType.TIMESTAMP}

    class Parser(SparkParser):
        """Spark's parser plus AMC's function names, recording where statements, clauses and
        set operations start so that compile errors can point at their keywords."""

        FUNCTIONS: ClassVar[dict[str, Any]] = {
            **SparkParser.FUNCTIONS,
            "COLLECT": SparkParser.FUNCTIONS["COLLECT_LIST"],
            "CONTAINED_IN": _contained_in,
            "ISNULL": _null_test(negated=False),
            "ISNOTNULL": _null_test(negated=True),
        }
        QUERY_MODIFIER_PARSERS: ClassVar[dict[TokenType, _ModifierParser]] = {
            token: _with_extent(parse)
            for token, parse in SparkParser.QUERY_MODIFIER_PARSERS.items()
        }

        def _parse_statement(self) -> exp.Expr | None:
            first = self._curr
            statement: exp.Expr | None = super()._parse_statement()
            _record(statement, "extent", first, self._prev)
            return statement

        def parse_set_operation(
            self, this: exp.Expr | None, consume_pipe: bool = False, intersect_only: bool = False
        ) -> exp.SetOperation | None:
            start = self._index
            operation: exp.SetOperation | None = super().parse_set_operation(
                this, consume_pipe, intersect_only
            )
            if operation is not None:
                keyword = next(
                    (t for t in self._tokens[start:] if t.token_type in self.SET_OPERATIONS), None
                )
                if keyword is not None:
                    _record(operation, "keyword", keyword)
            return operation


_PREFIX = "Was unable to compile workflow {} because it was found to be invalid: "


@dataclass(frozen=True)
class Span:
    """A 1-based source range, Calcite's "From line L, column C to line L2, column C2"."""

    line: int
    column: int
    end_line: int
    end_column: int

    def describe(self) -> str:
        return (
            f"From line {self.line}, column {self.column} "
            f"to line {self.end_line}, column {self.end_column}"
        )


def _positions(node: exp.Expr) -> Iterator[Position]:
    """The token positions the parser recorded for `node` and its descendants."""
    for sub in node.walk():
        meta = sub.meta
        if "start" in meta and "line" in meta:
            yield meta
        yield from meta.get("extent", ())


def _span(positions: Iterator[Position]) -> Span | None:
    """The range from the first to the last of token `positions`."""
    first: Position | None = None
    last: Position | None = None
    for position in positions:
        if first is None or position["start"] < first["start"]:
            first = position
        if last is None or position["end"] > last["end"]:
            last = position
    if first is None or last is None:
        return None
    # Token metadata holds the column of the token's last character; the start column follows
    # from the token's length (tokens do not span lines except multi-line strings).
    start_column = max(1, first["col"] - (first["end"] - first["start"]))
    return Span(first["line"], start_column, last["line"], last["col"])


def span_of(*nodes: exp.Expr | None) -> Span | None:
    """The source range covered by the tokens of `nodes` and their descendants, if known."""
    return _span(p for node in nodes if node is not None for p in _positions(node))


def keyword_span(node: exp.Expr) -> Span | None:
    """The range of the keyword that introduced `node` (e.g. INTERSECT), if recorded."""
    return _span(iter(node.meta.get("keyword", ())))


def invalid(workflow_id: str, message: str, *nodes: exp.Expr | None) -> CompileError:
    """A CompileError worded like AMC, with the nodes' position when the parser recorded it."""
    return invalid_at(workflow_id, message, span_of(*nodes))


def invalid_at(workflow_id: str, message: str, span: Span | None) -> CompileError:
    """A CompileError worded like AMC, positioned at `span` when known."""
    where = f"{span.describe()}: " if span else ""
    details = f"{_PREFIX.format(workflow_id)}{where}{message}"
    return CompileError(details, span.line if span else None, span.column if span else None)


_STATEMENT_NAMES: dict[type[exp.Expr], str] = {
    exp.Drop: "DROP",
    exp.Create: "CREATE",
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Alter: "ALTER",
}


def parse_statement(sql: str, workflow_id: str) -> exp.Query:
    """Parse exactly one SELECT query, or raise CompileError as AMC would."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=AMC) if s is not None]
    except ParseError as error:
        raise _parse_failure(workflow_id, error) from None
    except TokenError as error:
        raise invalid(workflow_id, f"Lexical error: {error}") from None
    if not statements:
        raise invalid(workflow_id, "The query is empty")
    if len(statements) > 1:
        raise invalid(
            workflow_id,
            f"Only one statement is allowed, found {len(statements)}",
            statements[1],
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = _STATEMENT_NAMES.get(type(statement), statement.key.upper())
        raise invalid(
            workflow_id,
            f"{kind} statements are not supported; only SELECT queries can be run",
            statement,
        )
    return statement


def _parse_failure(workflow_id: str, error: ParseError) -> CompileError:
    first = error.errors[0] if error.errors else {}
    line, col = first.get("line"), first.get("col")
    highlight = first.get("highlight") or ""
    description = first.get("description") or str(error)
    if isinstance(line, int) and isinstance(col, int):
        # Calcite's parser wording; sqlglot reports the column of the token's last character.
        start = max(1, col - len(highlight) + 1) if highlight else col
        message = f'Encountered "{highlight}" at line {line}, column {start}. {description}'
        return CompileError(_PREFIX.format(workflow_id) + message, line, start)
    return CompileError(_PREFIX.format(workflow_id) + f"Syntax error: {description}")
