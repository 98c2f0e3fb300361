"""Freeze-like cache of executed chapter outputs and of rendered output files."""

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


def _safe_name(rel_path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", rel_path)


class RenderCache:
    """On-disk cache rooted at ``<project>/.cache/trialreport``."""

    def __init__(self, project_dir: Path) -> None:
        self.root = Path(project_dir) / CACHE_SUBDIR

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
        path = self._exec_file(chapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "result": result}), encoding="utf-8")
        os.replace(tmp, path)

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
        folder = self._out_dir(fmt)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy2(file, folder / file.name)
        meta = {"key": key, "file": file.name, "warnings": warnings}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
