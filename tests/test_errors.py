"""Every exception class the package defines sits under AmcManagerError and is drawn in a tree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import amc_manager
from amc_manager.errors import AmcManagerError, ConfigurationError

# Alembic's migration scripts run against a live migration context when imported; they
# define no exception classes.
SKIPPED_PACKAGES = ("amc_manager.store.migrations",)


def _modules() -> list[ModuleType]:
    found = [amc_manager]
    for info in pkgutil.walk_packages(amc_manager.__path__, prefix="amc_manager."):
        if info.name.startswith(SKIPPED_PACKAGES):
            continue
        found.append(importlib.import_module(info.name))
    return found


def _exception_classes() -> list[tuple[ModuleType, type[BaseException]]]:
    found = []
    for module in _modules():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append((module, value))
    return found


def _trees_for(module: ModuleType) -> str:
    """The docstrings that may draw a class of `module`: its own, its package's `errors`
    module's, and the top `amc_manager.errors`'."""
    names = {module.__name__, "amc_manager.errors"}
    package = module.__name__.rpartition(".")[0]
    if package:
        names.add(f"{package}.errors")
    texts = []
    for name in sorted(names):
        try:
            texts.append(importlib.import_module(name).__doc__ or "")
        except ModuleNotFoundError:
            continue
    return "\n".join(texts)


def test_the_walk_sees_every_part_of_the_package() -> None:
    names = {module.__name__ for module in _modules()}
    for part in ("client", "store", "engine", "sandbox", "sql", "service", "cli"):
        assert any(name.startswith(f"amc_manager.{part}.") for name in names), part
    defined = {cls.__name__ for _, cls in _exception_classes()}
    assert {"AmcError", "StoreError", "IngestError", "SandboxHTTPError"} <= defined


def test_every_exception_class_is_under_amc_manager_error() -> None:
    outside = [
        f"{cls.__module__}.{cls.__qualname__}"
        for _, cls in _exception_classes()
        if not issubclass(cls, AmcManagerError)
    ]
    assert outside == []


def test_every_exception_class_is_drawn_in_its_family_tree() -> None:
    undrawn = [
        f"{cls.__module__}.{cls.__qualname__}"
        for module, cls in _exception_classes()
        if cls.__name__ not in _trees_for(module)
    ]
    assert undrawn == []


def test_hint_is_the_one_way_to_say_what_to_do() -> None:
    from amc_manager.client import ExecutionFailed, InvalidIdentity
    from amc_manager.sandbox.config import SandboxConfigError

    assert not any(hasattr(cls, "remedy") for _, cls in _exception_classes())
    default = InvalidIdentity("bad id")
    assert default.hint == InvalidIdentity.hint and default.hint in str(default)
    sharper = ExecutionFailed("execution x failed", hint="submit it again")
    assert str(sharper) == "execution x failed (submit it again)"
    config = SandboxConfigError("sandbox config: seed: not a number")
    assert isinstance(config, ConfigurationError) and config.exit_code == 2
