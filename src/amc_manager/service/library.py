"""The query library: ready AMC analyses, each an SQL file whose header says what it answers.

The library is every `.sql` file in the package's `examples/` folder (the shipped examples the
README and `amc demo` run) and `library/` folder (the other analyses). A file's leading `--`
comment lines are its header:

    -- title: Reach and frequency by campaign
    -- question: How many users did each DSP campaign reach, and how often did each see it?
    -- tables: dsp_impressions
    -- description: How to read the result, caveats, what to change
    --   (a `--` line without a key continues the field above it).
    -- @param min_impressions LONG 1

`title`, `question` and `tables` are required, `description` is optional, each key at most
once. Parameters are read from the SQL itself: `-- @param NAME TYPE [DEFAULT]` declarations
(AMC's CUSTOM_PARAMETER) and `{{name}}` placeholders (substituted before submission).
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amc_manager.catalogue import CATALOGUE
from amc_manager.errors import UsageError
from amc_manager.service import runs
from amc_manager.service.checks import RunOptions, WindowInput
from amc_manager.service.runtime import Runtime
from amc_manager.sql import ParamValue, scan_template

PACKAGE = Path(__file__).resolve().parent.parent
FOLDERS = ("examples", "library")
KEYS = ("title", "question", "tables", "description")
REQUIRED = ("title", "question", "tables")
_KEY_LINE = re.compile(r"^--\s*(?P<key>[a-z]+):\s*(?P<value>.*?)\s*$")
_DECLARATION_LINE = re.compile(r"^--\s*@param\b")
_PARAM_LINE = re.compile(r"^--\s*@param\s+(?P<name>\S+)\s+\S+(?:\s+(?P<default>.+?))?\s*$")


@dataclass(frozen=True)
class LibraryParameter:
    """A value the query takes: `custom_parameter` (AMC's CUSTOM_PARAMETER, declared with
    `-- @param`) or `placeholder` (`{{name}}`, which always needs a value)."""

    name: str
    kind: str
    type: str | None = None
    default: Any = None
    has_default: bool = False

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"name": self.name, "kind": self.kind, "type": self.type}
        item["required"] = not self.has_default
        if self.has_default:
            item["default"] = self.default
        return item

    def describe(self) -> str:
        """One line for people: `name TYPE (default 5)`."""
        text = f"{self.name} {self.type}" if self.type else f"{{{{{self.name}}}}}"
        if self.has_default:
            return f"{text} (default {json.dumps(self.default)})"
        return f"{text} (required)"


@dataclass(frozen=True)
class LibraryEntry:
    """One analysis of the library: what it answers, what it reads and takes, and its SQL."""

    name: str
    title: str
    question: str
    tables: tuple[str, ...]
    parameters: tuple[LibraryParameter, ...]
    source: str  # the file, relative to the package (`examples/x.sql`, `library/x.sql`)
    sql: str = field(repr=False)
    description: str = ""

    @property
    def paid_features(self) -> tuple[str, ...]:
        """The AMC Paid Features subscriptions the tables need (none for most)."""
        found = (CATALOGUE.table(t) for t in self.tables)
        return tuple(sorted({t.paid_feature for t in found if t and t.paid_feature}))

    def summary(self) -> dict[str, Any]:
        """What `amc library list --json` and `GET /api/v1/library` show per entry."""
        return {
            "name": self.name,
            "title": self.title,
            "question": self.question,
            "tables": list(self.tables),
            "parameters": [p.to_json() for p in self.parameters],
            "paid_features": list(self.paid_features),
        }

    def to_json(self) -> dict[str, Any]:
        """The summary plus the description, the file and the SQL."""
        return {
            **self.summary(),
            "description": self.description,
            "source": self.source,
            "sql": self.sql,
        }


def list_entries() -> list[LibraryEntry]:
    """Every library query, by name."""
    return list(_library().values())


def get_entry(name: str) -> LibraryEntry:
    """The library query called `name` (a file stem, `.sql` tolerated); UsageError naming the
    closest names when there is none."""
    library = _library()
    key = name.strip().removesuffix(".sql")
    entry = library.get(key)
    if entry is None:
        raise UsageError(f"no library query named '{name}'", hint=_suggestion(key, library))
    return entry


def run_request(
    name: str,
    *,
    instance: str,
    window: WindowInput,
    values: Mapping[str, ParamValue] | None = None,
    options: RunOptions | None = None,
    lint: bool = True,
) -> runs.RunRequest:
    """The run of a library query, as `amc run` of its file would ask for it."""
    entry = get_entry(name)
    return runs.RunRequest(
        instance=instance,
        window=window,
        sql=entry.sql,
        source=entry.source,
        values=dict(values or {}),
        options=options or RunOptions(),
        lint=lint,
    )


async def submit(
    runtime: Runtime,
    email: str,
    name: str,
    *,
    instance: str,
    window: WindowInput,
    values: Mapping[str, ParamValue] | None = None,
    options: RunOptions | None = None,
    lint: bool = True,
) -> runs.Submitted:
    """Check and queue a run of the library query `name` (then `runs.follow_run` drives it)."""
    request = run_request(
        name, instance=instance, window=window, values=values, options=options, lint=lint
    )
    return await runs.submit(runtime, email, request)


def _suggestion(key: str, library: Mapping[str, LibraryEntry]) -> str:
    names = list(library)
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    close += [n for n in names if key and key.lower() in n and n not in close][: 3 - len(close)]
    listing = "`amc library list` shows them all"
    if not close:
        return listing
    return f"did you mean {', '.join(close)}? {listing}"


@functools.cache
def _library() -> dict[str, LibraryEntry]:
    entries: dict[str, LibraryEntry] = {}
    for folder in FOLDERS:
        for path in sorted((PACKAGE / folder).glob("*.sql")):
            entry = parse_entry(path.read_text(encoding="utf-8"), f"{folder}/{path.name}")
            taken = entries.get(entry.name)
            if taken is not None:
                raise ValueError(f"{entry.source}: the name is taken by {taken.source}")
            entries[entry.name] = entry
    return dict(sorted(entries.items()))


def parse_entry(sql: str, source: str) -> LibraryEntry:
    """One library file read: its header fields, its parameters and its SQL. A header that
    breaks the format is a defect of the library, a ValueError naming the file."""
    fields = header_fields(sql, source)
    missing = [k for k in REQUIRED if not fields.get(k)]
    if missing:
        raise ValueError(f"{source}: the header lacks {', '.join(missing)}")
    tables = tuple(t.strip().lower() for t in fields["tables"].split(",") if t.strip())
    return LibraryEntry(
        name=Path(source).stem,
        title=fields["title"],
        question=fields["question"],
        tables=tables,
        parameters=parameters_of(sql, source),
        source=source,
        sql=sql,
        description=fields.get("description", ""),
    )


def header_fields(sql: str, source: str) -> dict[str, str]:
    """The `-- key: value` fields of the leading comment lines (continuations joined)."""
    fields: dict[str, str] = {}
    current: str | None = None
    for line in _header_lines(sql):
        match = _KEY_LINE.match(line)
        if _DECLARATION_LINE.match(line):
            current = None
        elif match is not None and match["key"] in KEYS:
            current = match["key"]
            if current in fields:
                raise ValueError(f"{source}: '{current}' is given twice in the header")
            fields[current] = match["value"]
        elif match is not None:
            raise ValueError(f"{source}: unknown header key '{match['key']}'")
        elif current is not None:
            fields[current] = f"{fields[current]} {line.removeprefix('--').strip()}".strip()
    return fields


def _header_lines(sql: str) -> list[str]:
    lines: list[str] = []
    for raw in sql.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        lines.append(line)
    return lines


def parameters_of(sql: str, source: str) -> tuple[LibraryParameter, ...]:
    """`-- @param` declarations (with their JSON defaults) and `{{name}}` placeholders."""
    template = scan_template(sql, source)
    errors = [p for p in template.problems if p.is_error]
    if errors:
        raise ValueError(f"{source}: {errors[0].message}")
    defaults = _default_texts(sql)
    found: list[LibraryParameter] = []
    for declaration in template.declarations:
        text = defaults.get(declaration.name)
        found.append(
            LibraryParameter(
                name=declaration.name,
                kind="custom_parameter",
                type=str(declaration.ptype),
                default=json.loads(text) if text is not None else None,
                has_default=text is not None,
            )
        )
    seen = {p.name for p in found}
    for use in template.placeholders:
        if use.name not in seen:
            seen.add(use.name)
            found.append(LibraryParameter(name=use.name, kind="placeholder"))
    return tuple(found)


def _default_texts(sql: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for line in _header_lines(sql):
        match = _PARAM_LINE.match(line)
        if match is not None and match["default"] is not None:
            texts[match["name"]] = match["default"]
    return texts
