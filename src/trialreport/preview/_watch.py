"""Notice edits to the project's sources by polling file metadata.

Polling ``os.stat`` of a few dozen files every few tenths of a second costs next to nothing and
needs no platform notification API (inotify is not available on every file system a study may
live on, e.g. network shares); this is why no file-watching library is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

Snapshot = dict[str, tuple[int, int, int]]

#: Top-level files of the project that the book is made from.
PROJECT_FILES = ("_quarto.yml", "index.qmd", "CHANGELOG.md")
#: Folders watched recursively (the data folder is added by the caller).
PROJECT_DIRS = ("chapters", "data_spec")


def _ignored(name: str) -> bool:
    """Editor and tool droppings: hidden files, backups, swap files, byte code."""
    return (name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp", ".pyc"))
            or name == "__pycache__")


def _walk(folder: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
        for name in sorted(filenames):
            if not _ignored(name):
                yield Path(dirpath) / name


def watched_paths(root: Path, data_dir: Path) -> list[Path]:
    """Every file whose edit re-renders the preview."""
    paths = [root / name for name in PROJECT_FILES]
    paths += sorted(p for p in root.glob("*.qmd") if not _ignored(p.name))
    for folder in (*(root / d for d in PROJECT_DIRS), data_dir):
        if folder.is_dir():
            paths += list(_walk(folder))
    return list(dict.fromkeys(paths))


def snapshot(root: Path, data_dir: Path) -> Snapshot:
    """``path -> (mtime in ns, size, inode)`` of every watched file that exists."""
    found: Snapshot = {}
    for path in watched_paths(root, data_dir):
        try:
            st = path.stat()
        except OSError:  # removed meanwhile: its absence is the change
            continue
        found[str(path)] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return found


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
