"""What every `amc` command shares: settings, the runtime, async running, output to a terminal.

Only the standard library and typer are imported here at start-up: `amc --help` and commands
that call no AMC must not pay for the store, the sandbox, DuckDB or pyarrow (contracts.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from amc_manager.config import Settings
    from amc_manager.service.runtime import Runtime

T = TypeVar("T")
AsOption = Annotated[
    str | None, typer.Option("--as", metavar="EMAIL", help="Act as this user (AMC_USER).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]
InstanceOption = Annotated[
    str | None, typer.Option(metavar="ID", help="AMC instance id or internal id.")
]
GAP = "  "


def settings_for(as_user: str | None) -> Settings:
    from amc_manager.config import load_settings

    overrides: dict[str, Any] = {}
    if as_user:
        overrides["AMC_USER"] = as_user
    return load_settings(**overrides)


@asynccontextmanager
async def runtime_for(settings: Settings, *, calls_amc: bool = True) -> AsyncIterator[Runtime]:
    """The process's runtime; commands that call AMC register the embedded sandbox first."""
    from amc_manager.service.access import bootstrap_embedded
    from amc_manager.service.runtime import Runtime

    async with Runtime(settings) as runtime:
        if calls_amc:
            await bootstrap_embedded(runtime)
        yield runtime


def run_async(body: Callable[[], Awaitable[T]]) -> T:
    """Run `body` on uvloop when installed (it comes with uvicorn[standard], as `amc serve`
    uses it): every store statement hops to a driver thread and back, and asyncio's own loop
    spends a good part of a worker's CPU on those hops."""

    async def main() -> T:
        return await body()

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
        return None
    return uvloop.new_event_loop


def say(message: str) -> None:
    """A line for the person at the terminal (stderr), never mixed with the data on stdout."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


async def warn_without_worker(runtime: Runtime, notice: str) -> None:
    """Say `notice` on stderr when no worker is alive to drive the work just asked for."""
    from amc_manager.service.workers import worker_alive

    if not await worker_alive(runtime):
        say(notice)


def progress(message: str) -> None:
    """Progress goes to stderr, only when stderr is a terminal (contracts.md)."""
    if sys.stderr.isatty():
        say(message)


def emit(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def width() -> int:
    """The terminal's width (COLUMNS when set), 80 when unknown."""
    return shutil.get_terminal_size((80, 24)).columns


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, keep: int = 1) -> None:
    """Rows under a header, never wider than the terminal: values are never cut; when they
    do not fit, the rightmost columns beyond the first `keep` are left out (`--json` has all).
    Numbers are right-aligned."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    shown = list(range(len(columns)))
    while len(shown) > keep and _line_width(columns, cells, shown) > width():
        shown.pop()
    widths = {i: max([len(columns[i])] + [len(r[i]) for r in cells]) for i in shown}
    numeric = {i for i in shown if cells and all(_is_number(r[i]) for r in cells)}

    def line(values: Sequence[str]) -> str:
        parts = [
            values[i].rjust(widths[i]) if i in numeric else values[i].ljust(widths[i])
            for i in shown
        ]
        return GAP.join(parts).rstrip()

    emit(line(list(columns)))
    for row in cells:
        emit(line(row))


def _line_width(columns: Sequence[str], cells: list[list[str]], shown: list[int]) -> int:
    widths = [max([len(columns[i])] + [len(r[i]) for r in cells]) for i in shown]
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == ""
    return True


_USER_UMASK = {"value": 0o022}


def private_files() -> None:
    """Everything this process creates (AMC_HOME, the store, results, the sandbox's state) is
    readable by its owner only; the user's own umask is kept for files written where the user
    asks (`--output`)."""
    _USER_UMASK["value"] = os.umask(0o077)


def user_mode(path: Path) -> None:
    """Give a file written at the user's request the mode the user's umask asks for."""
    try:
        path.chmod(0o666 & ~_USER_UMASK["value"])
    except OSError:  # not ours to change (an existing file of someone else's): leave it
        pass
