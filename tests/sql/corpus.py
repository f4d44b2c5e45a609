"""The SQL corpus: valid and invalid AMC queries with their values and expected problems.

Directives are leading comment lines, so the files stay plain AMC SQL:
`-- values: {JSON}` (typed values, as --param-json), `-- params: NAME=TEXT` (as --param),
`-- expect: LINE:COLUMN error|warning: message fragment` (invalid files).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from amc_manager.sql import ParamValue, Problem, Severity

ROOT = Path(__file__).parent / "corpus"
VALID = sorted((ROOT / "valid").glob("*.sql"))
INVALID = sorted((ROOT / "invalid").glob("*.sql"))
_EXPECT = re.compile(r"-- expect: (\d+):(\d+) (error|warning): (.+)$")
_VALUES = re.compile(r"-- values: (.+)$")
_PARAMS = re.compile(r"-- params: ([A-Za-z_]\w*)=(.*)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    column: int
    severity: Severity
    fragment: str

    def met_by(self, problem: Problem) -> bool:
        return (
            problem.line == self.line
            and problem.column == self.column
            and problem.severity is self.severity
            and self.fragment in problem.message
        )


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    text: str
    values: dict[str, ParamValue]
    expectations: tuple[Expectation, ...]


def load(path: Path) -> CorpusFile:
    text = path.read_text(encoding="utf-8")
    values: dict[str, ParamValue] = {}
    expectations: list[Expectation] = []
    for line in text.splitlines():
        if match := _VALUES.match(line):
            for name, value in json.loads(match.group(1)).items():
                values[name] = ParamValue(name, value, raw=False, origin="--param-json")
        elif match := _PARAMS.match(line):
            values[match.group(1)] = ParamValue(
                match.group(1), match.group(2), raw=True, origin="--param"
            )
        elif match := _EXPECT.match(line):
            line_no, column, severity, fragment = match.groups()
            expectations.append(
                Expectation(int(line_no), int(column), Severity(severity), fragment)
            )
    return CorpusFile(path, text, values, tuple(expectations))
