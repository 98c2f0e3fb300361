"""Freeze-like cache of executed chapter outputs and of rendered output files.

Every write is atomic (a temporary file in the same folder, then ``os.replace``), so a reader
sees the previous entry or the new one, never a partial file; temporary files carry their
writer's pid (:mod:`trialreport.render.staging`) and are removed after a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_SUBDIR = Path(".cache") / "trialreport"
FORMATS = ("html", "docx", "pdf")
_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache"}


def _iter_files(path: Path) -> Iterable[tuple[str, Path]]:
    if path.is_file():
        yield path.name, path
        return
    if not path.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            full = Path(dirpath) / name
            yield full.relative_to(path).as_posix(), full


def fingerprint_paths(paths: Iterable[Path | str], pattern: str | None = None) -> str:
    """SHA-256 over the sorted relative paths and bytes of every file under ``paths``.

    Each path may be a file or a folder (walked recursively); missing paths are hashed as
    absent so that creating them changes the fingerprint. ``pattern`` is an optional regex
    that relative paths must match (e.g. ``r"\\.py$"``).
    """
    digest = hashlib.sha256()
    rx = re.compile(pattern) if pattern else None
    for index, raw in enumerate(paths):
        root = Path(raw)
        digest.update(f"\0root{index}\0".encode())
        if not root.exists():
            digest.update(b"<missing>")
            continue
        for rel, full in sorted(_iter_files(root)):
            if rx and not rx.search(rel):
                continue
            digest.update(rel.encode() + b"\0")
            with full.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(chunk)
            digest.update(b"\0")
    return digest.hexdigest()


def hash_text(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
    from .staging import staging_name

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(staging_name(".tmp"))
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy file ``src`` to ``dst`` atomically (metadata too)."""
    from .staging import staging_name

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(staging_name(".tmp"))
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _safe_name(rel_path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", rel_path)


class RenderCache:
    """On-disk cache rooted at ``<project>/.cache/trialreport``."""

    def __init__(self, project_dir: Path) -> None:
        self.root = Path(project_dir) / CACHE_SUBDIR

    def staging_folders(self) -> list[Path]:
        """Folders where a killed render may have left temporary files."""
        return [self.root, self.root / "exec", self.root / "results",
                *(self._out_dir(fmt) for fmt in FORMATS)]

    # -- executed chapters ---------------------------------------------------------------
    def _exec_file(self, chapter: str) -> Path:
        return self.root / "exec" / f"{_safe_name(chapter)}.json"

    def load_execution(self, chapter: str, key: str) -> dict[str, Any] | None:
        """Executed outputs for ``chapter`` if they were stored under ``key``."""
        path = self._exec_file(chapter)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("key") != key:
            return None
        return data.get("result")

    def store_execution(self, chapter: str, key: str, result: dict[str, Any]) -> None:
        atomic_write_text(self._exec_file(chapter), json.dumps({"key": key, "result": result}))

    # -- rendered outputs ----------------------------------------------------------------
    def _out_dir(self, fmt: str) -> Path:
        return self.root / "outputs" / fmt

    def load_output(self, fmt: str, key: str) -> tuple[Path, list[str]] | None:
        """Cached output file (and the warnings of its render) for inputs hashed to ``key``."""
        folder = self._out_dir(fmt)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("key") != key:
            return None
        file = folder / str(meta.get("file", ""))
        if not file.is_file():
            return None
        return file, list(meta.get("warnings") or [])

    def store_output(self, fmt: str, key: str, file: Path, warnings: list[str]) -> None:
        """Keep ``file`` as the output for ``key``: the file first, then ``meta.json`` naming
        it (both atomic), then the files of older keys are removed."""
        folder = self._out_dir(fmt)
        name = f"{key[:16]}-{file.name}"
        atomic_copy(file, folder / name)
        meta = {"key": key, "file": name, "warnings": warnings}
        atomic_write_text(folder / "meta.json", json.dumps(meta))
        for old in folder.iterdir():
            if old.name not in (name, "meta.json") and not old.name.startswith("."):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)
