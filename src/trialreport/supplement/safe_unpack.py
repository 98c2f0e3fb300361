"""Unpack an untrusted zip archive safely.

Every member is checked before anything is written: no absolute paths, drive letters,
backslashes, ``..``/``.``/empty segments, duplicate (also case-insensitively) names, links or
other special files (the Unix file type in ``external_attr``), control characters in names,
encryption, more than ``max_members`` members, declared sizes above the per-member and total
limits, or a compression ratio above ``max_ratio`` (zip bombs). While streaming, the bytes
actually decompressed are counted against the declared sizes and the same limits (lying
headers), and every target path is confirmed to stay inside the destination.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MiB = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchiveError(ValueError):
    """The archive is refused; the message names the member and the reason."""

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"refused member {member!r}: {reason}")
        self.member = member
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Size limits for unpacking."""

    max_member_bytes: int = 512 * MiB
    max_total_bytes: int = 2048 * MiB
    max_members: int = 20000
    max_ratio: float = 200.0  # uncompressed / compressed size; deflate tops out near 1032
    ratio_floor_bytes: int = MiB  # smaller members may compress better (harmless)


def _unix_type(info: zipfile.ZipInfo) -> int:
    """The Unix file-type bits of a member's ``external_attr`` (0 when none were stored)."""
    return stat.S_IFMT(info.external_attr >> 16)


def check_member(info: zipfile.ZipInfo) -> str:
    """Validate one member's name and type; return its normalised POSIX path."""
    name = info.filename
    if not name or "\x00" in name:
        raise UnsafeArchiveError(name, "empty name or NUL byte in name")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UnsafeArchiveError(name, "control character in name")
    if "\\" in name:
        raise UnsafeArchiveError(name, "backslash in path")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeArchiveError(name, "absolute path")
    is_dir = name.endswith("/")
    parts = name.rstrip("/").split("/") if is_dir else name.split("/")
    if ".." in parts:
        raise UnsafeArchiveError(name, "'..' path segment (escapes the destination)")
    if any(p in ("", ".") for p in parts):
        raise UnsafeArchiveError(name, "empty or '.' path segment")
    kind = _unix_type(info)
    if kind == stat.S_IFLNK:
        raise UnsafeArchiveError(name, "symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchiveError(name, f"special file (mode {oct(info.external_attr >> 16)})")
    if info.flag_bits & 0x1:
        raise UnsafeArchiveError(name, "encrypted member")
    return "/".join(parts) + ("/" if is_dir else "")


def check_archive(archive: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """Validate every member (names, types, declared sizes) before extracting anything."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeArchiveError(f"<{len(infos)} members>",
                                 f"more than {limits.max_members} members")
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        path = check_member(info)
        key = path.rstrip("/").casefold()
        if key in seen:
            raise UnsafeArchiveError(info.filename, f"duplicate of member {seen[key]!r}")
        seen[key] = info.filename
        if info.file_size > limits.max_member_bytes:
            raise UnsafeArchiveError(info.filename, f"declared size {info.file_size} bytes is "
                                     f"above the per-member limit {limits.max_member_bytes}")
        if info.file_size > limits.ratio_floor_bytes and (
                info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise UnsafeArchiveError(info.filename, f"compression ratio "
                                     f"{info.file_size / max(info.compress_size, 1):.0f}:1 is "
                                     f"above {limits.max_ratio:g}:1 (zip bomb)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeArchiveError(info.filename, f"total declared size is above the limit "
                                     f"{limits.max_total_bytes} bytes")
    for info in infos:  # a file may not also be a folder of another member
        if not info.filename.endswith("/"):
            for parent in PurePosixPath(info.filename).parents:
                other = seen.get(str(parent).casefold())
                if str(parent) != "." and other is not None and not other.endswith("/"):
                    raise UnsafeArchiveError(info.filename, f"its folder {other!r} is a file")
    return infos


def safe_extract(zip_path: Path, dest: Path, limits: Limits | None = None) -> list[str]:
    """Extract ``zip_path`` into the (empty or new) folder ``dest``; return the file paths.

    Raises :class:`UnsafeArchiveError` (nothing is trusted from a refused archive; the caller
    should discard ``dest``) or :class:`zipfile.BadZipFile`.
    """
    limits = limits or Limits()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written: list[str] = []
    total = 0
    with zipfile.ZipFile(zip_path) as archive:
        for info in check_archive(archive, limits):
            path = check_member(info)
            target = (root / path).resolve()
            if target != root and root not in target.parents:
                raise UnsafeArchiveError(info.filename, "resolves outside the destination")
            if path.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                raise UnsafeArchiveError(info.filename, "target already exists")
            size = 0
            with archive.open(info) as source, target.open("xb") as out:
                while True:
                    block = source.read(MiB)
                    if not block:
                        break
                    size += len(block)
                    total += len(block)
                    if size > limits.max_member_bytes or size > info.file_size:
                        raise UnsafeArchiveError(info.filename, "decompresses to more than "
                                                 f"{min(limits.max_member_bytes, info.file_size)}"
                                                 " bytes (size limit / declared size)")
                    if total > limits.max_total_bytes:
                        raise UnsafeArchiveError(info.filename, "archive decompresses to more "
                                                 f"than the limit {limits.max_total_bytes} bytes")
                    out.write(block)
            target.chmod(0o644)
            written.append(path)
    return written
