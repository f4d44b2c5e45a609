"""Result files in a local folder (the default, `AMC_HOME/results`): publish is a rename."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from amc_manager.storage.base import ResultStorage, copy_chunks

if TYPE_CHECKING:
    import pyarrow as pa

TEMP_SUFFIX = ".tmp"


class LocalStorage(ResultStorage):
    """A folder on this host; locations are absolute paths (as the store has always kept)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.expanduser().absolute()
        self.root = str(self.folder)

    def holds(self, location: str) -> bool:
        return "://" not in location

    def location(self, name: str) -> str:
        return str(self.folder / name)

    def temporary(self, name: str) -> str:
        # Beside the final file, so the rename never crosses file systems.
        return str(self.folder / f".{name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")

    def upload(self, source: Path, temporary: str) -> None:
        target = Path(temporary)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.replace(source, target)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        with source.open("rb") as src, target.open("wb") as out:
            copy_chunks(src, out)
            out.flush()
            os.fsync(out.fileno())

    def publish(self, temporary: str, final: str) -> None:
        os.replace(temporary, final)

    def open_input(self, location: str) -> pa.NativeFile:
        import pyarrow as pa  # only when a result is read

        return pa.OSFile(location, "rb")

    def delete(self, location: str) -> bool:
        path = Path(location)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            return True
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, location: str) -> bool:
        return Path(location).is_file()

    def temporaries(self, older_than: float) -> list[str]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob(f".*{TEMP_SUFFIX}"):
            try:
                if path.stat().st_mtime < older_than:
                    found.append(str(path))
            except FileNotFoundError:
                continue
        return found
