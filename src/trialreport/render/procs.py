"""Child processes that die with the render, and finding processes by an environment marker.

A render starts kernels and pandoc. When the render is killed (even with SIGKILL, which runs no
clean-up code), its children must not live on writing into a staging folder. On Linux the
kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG)``, no library wraps it in the standard
library, hence ctypes) kills a child the moment its parent thread ends; elsewhere the children
are stopped by the render's own clean-up (``finally`` blocks, the kernel server's pipe).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

#: Environment variable carrying the id of the render that started a process (kernels, the
#: kernel server, pandoc inherit it), so that a render's processes can be found in /proc.
RENDER_MARKER = "TRIALREPORT_RENDER_ID"
_PR_SET_PDEATHSIG = 1


def _load_prctl():  # noqa: ANN202 - a ctypes function or None
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    return libc.prctl


# Resolved once, before any fork: a preexec function must not load libraries.
_PRCTL = _load_prctl()


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent thread exits (Linux).

    Meant as ``preexec_fn`` of :class:`subprocess.Popen` or to be called right after
    :func:`os.fork`; a no-op where ``prctl`` is unavailable.
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def can_die_with_parent() -> bool:
    """True when :func:`die_with_parent` has an effect on this platform."""
    return _PRCTL is not None


def environ_of(pid: int) -> dict[str, str]:
    """The environment a process was started with (``/proc/<pid>/environ``; empty if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def cmdline_of(pid: int) -> str:
    """The command line of a process, arguments joined by spaces ('' if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def processes_with_env(key: str, value: str | None = None) -> Iterator[int]:
    """Pids (other than this process) whose start environment has ``key`` (equal to ``value``
    when given). Linux only; yields nothing where /proc is missing."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        env = environ_of(int(entry.name))
        if key in env and (value is None or env[key] == value):
            if _state(int(entry.name)) not in (None, "Z"):  # gone or a zombie: not running
                yield int(entry.name)


def _state(pid: int) -> str | None:
    """The state letter of ``pid`` (R, S, Z, ...) from /proc; None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[0] if fields else None


def process_start_time(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22), to
    tell a live owner from a later process that reuses its pid; None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int, start_time: str | None = None) -> bool:
    """True when process ``pid`` exists (and, if ``start_time`` is given and knowable, is the
    same process that had that start time)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if _state(pid) == "Z":
        return False
    if start_time is not None:
        now = process_start_time(pid)
        if now is not None and now != start_time:
            return False
    return True
