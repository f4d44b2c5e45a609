"""Problems found in an AMC SQL file, and their text and JSON forms (contracts.md)."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from amc_manager.errors import InvalidQuery

HINT_INDENT = "    "


class Severity(StrEnum):
    """An error stops submission (exit 2); a warning is worth reading but does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding. `line` and `column` are 1-based, both None for problems with no place in the
    file (the window, parameter values)."""

    file: str
    line: int | None
    column: int | None
    severity: Severity
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[int, int, int]:
        """Placed problems in file order first, then the placeless ones as found (stable)."""
        if self.line is None:
            return (1, 0, 0)
        return (0, self.line, self.column or 0)


class Source:
    """The text of one SQL file: turns character offsets into 1-based lines and columns."""

    def __init__(self, text: str, file: str = "<sql>") -> None:
        self.text = text
        self.file = file
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of the character at `offset`."""
        index = bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def problem(
        self,
        offset: int | None,
        message: str,
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> Problem:
        """A problem at `offset` (None: no place in the file)."""
        if offset is None:
            return placeless(self.file, message, hint, severity)
        line, column = self.position(offset)
        return Problem(self.file, line, column, severity, message, hint)


def placeless(
    file: str, message: str, hint: str | None = None, severity: Severity = Severity.ERROR
) -> Problem:
    """A problem with no place in the file (window, parameter values)."""
    return Problem(file, None, None, severity, message, hint)


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def format_problem(problem: Problem) -> str:
    """`FILE:LINE:COLUMN: severity: message` (or `FILE: severity: message`), hint below."""
    where = problem.file
    if problem.line is not None:
        where = f"{where}:{problem.line}:{problem.column}"
    text = f"{where}: {problem.severity.value}: {_one_line(problem.message)}"
    if problem.hint:
        text += f"\n{HINT_INDENT}hint: {_one_line(problem.hint)}"
    return text


def render_text(problems: Iterable[Problem]) -> str:
    """Every problem in order, one entry per problem, newline-terminated (empty when none)."""
    return "".join(format_problem(p) + "\n" for p in sort_problems(problems))


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=Problem.sort_key)


def problem_dict(problem: Problem) -> dict[str, object]:
    data = asdict(problem)
    data["severity"] = problem.severity.value
    return data


def render_json(
    file: str, problems: Sequence[Problem], extra: dict[str, object] | None = None
) -> str:
    """The `--json` report: counts, every problem, and any `extra` keys (the window)."""
    ordered = sort_problems(problems)
    errors = sum(p.is_error for p in ordered)
    report: dict[str, object] = {
        "file": file,
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(ordered) - errors,
        "problems": [problem_dict(p) for p in ordered],
        **(extra or {}),
    }
    return json.dumps(report, indent=2, ensure_ascii=False)


def summary(problems: Sequence[Problem]) -> str:
    """ "2 errors, 1 warning" or "no problems found"."""
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "no problems found"
    parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


def raise_for_errors(problems: Iterable[Problem]) -> None:
    """Raise InvalidQuery naming the first error, if any (for callers that submit the SQL)."""
    ordered = sort_problems(problems)
    for problem in ordered:
        if problem.is_error:
            where = f"{problem.file}:{problem.line}:{problem.column}" if problem.line else ""
            prefix = f"{where}: " if where else f"{problem.file}: "
            error = InvalidQuery(prefix + _one_line(problem.message), hint=problem.hint)
            error.problems = tuple(ordered)
            raise error
