"""The architecture as a test: arrows point down only, type-hint imports included.

Every `import` and `from ... import` in a module counts wherever it stands (top level, inside a
function, under `if TYPE_CHECKING:`), so a layer cannot reach another one by hiding the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "amc_manager"

# part -> the amc_manager parts it must never import
FORBIDDEN = {
    "cli": ("store", "engine", "storage"),
    "api": ("store", "engine", "cli", "sandbox", "storage"),
    "web": ("store", "engine", "cli", "sandbox"),
    "client": ("store", "engine", "sandbox", "service", "cli"),
    "sql": ("sandbox", "store", "engine", "client", "service", "cli"),
    "store": ("engine", "service", "cli", "sandbox", "storage"),
    # Result storage: a lower layer beside the store and the client (files, not rows or HTTP
    # to AMC); the engine and the application layer use it, front ends never.
    "storage": ("store", "engine", "service", "cli", "api", "sandbox", "client", "sql"),
    "engine": ("service", "cli", "sandbox"),
    "service": ("cli",),
    "catalogue": ("sandbox", "sql", "store", "engine", "client", "service", "cli"),
}
# The sandbox is a separate AMC: besides itself it may read only the neutral leaves.
SANDBOX_MAY_IMPORT = ("sandbox", "errors", "catalogue")


def imported_parts(path: Path) -> set[str]:
    """The `amc_manager.<part>` names a module imports, however and wherever it does."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {
        name.split(".")[1]
        for name in names
        if name.startswith("amc_manager.") and len(name.split(".")) > 1
    }


def modules_of(part: str) -> list[Path]:
    folder = PACKAGE / part
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{part}.py"]


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_arrows_point_down(part: str) -> None:
    offences = [
        f"{path.relative_to(PACKAGE)} imports amc_manager.{found}"
        for path in modules_of(part)
        for found in sorted(imported_parts(path) & set(FORBIDDEN[part]))
    ]
    assert not offences, "\n".join(offences)


def test_the_sandbox_imports_only_itself_and_neutral_leaves() -> None:
    offences = [
        f"{path.relative_to(PACKAGE)} imports amc_manager.{found}"
        for path in modules_of("sandbox")
        for found in sorted(imported_parts(path) - set(SANDBOX_MAY_IMPORT))
    ]
    assert not offences, "\n".join(offences)


def test_the_scanner_sees_hidden_imports(tmp_path: Path) -> None:
    """The check itself must be able to fail: imports under TYPE_CHECKING and in functions."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from amc_manager.store.rows import ExecutionRow\n"
        "def f() -> None:\n"
        "    import amc_manager.engine.engine\n"
        "    from amc_manager import sandbox\n"
    )
    assert imported_parts(module) == {"store", "engine", "sandbox"}
