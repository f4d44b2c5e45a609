"""Our AMC SQL dialect for sqlglot: Spark SQL read as AMC's Calcite-style front end reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.parsers.spark import SparkParser
from sqlglot.tokenizer_core import Token, TokenType


class AmcDialect(Spark):
    """AMC SQL (amc-api.md 6.3): Spark's functions and types behind a standard-SQL lexer.

    String literals follow standard SQL (amc-api.md 3.8): only single quotes, a quote is
    doubled, a backslash is an ordinary character. Identifiers may be double- or back-quoted.
    The linter reads templates whose `{{name}}` placeholders were replaced by `:_name`
    sentinels of the same length; the parser keeps the sentinel's position so problems about a
    placeholder point at it.
    """

    class Tokenizer(Spark.Tokenizer):
        QUOTES: ClassVar[list[tuple[str, str] | str]] = ["'"]
        STRING_ESCAPES: ClassVar[list[str]] = ["'"]
        IDENTIFIERS: ClassVar[list[tuple[str, str] | str]] = ['"', "`"]
        RAW_STRINGS: ClassVar[list[str | tuple[str, str]]] = []
        # AMC's TIMESTAMP is a plain (UTC) timestamp, not Spark's session-zoned one.
        KEYWORDS: ClassVar[dict[str, TokenType]] = {
            **Spark.Tokenizer.KEYWORDS,
            "TIMESTAMP": TokenType.TIMESTAMP,
        }

    class Parser(SparkParser):
        # `:name` keeps its position; Spark's `{name}` widgets are not AMC SQL (a `{x}` typo
        # for `{{x}}` must not parse as a value).
        PLACEHOLDER_PARSERS: ClassVar[dict[TokenType, Callable[[Any], exp.Expr | None]]] = {
            **{
                token: parser
                for token, parser in SparkParser.PLACEHOLDER_PARSERS.items()
                if token is not TokenType.L_BRACE
            },
            TokenType.COLON: lambda self: self._parse_positioned_placeholder(),
        }

        def _parse_positioned_placeholder(self) -> exp.Expr | None:
            colon: Token = self._prev
            if not self._match_set(self.COLON_PLACEHOLDER_TOKENS):
                return None
            name: Token = self._prev
            node: exp.Expr = self.expression(exp.Placeholder(this=name.text))
            return node.update_positions(
                line=colon.line, col=name.col, start=colon.start, end=name.end
            )


DIALECT = AmcDialect()
