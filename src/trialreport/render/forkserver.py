"""The kernel server: one warm process per render that forks a fresh Jupyter kernel per chapter.

Run as a script (``python forkserver.py FD_IN FD_OUT``) by
:class:`trialreport.render.kernels.KernelServer`; it uses only the standard library until it
preloads, so it is independent of the trialreport package.

Why fork: starting a kernel and importing pandas, scipy, statsmodels, matplotlib and
great_tables costs about 4 s of CPU per chapter. This process pays that once. Each kernel is a
new process forked from it *before* any chapter code ran, so every chapter still starts from
the same clean state with nothing left over from another chapter, as Quarto's
one-kernel-per-document rendering guarantees. No Jupyter/zmq object exists before the fork
(only modules are imported), which is what makes forking safe.

Protocol (JSON lines): the first line read is the configuration ``{"preload": [module, ...],
"warmup": code}``; each further line ``{"argv": [...], "env": {...}, "cwd": path}`` forks a
kernel and is answered with ``{"pid": n}`` (or ``{"error": text}``); a line
``{"call": "module:function", "args": [...], "env": {...}, "cwd": path, "report": file}``
forks a job that calls the function (the engine's own, never input) with the warm state and
writes ``ok`` or the error's traceback to ``report``. When the input pipe
closes (the render finished or died) every kernel still running is killed and the server
exits. Kernels die with the server (parent-death signal), which dies with the render.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import io
import json
import os
import select
import signal
import sys
import time
import traceback
import warnings
from contextlib import redirect_stderr, redirect_stdout

_PR_SET_PDEATHSIG = 1
_LAUNCHER = "ipykernel_launcher"


def _die_with_parent() -> None:
    """Linux parent-death signal (see :mod:`trialreport.render.procs`; repeated here so that
    this script imports nothing from the package before the preload)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except OSError:
        pass


def _warm(config: dict) -> dict:
    """Import the preload modules and run the warm-up code; failures are only noted (a chapter
    that needs the module meets the same error itself, with its cell named)."""
    timings: dict[str, float] = {}
    failed: list[str] = []
    sink = io.StringIO()
    start = time.perf_counter()
    # catch_warnings restores the filters and resets every "already warned" registry on exit,
    # so a chapter shows the warnings a fresh kernel would show.
    with warnings.catch_warnings(), redirect_stdout(sink), redirect_stderr(sink):
        for name in config.get("preload") or []:
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001 - only a speed-up; the chapter reports it
                failed.append(name)
        timings["preload"] = time.perf_counter() - start
        code = config.get("warmup") or ""
        if code:
            start = time.perf_counter()
            try:
                exec(compile(code, "<kernel warm-up>", "exec"), {"__name__": "__warmup__"})  # noqa: S102 - the engine's own code, not input
            except BaseException:  # noqa: BLE001
                failed.append("warm-up: " + traceback.format_exc(limit=1).strip().splitlines()[-1])
            timings["warmup"] = time.perf_counter() - start
    gc.collect()
    gc.freeze()  # keep the objects shared with the kernels out of the collector's way
    return {"ready": timings, "failed": failed}


def _child(request: dict, fd_in: int, fd_out: int, server_pid: int) -> None:
    """Become the kernel (or run the job) described by ``request``; never returns."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own group: interrupt and kill reach the kernel's subprocesses
        _die_with_parent()
        if os.getppid() != server_pid:  # the server died between fork and prctl
            os._exit(1)
        os.close(fd_in)
        os.close(fd_out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # kernel interrupts
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if "call" in request:
            _job(request)
            code = 0
            return
        argv = list(request["argv"])
        args = argv[argv.index(_LAUNCHER) + 1:] if _LAUNCHER in argv else argv[1:]
        sys.argv = [_LAUNCHER, *args]
        from ipykernel.kernelapp import launch_new_instance

        launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - printed, then the process ends
        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _job(request: dict) -> None:
    """Run ``request["call"]`` in this forked process; write "ok" or the traceback to
    ``request["report"]`` (atomically: a partial report never looks like success)."""
    report = request["report"]
    try:
        module, _, name = request["call"].partition(":")
        function = getattr(importlib.import_module(module), name)
        function(*request.get("args", []))
        text = "ok"
    except BaseException:  # noqa: BLE001 - reported to the render
        text = traceback.format_exc()
    partial = report + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, report)


def _kill_all(children: set[int]) -> None:
    for pid in children:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
                break
            except OSError:
                continue
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _reap(children: set[int]) -> None:
    while children:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)


def _send(fd: int, message: dict) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def serve(fd_in: int, fd_out: int) -> None:
    """Read requests until the input pipe closes; fork a kernel for each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the render decides when kernels stop
    _die_with_parent()
    children: set[int] = set()
    buffer = b""
    configured = False
    me = os.getpid()
    try:
        while True:
            ready, _, _ = select.select([fd_in], [], [], 0.2)
            _reap(children)
            if not ready:
                continue
            chunk = os.read(fd_in, 1 << 16)
            if not chunk:
                return  # the render closed the pipe or died
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                if not configured:
                    configured = True
                    _send(fd_out, _warm(request))
                    continue
                try:
                    pid = os.fork()
                except OSError as exc:
                    _send(fd_out, {"error": f"fork failed: {exc}"})
                    continue
                if pid == 0:
                    _child(request, fd_in, fd_out, me)
                try:
                    os.setpgid(pid, pid)  # also here: no window where the group is missing
                except OSError:
                    pass
                children.add(pid)
                _send(fd_out, {"pid": pid})
    finally:
        _kill_all(children)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]  # never import the render modules as top-level modules
    serve(int(sys.argv[1]), int(sys.argv[2]))
