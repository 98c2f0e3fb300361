"""One render at a time per project and per output folder (``fcntl.flock``).

Two renders of one project share its cache, ``_variables.yml`` and version stamp, and two
renders into one folder replace each other's files: the second render waits for the first
(up to a timeout) or fails at once. The locks are advisory ``flock`` locks, released by the
kernel when their holder exits, even after ``kill -9``: a lock can never go stale.

* project lock: ``<project>/.cache/trialreport/render.lock`` (holds the holder's pid);
* output lock: the output folder's parent directory itself (no lock file is left beside the
  report); two renders into sibling folders therefore also take turns.

Locks are re-entrant within one thread (``trialreport render`` holds them around validation
and publishing, and the engine takes them again around the build).
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .result import RenderError

LOCK_FILE = Path(".cache") / "trialreport" / "render.lock"
#: Seconds a render waits for another one by default.
DEFAULT_WAIT = 600.0
_POLL_SECONDS = 0.2
_held: dict[tuple[str, int], list[int]] = {}  # (path, thread) -> [fd, depth]
_held_guard = threading.Lock()


class RenderLockError(RenderError):
    """Another render holds the lock (and did not release it in time)."""


def _holder(fd: int, path: Path) -> int | None:
    """The pid holding a flock on the file open as ``fd`` (from /proc/locks), or the pid the
    holder wrote into a lock file; None when unknown."""
    try:
        st = os.fstat(fd)
        wanted = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks", encoding="ascii") as handle:
            for line in handle:
                parts = line.split()
                if "->" in parts:  # a waiter, not the holder
                    continue
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == wanted:
                    return int(parts[4])
    except (OSError, ValueError):
        pass
    if path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace").split()
        if text and text[0].isdigit():
            return int(text[0])
    return None


def _open(path: Path, is_dir: bool) -> int:
    if is_dir:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _what(label: str, pid: int | None) -> str:
    who = f"another render (pid {pid})" if pid else "another render"
    return f"{who} holds the lock on {label}"


@contextmanager
def _flock(path: Path, label: str, is_dir: bool, wait: float,
           progress: Callable[[str], None]) -> Iterator[None]:
    key = (str(path), threading.get_ident())
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    try:
        fd = _open(path, is_dir)
    except OSError as exc:  # cannot create .cache/ or open the folder
        raise RenderLockError(f"cannot lock {label}: {exc.strerror}: {exc.filename}") from None
    try:
        _acquire(fd, path, label, wait, progress)
        if not is_dir:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _held_guard:
            _held[key] = [fd, 1]
        try:
            yield
        finally:
            with _held_guard:
                del _held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, label: str, wait: float,
             progress: Callable[[str], None]) -> None:
    deadline = time.monotonic() + max(0.0, wait)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise RenderLockError(f"cannot lock {label}: {exc.strerror}") from None
        holder = _holder(fd, path)
        if wait <= 0:
            raise RenderLockError(f"{_what(label, holder)}; not waiting (--no-wait)")
        if time.monotonic() >= deadline:
            raise RenderLockError(f"{_what(label, holder)}; gave up after waiting {wait:g} s")
        if not told:
            progress(f"{_what(label, holder)}; waiting up to {wait:g} s for it to finish")
            told = True
        time.sleep(_POLL_SECONDS)


@contextmanager
def render_lock(project_root: Path, output_dir: Path | None = None, wait: float = DEFAULT_WAIT,
                progress: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the project's render lock (and the output folder's) for the ``with`` block.

    Waits up to ``wait`` seconds for another render (telling ``progress`` once which pid holds
    the lock); ``wait=0`` fails at once. Raises :class:`RenderLockError` naming the holder.
    """
    root = Path(project_root).resolve()
    with _flock(root / LOCK_FILE, f"project {root}", False, wait, progress):
        if output_dir is None:
            yield
            return
        parent = Path(output_dir).resolve().parent
        with _flock(parent, f"output folders in {parent}", True, wait, progress):
            yield
