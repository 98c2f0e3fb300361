"""The supplement's ``MANIFEST``: one line per file, ``path<TAB>size in bytes<TAB>SHA-256``.

The first line is the header ``path	size	sha256``; paths are POSIX, relative to the
supplement's root, sorted; ``MANIFEST`` does not list itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_NAME = "MANIFEST"
HEADER = "path\tsize\tsha256"
_SIZE = re.compile(r"[0-9]{1,15}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def printable(text: str) -> str:
    """``text`` with every unprintable character escaped (``\\x1b``), safe for a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


class ManifestError(ValueError):
    """The MANIFEST is malformed (names the line)."""


@dataclass(frozen=True)
class ManifestEntry:
    """One file: its path, size in bytes and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


def entry_for_bytes(path: str, content: bytes) -> ManifestEntry:
    """The manifest entry of ``content`` stored at ``path``."""
    return ManifestEntry(path, len(content), hashlib.sha256(content).hexdigest())


def entry_for_file(path: str, file: Path) -> ManifestEntry:
    """The manifest entry of the file ``file`` stored at ``path`` (streamed)."""
    from trialreport.versioning import sha256_file

    return ManifestEntry(path, Path(file).stat().st_size, sha256_file(Path(file)))


def format_manifest(entries: list[ManifestEntry]) -> str:
    """The MANIFEST text (sorted by path, header first, trailing newline)."""
    lines = [HEADER]
    for entry in sorted(entries, key=lambda e: e.path):
        if any(c in entry.path for c in "\t\n\r"):
            raise ManifestError(f"path contains a tab or newline: {entry.path!r}")
        lines.append(f"{entry.path}\t{entry.size}\t{entry.sha256}")
    return "\n".join(lines) + "\n"


def parse_manifest(text: str) -> dict[str, ManifestEntry]:
    """Parse MANIFEST text into ``{path: entry}``; raises :class:`ManifestError`."""
    entries: dict[str, ManifestEntry] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (number == 1 and line == HEADER):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ManifestError(f"MANIFEST line {number}: expected path, size and sha256 "
                                f"separated by tabs: {line!r}")
        path, size, digest = parts
        if not path or not path.isprintable():
            raise ManifestError(f"MANIFEST line {number}: empty or unprintable path: {path!r}")
        if not _SIZE.fullmatch(size) or not _SHA256.fullmatch(digest):
            raise ManifestError(f"MANIFEST line {number}: bad size or SHA-256: {line!r}")
        if path in entries:
            raise ManifestError(f"MANIFEST line {number}: {path} listed twice")
        entries[path] = ManifestEntry(path, int(size), digest.lower())
    return entries


@dataclass
class ManifestCheck:
    """Files that differ from, are missing from or are not listed in the MANIFEST."""

    checked: int = 0
    differ: list[tuple[ManifestEntry, ManifestEntry]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file matches and nothing is missing or extra."""
        return not (self.differ or self.missing or self.extra)

    def lines(self) -> list[str]:
        """One line per problem, naming the file."""
        out = [f"  differs: {want.path} (MANIFEST: {want.size} bytes, sha256 {want.sha256}; "
               f"found: {got.size} bytes, sha256 {got.sha256})" for want, got in self.differ]
        out += [f"  missing: {path} (listed in MANIFEST, not in the supplement)"
                for path in self.missing]
        out += [f"  extra: {path} (in the supplement, not listed in MANIFEST)"
                for path in self.extra]
        return [printable(line) for line in out]


def list_files(root: Path) -> list[str]:
    """Every regular file under ``root`` as sorted POSIX relative paths."""
    root = Path(root)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not p.is_symlink())


def empty_folders(root: Path) -> list[str]:
    """Folders under ``root`` that hold no file at any depth (``"name/"``, sorted)."""
    root = Path(root)
    return sorted(p.relative_to(root).as_posix() + "/" for p in root.rglob("*")
                  if p.is_dir() and not any(q.is_file() for q in p.rglob("*")))


def check_tree(root: Path, manifest: dict[str, ManifestEntry],
               ignore: frozenset[str] = frozenset({MANIFEST_NAME})) -> ManifestCheck:
    """Compare the files under ``root`` with ``manifest`` (paths in ``ignore`` are skipped)."""
    root = Path(root)
    present = [p for p in list_files(root) if p not in ignore]
    result = ManifestCheck()
    for path in present:
        want = manifest.get(path)
        if want is None:
            result.extra.append(path)
            continue
        result.checked += 1
        got = entry_for_file(path, root / path)
        if (got.size, got.sha256) != (want.size, want.sha256):
            result.differ.append((want, got))
    result.extra += empty_folders(root)  # a folder entry with nothing listed inside it
    present_set = set(present)
    result.missing = sorted(p for p in manifest if p not in present_set)
    return result
