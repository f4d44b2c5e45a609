"""Parsing a template with our dialect, and source positions of the parsed nodes and keywords."""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from amc_manager.sql.dialect import DIALECT
from amc_manager.sql.problems import Problem, Severity
from amc_manager.sql.template import PlaceholderUse, Template

_STATEMENTS: dict[type[exp.Expr], str] = {
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Alter: "ALTER",
    exp.Values: "VALUES",
}
_OBJECT_TEXT = re.compile(r"\s*<[^<>]*(?:<[^<>]*>[^<>]*)*>")
_NAME_HOLDERS = (exp.Table, exp.TableAlias, exp.Column, exp.Identifier, exp.DataType)
_PLACE_HINT = "use placeholders where a literal value would go; names cannot be parameters"
_SYNTAX_HINT = "check the SQL just before this point: a missing comma, parenthesis or keyword?"


@dataclass(frozen=True)
class Parsed:
    """One parsed SELECT query with the tokens it came from."""

    template: Template
    query: exp.Query
    tokens: tuple[Token, ...]

    def start(self, node: exp.Expr | None) -> int | None:
        """Offset of the first character of `node` that the parser located."""
        if node is None:
            return None
        starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
        return min(starts) if starts else None

    def keyword_before(self, offset: int | None, *types: TokenType) -> int | None:
        """Offset of the nearest token of `types` before `offset` (a clause's keyword)."""
        if offset is None:
            return None
        index = bisect_left([t.start for t in self.tokens], offset) - 1
        while index >= 0:
            if self.tokens[index].token_type in types:
                return self.tokens[index].start
            index -= 1
        return None

    def problem(
        self,
        offset: int | None,
        message: str,
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> Problem:
        return self.template.source.problem(offset, message, hint, severity)


def parse_template(template: Template) -> Parsed | Problem:
    """The template's single SELECT query, or the problem that prevents reading one."""
    text = template.parse_text()
    try:
        with _quiet_sqlglot():
            tokens = tuple(DIALECT.tokenize(text))
            statements = [s for s in DIALECT.parser().parse(list(tokens), text) if s is not None]
    except ParseError as error:
        return _parse_problem(template, error, DIALECT.tokenize(text))
    except TokenError as error:
        return template.source.problem(0, f"the SQL cannot be read: {error}", _SYNTAX_HINT)
    if not statements:
        return template.source.problem(None, "the file holds no SQL query", "write one SELECT")
    first = statements[0]
    if len(statements) > 1:
        return template.source.problem(
            _statement_start(tokens, 1),
            f"only one statement can run, found {len(statements)}",
            "keep one SELECT query per file",
        )
    if not isinstance(first, exp.Query):
        kind = _statement_kind(first)
        return template.source.problem(
            _statement_start(tokens, 0),
            f"{kind} not supported: AMC runs one SELECT query",
            "write a SELECT (WITH ... SELECT) query; AMC cannot create or change tables",
        )
    return Parsed(template, first, tokens)


def misplaced_placeholders(parsed: Parsed) -> list[Problem]:
    """Placeholders the parser read as names (a table, a column alias...), not as values."""
    values = {
        n.meta.get("start")
        for n in parsed.query.find_all(exp.Placeholder)
        if not isinstance(n.parent, _NAME_HOLDERS) and n.arg_key != "alias"
    }
    return [
        parsed.problem(
            use.start,
            f"{{{{{use.name}}}}} cannot stand here: a placeholder is a value (a literal), not a "
            "name or a keyword",
            _PLACE_HINT,
        )
        for use in parsed.template.placeholders
        if use.start not in values
    ]


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to an opaque command; we report it instead."""
    logger = logging.getLogger("sqlglot")
    disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = disabled


def _statement_kind(statement: exp.Expr) -> str:
    if isinstance(statement, exp.Command):
        return f"{str(statement.this).upper()} statements are"
    kind = _STATEMENTS.get(type(statement))
    return f"{kind} statements are" if kind else "this statement is"


def _statement_start(tokens: tuple[Token, ...], index: int) -> int:
    seen = 0
    for position, token in enumerate(tokens):
        if seen == index:
            return token.start
        if token.token_type is TokenType.SEMICOLON:
            seen += 1
            if seen == index and position + 1 < len(tokens):
                return tokens[position + 1].start
    return 0


def _parse_problem(template: Template, error: ParseError, tokens: list[Token]) -> Problem:
    first = error.errors[0] if error.errors else {}
    line, col = first.get("line"), first.get("col")
    highlight = str(first.get("highlight") or "")
    # The error names the token by its line and last column; its offset is exact.
    offset = next((t.start for t in tokens if (t.line, t.col) == (line, col)), None)
    use = _placeholder_at(template, offset)
    if use is not None:
        return template.source.problem(
            use.start,
            f"{{{{{use.name}}}}} cannot stand here: a placeholder is a value (a literal), not a "
            "name or a keyword",
            _PLACE_HINT,
        )
    description = _describe(str(first.get("description") or error))
    where = f" at '{highlight}'" if highlight and offset is not None else ""
    return template.source.problem(offset, f"syntax error{where}: {description}", _SYNTAX_HINT)


def _placeholder_at(template: Template, offset: int | None) -> PlaceholderUse | None:
    if offset is None:
        return None
    for use in template.placeholders:
        if use.start <= offset < use.end:
            return use
    return None


def _describe(description: str) -> str:
    """sqlglot's wording without its internal class and token dumps."""
    if description.startswith("Invalid expression / Unexpected token"):
        return "unexpected token"
    if description.startswith("Required keyword"):
        return "incomplete expression"
    cleaned = _OBJECT_TEXT.sub("", description).strip()
    cleaned = cleaned.removesuffix(" but got").strip()
    return cleaned[:1].lower() + cleaned[1:] if cleaned else "the SQL cannot be parsed"
