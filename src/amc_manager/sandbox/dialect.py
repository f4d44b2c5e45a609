"""AMC SQL as a sqlglot dialect, parsing into one statement, and Calcite-style compile errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType


class CompileError(Exception):
    """AMC compile failure. `details` is the full AMC-style message."""

    def __init__(self, details: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(details)
        self.details = details
        self.line = line
        self.column = column


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


def span_of(*nodes: exp.Expr | None) -> Span | None:
    """The source range covered by the tokens of `nodes` and their descendants, if known."""
    first: dict[str, int] | None = None
    last: dict[str, int] | None = None
    subs = (sub for node in nodes if node is not None for sub in node.walk())
    for sub in subs:
        meta = sub.meta
        if "start" not in meta or "line" not in meta:
            continue
        if first is None or meta["start"] < first["start"]:
            first = meta
        if last is None or meta["end"] > last["end"]:
            last = meta
    if first is None or last is None:
        return None
    # Token metadata holds the column of the token's last character; the start column follows
    # from the token's length (tokens do not span lines except multi-line strings).
    start_column = max(1, first["col"] - (first["end"] - first["start"]))
    return Span(first["line"], start_column, last["line"], last["col"])


def invalid(workflow_id: str, message: str, *nodes: exp.Expr | None) -> CompileError:
    """A CompileError worded like AMC, with the nodes' position when the parser recorded it."""
    span = span_of(*nodes)
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
