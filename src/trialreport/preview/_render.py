"""Render the preview in a child process and stop it, with its kernels, on demand.

Each render runs ``trialreport render --format html`` (the same code path, cache, validation
and all-or-nothing publishing as the command) in its own session, so a Ctrl-C at the terminal
reaches only the preview server, which then ends the render and every process under it (the
chapter kernels run in sessions of their own; :mod:`psutil` finds them through the process
tree).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

#: Seconds a process is given to end after SIGTERM before it is killed.
TERMINATE_GRACE = 5.0


@dataclass(frozen=True)
class RenderOutcome:
    """One preview render: the HTML written (on success) or the messages (on failure)."""

    ok: bool
    html_path: Path | None
    message: str
    log: str
    seconds: float


def _running(proc: psutil.Process) -> bool:
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_tree(pid: int, grace: float = TERMINATE_GRACE) -> list[int]:
    """End process ``pid`` and all its descendants; return the pids that were running.

    The whole tree is listed first (the kernels run in sessions of their own and would be
    orphaned once their parent ends). ``pid`` gets SIGINT, so that ``trialreport render`` shuts
    its kernels down and removes its staging folder; whatever still runs after ``grace``
    seconds gets SIGTERM, and after another ``grace`` seconds SIGKILL.
    """
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return []
    try:
        parent.send_signal(signal.SIGINT)
    except psutil.NoSuchProcess:
        pass
    _, alive = psutil.wait_procs([parent], timeout=grace)
    for step in ("terminate", "kill"):
        alive = [p for p in procs if _running(p)]
        for proc in alive:
            try:
                getattr(proc, step)()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(alive, timeout=grace)
        if not alive:
            break
    return [p.pid for p in procs]


class PreviewRenderer:
    """Runs one render at a time into ``output_dir``; :meth:`close` stops a running one."""

    def __init__(self, root: Path, data_dir: Path, output_dir: Path) -> None:
        self.root = root
        self.data_dir = data_dir
        self.output_dir = output_dir
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._closed = False

    def command(self) -> list[str]:
        """The render command: the built-in engine (one self-contained HTML file), HTML only."""
        return [sys.executable, "-m", "trialreport", "render", "--engine", "builtin",
                "--format", "html", "--data", str(self.data_dir),
                "--output", str(self.output_dir)]

    def _html_path(self) -> Path | None:
        from trialreport.versioning import VersionError, report_stem

        try:
            expected = self.output_dir / f"{report_stem(self.root)}.html"
        except (OSError, ValueError, VersionError):
            expected = None
        if expected is not None and expected.is_file():
            return expected
        pages = sorted(self.output_dir.glob("*.html"), key=lambda p: p.stat().st_mtime_ns)
        return pages[-1] if pages else None

    def render(self) -> RenderOutcome | None:
        """Render once; None when the renderer was closed (before or during the render)."""
        env = dict(os.environ, TRIALREPORT_PROJECT=str(self.root))
        start = time.perf_counter()
        with self._lock:
            if self._closed:
                return None
            process = self._process = subprocess.Popen(
                self.command(), cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                errors="replace", start_new_session=True)
        try:
            out, err = process.communicate()
            code = process.returncode
        finally:
            with self._lock:
                self._process = None
                closed = self._closed
        if closed:
            return None
        seconds = time.perf_counter() - start
        if code == 0:
            html = self._html_path()
            if html is not None:
                return RenderOutcome(True, html, "", out, seconds)
            err += f"\nno HTML report was written into {self.output_dir}"
        message = err.strip() or f"trialreport render exited with status {code}"
        return RenderOutcome(False, None, message, out, seconds)

    def close(self) -> list[int]:
        """Stop the running render and its kernels; no render starts afterwards."""
        with self._lock:
            self._closed = True
            process = self._process
        if process is None or process.poll() is not None:
            return []
        return kill_tree(process.pid)
