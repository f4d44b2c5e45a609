"""The built browser assets (`make assets`): where they are, whether they are there, and
their URLs with a content hash so a browser never keeps a stale bundle."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
BUILD = STATIC / "build"
BUNDLES = ("app.js", "app.css", "editor.js", "results.js")
BUILD_COMMAND = "make assets"
log = logging.getLogger("amc_manager.web")


@dataclass(frozen=True)
class Assets:
    """The bundles found in `folder`; `missing` names those absent (then pages answer 503)."""

    folder: Path
    versions: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing

    def url(self, name: str) -> str:
        return f"/static/build/{name}?v={self.versions.get(name, '0')}"


def load_assets(folder: Path = BUILD) -> Assets:
    """Look for every bundle once (at start); warn once when any is missing."""
    versions: dict[str, str] = {}
    missing: list[str] = []
    for name in BUNDLES:
        path = folder / name
        if path.is_file():
            versions[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        else:
            missing.append(name)
    found = Assets(folder, versions, tuple(missing))
    if not found.ok:
        log.warning(
            "web dashboard assets are not built (%s missing in %s): pages answer 503 until "
            "`%s` builds them; the API serves as usual",
            ", ".join(found.missing),
            folder,
            BUILD_COMMAND,
        )
    return found
