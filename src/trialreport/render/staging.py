"""Staging folders owned by a process, their removal after a crash, and all-or-nothing
publication of a staged report folder.

A staging folder is named ``.render-<pid>-<start>-<random>`` (the owner's pid and process
start time), so a later render can tell a folder whose owner died (``kill -9``, power loss)
from one in use and remove only the former.

:func:`publish_folder` replaces the output folder in one step: the staged folder receives the
files of the old folder that this render does not produce (``README.md``, a supplement zip,
another format), then the two folders are exchanged atomically (``renameat2(RENAME_EXCHANGE)``
on Linux; elsewhere two renames, rolled back on failure). Readers see the old report or the
new one, never a mixture; on any failure the old report is left complete.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

from .procs import pid_alive, process_start_time

PREFIX = ".render-"
_NAME = re.compile(r"^\.render-(\d+)-(\d+)-[0-9a-f]+(\.[A-Za-z0-9.]+)?$")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class PublishError(OSError):
    """The new report could not be put in place; the old one is unchanged."""


def staging_name(suffix: str = "") -> str:
    """A fresh name ``.render-<pid>-<start>-<random><suffix>`` owned by this process."""
    start = process_start_time(os.getpid()) or "0"
    return f"{PREFIX}{os.getpid()}-{start}-{secrets.token_hex(4)}{suffix}"


def make_staging_dir(parent: Path) -> Path:
    """Create and return a new staging folder in ``parent`` (mode from the umask, like any
    folder the user creates, because it may become the published report folder)."""
    while True:
        path = Path(parent) / staging_name()
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def owner_alive(path: Path) -> bool | None:
    """Whether the process that created staging item ``path`` still runs (None: not ours)."""
    match = _NAME.match(Path(path).name)
    if not match:
        return None
    start = match.group(2)
    return pid_alive(int(match.group(1)), None if start == "0" else start)


def remove_stale(folder: Path) -> list[Path]:
    """Remove the staging items in ``folder`` whose owner is dead; return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if owner_alive(entry) is not False:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                entry.unlink()
            except OSError:
                continue
        if not entry.exists():
            removed.append(entry)
    return removed


def _link_or_copy(src: str, dst: str) -> str:
    """Hard-link ``src`` to ``dst`` (no bytes copied); copy when linking is not possible."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)
    return dst


def _carry_over(old: Path, new: Path) -> None:
    """Bring the items of ``old`` that ``new`` lacks into ``new``."""
    for item in sorted(old.iterdir()):
        target = new / item.name
        if target.exists() or target.is_symlink():
            continue  # this render produced it
        if item.is_dir() and not item.is_symlink():
            shutil.copytree(item, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(item), str(target))


def _load_renameat2():  # noqa: ANN202 - a ctypes function or None
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.renameat2
    except (OSError, AttributeError):
        return None


_RENAMEAT2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False where
    the platform or file system cannot, OSError on any other failure."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap(stage: Path, output: Path) -> None:
    """Put ``stage`` at ``output``; the old ``output`` ends up at ``stage``."""
    if exchange(stage, output):
        return
    aside = stage.with_name(staging_name(".old"))
    os.rename(output, aside)
    try:
        os.rename(stage, output)
    except BaseException:
        os.rename(aside, output)  # roll back: the old report is where it was
        raise
    os.rename(aside, stage)


def publish_folder(stage: Path, output: Path) -> list[Path]:
    """Make folder ``output`` hold the items of ``stage`` plus the items of the old ``output``
    that ``stage`` lacks, in one atomic step; return the published paths of ``stage``'s items.

    ``stage`` must be on the same file system as ``output`` (a sibling folder). Raises
    :class:`PublishError` when the report cannot be replaced; the old report is then intact.
    """
    stage, output = Path(stage), Path(output)
    produced = sorted(p.name for p in stage.iterdir())
    try:
        if output.is_dir() and not output.is_symlink():
            shutil.copymode(output, stage)
            _carry_over(output, stage)
            _swap(stage, output)
            shutil.rmtree(stage, ignore_errors=True)  # the old report
        elif output.exists() or output.is_symlink():
            raise PublishError(f"{output} exists and is not a folder")
        else:
            os.rename(stage, output)
    except PublishError:
        raise
    except OSError as exc:
        where = exc.filename or output
        raise PublishError(f"cannot replace the report in {output} ({exc.strerror or exc}: "
                           f"{where}); the previous report is unchanged") from None
    return [output / name for name in produced]
