"""An AMC SQL file read as a template: placeholders, `-- @param` declarations, parameter calls.

One linear scan that knows comments, string literals and quoted identifiers, so a `{{name}}`
counts only in code and a value can never leak out of a comment or a literal. Everything
later (lint, substitution) works from this scan, never from the substituted text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from amc_manager.sql.problems import Problem, Severity, Source
from amc_manager.sql.values import NAME, ParamType, coerce, load_json, parse_type

_LEXEME = re.compile(
    r"""
      (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?\*/)
    | (?P<open_comment>/\*)
    | (?P<string>'(?:[^']|'')*')
    | (?P<open_string>')
    | (?P<quoted>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
    | (?P<open_quoted>["`])
    | (?P<placeholder>\{\{[^{}\n]*\}\})
    | (?P<word>[^\W\d]\w*)
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.S | re.X,
)
_UNTERMINATED = {
    "open_comment": ("a /* comment is never closed", "end the comment with */"),
    "open_string": ("a string literal is never closed", "end it with ' (write '' for a quote)"),
    "open_quoted": ("a quoted name is never closed", "close the quote"),
}
_DECLARATION = re.compile(
    r"--\s*@param\b[ \t]*(?P<name>\S*)[ \t]*(?P<type>\S*)[ \t]*(?P<default>.*?)\s*$"
)
_IN_STRING = re.compile(r"\{\{\s*[^\W\d]\w*\s*\}\}")
_DECLARE_HINT = "write -- @param NAME TYPE [DEFAULT], e.g. -- @param min_clicks LONG 10"
BUILT_IN_NAMES = frozenset({"TIME_WINDOW_START", "TIME_WINDOW_END", "TIME_WINDOW_TIME_ZONE"})


@dataclass(frozen=True)
class Lexeme:
    """One token of code (comments and white space are not kept)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class PlaceholderUse:
    """One `{{name}}` in code; `in_list` when it directly follows IN (`x IN {{name}}`)."""

    name: str
    start: int
    end: int
    in_list: bool


@dataclass(frozen=True)
class Declaration:
    """`-- @param NAME TYPE [DEFAULT]`; `default` is already in AMC's parameterValues form."""

    name: str
    ptype: ParamType
    default: object | None
    offset: int


@dataclass(frozen=True)
class ParamCall:
    """`CUSTOM_PARAMETER('name')` or `BUILT_IN_PARAMETER('name')` found in code."""

    function: str
    name: str
    offset: int


@dataclass(frozen=True)
class Template:
    """The scan of one SQL file."""

    source: Source
    lexemes: tuple[Lexeme, ...]
    placeholders: tuple[PlaceholderUse, ...]
    declarations: tuple[Declaration, ...]
    calls: tuple[ParamCall, ...]
    problems: tuple[Problem, ...]
    fatal: bool = False
    words: frozenset[str] = field(default_factory=frozenset)
    broken: frozenset[str] = field(default_factory=frozenset)
    malformed: tuple[tuple[int, int], ...] = ()

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def first_code(self) -> int | None:
        return self.lexemes[0].start if self.lexemes else None

    @property
    def with_end(self) -> int | None:
        """Where the statement's leading WITH keyword ends, if it starts with one."""
        first = self.lexemes[0] if self.lexemes else None
        if first is not None and self.text[first.start : first.end].upper() == "WITH":
            return first.end
        return None

    def custom_calls(self) -> list[ParamCall]:
        return [c for c in self.calls if c.function == "CUSTOM_PARAMETER"]

    def parse_text(self) -> str:
        """The text with each `{{name}}` replaced by a `:_name` sentinel of the same length,
        so offsets, lines and columns stay those of the file."""
        spans = [(u.start, u.end, f":_{u.name}") for u in self.placeholders]
        spans += [(start, end, "NULL") for start, end in self.malformed]
        pieces: list[str] = []
        position = 0
        for start, end, sentinel in sorted(spans):
            pieces += [self.text[position:start], sentinel.ljust(end - start)]
            position = end
        pieces.append(self.text[position:])
        return "".join(pieces)


def scan_template(text: str, file: str = "<sql>") -> Template:
    """Scan `text` once: code lexemes, comments, placeholders, declarations and problems."""
    source = Source(text, file)
    scan = _Scan(source)
    scan.run()
    lexemes = tuple(scan.lexemes)
    first = lexemes[0].start if lexemes else len(text)
    broken: set[str] = set()
    declarations = _declarations(source, scan.comments, first, scan.problems, broken)
    malformed: list[tuple[int, int]] = []
    return Template(
        source=source,
        lexemes=lexemes,
        placeholders=tuple(_placeholders(source, lexemes, scan.problems, malformed)),
        declarations=declarations,
        calls=tuple(_calls(source, lexemes, scan.problems)),
        problems=tuple(scan.problems),
        fatal=scan.fatal,
        words=frozenset(_name_text(text, x).lower() for x in lexemes if x.kind in _NAMES),
        broken=frozenset(broken),
        malformed=tuple(malformed),
    )


_NAMES = ("word", "quoted")


def _name_text(text: str, lexeme: Lexeme) -> str:
    """A word, or a quoted name without its quotes."""
    if lexeme.kind == "quoted":
        return text[lexeme.start + 1 : lexeme.end - 1]
    return text[lexeme.start : lexeme.end]


class _Scan:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.lexemes: list[Lexeme] = []
        self.comments: list[tuple[int, int]] = []
        self.problems: list[Problem] = []
        self.fatal = False

    def run(self) -> None:
        for match in _LEXEME.finditer(self.source.text):
            kind = match.lastgroup or "other"
            if kind in _UNTERMINATED:
                message, hint = _UNTERMINATED[kind]
                self.problems.append(self.source.problem(match.start(), message, hint))
                self.fatal = True
                return
            self._take(kind, match.start(), match.end())

    def _take(self, kind: str, start: int, end: int) -> None:
        if kind == "line_comment":
            self.comments.append((start, end))
        elif kind == "string":
            self._check_string(start, end)
            self.lexemes.append(Lexeme(kind, start, end))
        elif kind == "other" and self.source.text.startswith("{{", start):
            self.problems.append(
                self.source.problem(
                    start,
                    "'{{' opens a placeholder that is not closed on the same line",
                    "write {{name}}; names are letters, digits and _",
                )
            )
            self.lexemes.append(Lexeme(kind, start, end))
        elif kind not in ("space", "block_comment"):
            self.lexemes.append(Lexeme(kind, start, end))

    def _check_string(self, start: int, end: int) -> None:
        found = _IN_STRING.search(self.source.text, start, end)
        if found:
            self.problems.append(
                self.source.problem(
                    found.start(),
                    f"placeholder {found.group()} is inside a string literal, so it is not "
                    "substituted",
                    "remove the quotes around it: its value is quoted for you",
                )
            )


def _placeholders(
    source: Source,
    lexemes: tuple[Lexeme, ...],
    problems: list[Problem],
    malformed: list[tuple[int, int]],
) -> Iterator[PlaceholderUse]:
    previous: Lexeme | None = None
    for lexeme in lexemes:
        if lexeme.kind == "placeholder":
            inner = source.text[lexeme.start + 2 : lexeme.end - 2].strip()
            if NAME.fullmatch(inner):
                after_in = previous is not None and _word(source, previous) == "IN"
                yield PlaceholderUse(inner, lexeme.start, lexeme.end, after_in)
            else:
                malformed.append((lexeme.start, lexeme.end))
                problems.append(
                    source.problem(
                        lexeme.start,
                        f"'{source.text[lexeme.start : lexeme.end]}' is not a valid placeholder",
                        "write {{name}}; names start with a letter or _, then letters, digits, _",
                    )
                )
        previous = lexeme


def _word(source: Source, lexeme: Lexeme) -> str:
    return source.text[lexeme.start : lexeme.end].upper() if lexeme.kind == "word" else ""


def _calls(
    source: Source, lexemes: tuple[Lexeme, ...], problems: list[Problem]
) -> Iterator[ParamCall]:
    """CUSTOM_PARAMETER('x') / BUILT_IN_PARAMETER('x'): the name must be one string literal."""
    text = source.text
    for index, lexeme in enumerate(lexemes):
        function = _word(source, lexeme)
        if function not in ("CUSTOM_PARAMETER", "BUILT_IN_PARAMETER"):
            continue
        shape = [
            text[x.start : x.end] if x.kind != "string" else "'" for x in lexemes[index + 1 :][:3]
        ]
        if shape != ["(", "'", ")"]:
            problems.append(
                source.problem(
                    lexeme.start,
                    f"{function} takes exactly one argument, the parameter's name as a string "
                    "literal",
                    f"write {function}('name')",
                )
            )
            continue
        literal = lexemes[index + 2]
        name = text[literal.start + 1 : literal.end - 1].replace("''", "'")
        yield ParamCall(function, name, lexeme.start)


def _declarations(
    source: Source,
    comments: list[tuple[int, int]],
    first_code: int,
    problems: list[Problem],
    broken: set[str],
) -> tuple[Declaration, ...]:
    """The leading `-- @param` lines; names whose declaration has a problem go to `broken`
    (so their uses are not reported a second time as undeclared or without a value)."""
    found: dict[str, Declaration] = {}
    for start, end in comments:
        match = _DECLARATION.match(source.text, start, end)
        if match is None:
            continue
        if start > first_code:
            problems.append(_late_declaration(source, start))
            continue
        before = len(problems)
        declaration = _declaration(source, match, problems)
        if len(problems) > before:
            broken.add(match.group("name"))
        if declaration is None:
            continue
        if declaration.name in found:
            line, _ = source.position(found[declaration.name].offset)
            problems.append(
                source.problem(
                    declaration.offset,
                    f"parameter '{declaration.name}' is declared twice (first on line {line})",
                    "keep one declaration",
                )
            )
            continue
        found[declaration.name] = declaration
    return tuple(found.values())


def _late_declaration(source: Source, start: int) -> Problem:
    return source.problem(
        start,
        "@param declarations are read only from the comment lines before the query",
        "move it above the first line of SQL",
        Severity.WARNING,
    )


def _declaration(
    source: Source, match: re.Match[str], problems: list[Problem]
) -> Declaration | None:
    name, type_text, default_text = match.group("name", "type", "default")
    if not name or not type_text:
        problems.append(
            source.problem(match.start(), "incomplete @param declaration", _DECLARE_HINT)
        )
        return None
    if not NAME.fullmatch(name):
        problems.append(
            source.problem(
                match.start("name"),
                f"'{name}' is not a valid parameter name",
                "use letters, digits and _, starting with a letter or _",
            )
        )
        return None
    try:
        ptype = parse_type(type_text)
    except ValueError as exc:
        problems.append(source.problem(match.start("type"), str(exc), _DECLARE_HINT))
        return None
    default = _default(source, match, ptype, problems) if default_text else None
    return Declaration(name, ptype, default, match.start("name"))


def _default(
    source: Source, match: re.Match[str], ptype: ParamType, problems: list[Problem]
) -> object | None:
    text = match.group("default")
    try:
        return coerce(load_json(text), ptype, raw=False)
    except ValueError as exc:
        problems.append(
            source.problem(
                match.start("default"),
                f"default of '{match.group('name')}' does not fit {ptype}: {exc}",
                'DEFAULT is JSON: "text", 42, true, ["a", "b"]',
            )
        )
        return None
