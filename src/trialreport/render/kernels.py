"""Chapter kernels: forked from one warm kernel server per render, always shut down.

:class:`KernelServer` starts ``forkserver.py`` (which imports the heavy modules once) and asks
it for a fresh kernel process per chapter; :func:`kernel_manager` gives nbclient a kernel
manager whose kernel comes from the server (or, where ``fork`` is unavailable, is started the
usual way). Whoever starts a kernel shuts it down (:func:`shutdown`), after success, failure and
interruption; closing the server kills any kernel still running.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from .procs import RENDER_MARKER, can_die_with_parent, die_with_parent, pid_alive

SCRIPT = Path(__file__).with_name("forkserver.py")
#: Modules every chapter kernel needs. Not matplotlib's inline backend: importing it connects
#: it to the running IPython, which exists only in the kernel (see ``execute.SETUP_CODE``).
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # debugpy: 0.15 s per kernel otherwise; starts nothing on import
    "IPython.core.interactiveshell",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.extensions.storemagic",
    "jupyter_client.session",
    "sqlite3",
    "tornado.platform.asyncio",
    "tornado.queues",
)
_SERVER_CLOSE_SECONDS = 10.0


class KernelServerError(RuntimeError):
    """The kernel server is gone or could not start a kernel."""


def fork_available() -> bool:
    """Kernels can be forked here (POSIX ``fork``); ``TRIALREPORT_KERNEL_FORK=0`` turns it off."""
    return hasattr(os, "fork") and os.environ.get("TRIALREPORT_KERNEL_FORK", "1") != "0"


class KernelServer:
    """One process per render that preloads modules and forks a kernel per chapter.

    ``env`` and ``cwd`` are those of the kernels; ``preload`` names modules to import and
    ``warmup`` is Python code (the engine's own, never input) run once before the first fork.
    """

    def __init__(self, cwd: Path, env: Mapping[str, str], preload: Sequence[str] = (),
                 warmup: str = "", render_id: str = "") -> None:
        self.cwd = Path(cwd)
        self.env = dict(env)
        self.render_id = render_id
        self.settings: dict[str, str] = {}  # the render settings it was started for
        self.preload = [*KERNEL_MODULES, *preload]
        self.warmup = warmup
        self.ready: dict[str, Any] | None = None  # the server's warm-up report
        self.started_at = 0.0
        self.ready_after = 0.0  # seconds from start until the first fork was possible
        self.runtime_dir: Path | None = None  # connection files and sockets of its kernels
        self._proc: subprocess.Popen[bytes] | None = None
        self._to_server = -1
        self._from_server: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the server process (it warms up in the background)."""
        self.runtime_dir = runtime_folder()
        req_read, req_write = os.pipe()
        resp_read, resp_write = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-Xfrozen_modules=off", str(SCRIPT), str(req_read),
                 str(resp_write)],
                pass_fds=(req_read, resp_write), cwd=self.cwd, env=self.env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                preexec_fn=die_with_parent if can_die_with_parent() else None,  # noqa: PLW1509
            )
        except BaseException:
            for fd in (req_read, req_write, resp_read, resp_write):
                os.close(fd)
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            raise
        os.close(req_read)
        os.close(resp_write)
        self.started_at = time.perf_counter()
        self._to_server = req_write
        self._from_server = os.fdopen(resp_read, "rb")
        self._send({"preload": self.preload, "warmup": self.warmup})

    def _send(self, message: Mapping[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        try:
            while data:
                data = data[os.write(self._to_server, data):]
        except OSError as exc:
            raise KernelServerError(f"the kernel server stopped: {exc}") from None

    def _receive(self) -> dict[str, Any]:
        line = self._from_server.readline()
        if not line:
            code = self._proc.poll() if self._proc else None
            raise KernelServerError(f"the kernel server stopped (exit code {code})")
        return json.loads(line)

    def fork(self, argv: Sequence[str], env: Mapping[str, str], cwd: str) -> int:
        """A new kernel process running ``argv`` (an ipykernel command line); its pid."""
        with self._lock:
            if self._proc is None:
                raise KernelServerError("the kernel server is not running")
            if self.ready is None:
                self.ready = self._receive()
                self.ready_after = time.perf_counter() - self.started_at
            self._send({"argv": list(argv), "env": dict(env), "cwd": cwd})
            answer = self._receive()
        if "pid" not in answer:
            raise KernelServerError(str(answer.get("error", answer)))
        return int(answer["pid"])

    def call(self, target: str, args: Sequence[Any], report: Path) -> ServerJob:
        """Run ``target`` (``"module:function"``, the engine's own code) with ``args`` in a
        process forked from the warm server, beside the kernels; :meth:`ServerJob.wait`
        returns when it is done (and raises its error)."""
        with self._lock:
            if self._proc is None:
                raise KernelServerError("the kernel server is not running")
            if self.ready is None:
                self.ready = self._receive()
                self.ready_after = time.perf_counter() - self.started_at
            env = dict(os.environ)
            if self.render_id:
                env[RENDER_MARKER] = self.render_id
            self._send({"call": target, "args": list(args), "env": env,
                        "cwd": str(self.cwd), "report": str(report)})
            answer = self._receive()
        if "pid" not in answer:
            raise KernelServerError(str(answer.get("error", answer)))
        return ServerJob(int(answer["pid"]), Path(report), target)

    def close(self) -> None:
        """Stop the server; it kills every kernel it started that is still running."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.close(self._to_server)
        except OSError:
            pass
        try:
            proc.wait(timeout=_SERVER_CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            self._from_server.close()
            if self.runtime_dir is not None:  # its kernels are gone: no one needs them now
                shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def __enter__(self) -> KernelServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServerJob:
    """A function running in a process forked from the kernel server."""

    def __init__(self, pid: int, report: Path, target: str) -> None:
        self.pid = pid
        self.report = report
        self.target = target
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None

    def wait(self) -> None:
        """Block until the job ended; raise :class:`KernelServerError` with its traceback
        when it failed or died without a report."""
        try:
            if self._pidfd is not None:
                select.select([self._pidfd], [], [])
            else:
                while pid_alive(self.pid):
                    time.sleep(0.05)
        finally:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        try:
            text = self.report.read_text(encoding="utf-8")
        except OSError:
            text = "the process ended without a report (killed?)"
        if text != "ok":
            raise KernelServerError(f"{self.target} failed:\n{text}")

    def kill(self) -> None:
        """Stop the job now (interrupted render)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass


@cache
def _fork_provisioner_class() -> type:
    """The jupyter_client provisioner for forked kernels (built on first use: Jupyter is
    imported only when a chapter runs)."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
        """Launches the kernel by asking a :class:`KernelServer` to fork it; the process is
        the server's child, so it is watched with a pidfd (or its pid) instead of Popen."""

        server: KernelServer | None = None
        _pidfd: int | None = None

        @property
        def has_process(self) -> bool:
            return self.pid is not None

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            assert self.server is not None
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            # Synchronous on purpose (milliseconds; seconds only while the server warms up):
            # an interruption cannot then lose the pid of a kernel that was just forked.
            pid = self.server.fork(cmd, env, cwd)
            self.pid = self.pgid = pid
            self.cwd = cwd
            try:
                self._pidfd = os.pidfd_open(pid)
            except (AttributeError, OSError):
                self._pidfd = None
            return self.connection_info

        def _alive(self) -> bool:
            if self.pid is None:
                return False
            if self._pidfd is not None:
                readable, _, _ = select.select([self._pidfd], [], [], 0)
                return not readable
            return pid_alive(self.pid)

        async def poll(self) -> int | None:
            return None if self._alive() else 0

        async def wait(self) -> int | None:
            while self._alive():
                await asyncio.sleep(0.02)
            self._forget()
            return 0

        def _forget(self) -> None:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
            self.pid = None

        async def send_signal(self, signum: int) -> None:
            if self.pid is None:
                return
            try:
                os.killpg(self.pgid, signum)
            except ProcessLookupError:
                return
            except OSError:
                try:
                    os.kill(self.pid, signum)
                except ProcessLookupError:
                    return

        async def kill(self, restart: bool = False) -> None:
            await self.send_signal(signal.SIGKILL)

        async def terminate(self, restart: bool = False) -> None:
            await self.send_signal(signal.SIGTERM)

        async def cleanup(self, restart: bool = False) -> None:
            if not self._alive():
                self._forget()
            await super().cleanup(restart=restart)

    return ForkProvisioner


def runtime_folder() -> Path:
    """A new folder for kernel connection files and sockets, with a short path (Unix socket
    paths are limited to about 100 bytes) and an owner-named staging name (removed after a
    crash by :func:`trialreport.render.staging.remove_stale`)."""
    from .staging import make_staging_dir

    return make_staging_dir(Path(tempfile.gettempdir()))


def kernel_manager(kernel_name: str, kernel_dirs: Path, server: KernelServer | None,
                   runtime_dir: Path | None = None) -> Any:
    """An AsyncKernelManager for one chapter; its kernel is forked by ``server`` when given.

    With a runtime folder (``server.runtime_dir``, else ``runtime_dir``) the kernel talks over
    Unix sockets there instead of TCP ports: no race for free ports with other processes on
    the machine (jupyter_client issue 487), and the connection files go with the folder.
    """
    import uuid

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    ksm = KernelSpecManager(kernel_dirs=[str(kernel_dirs)])
    kernel_id = str(uuid.uuid4())
    options: dict[str, Any] = {}
    if server is not None and server.runtime_dir is not None:
        runtime_dir = server.runtime_dir
    if runtime_dir is not None and os.name == "posix":
        options = {"transport": "ipc",
                   "connection_file": str(Path(runtime_dir) / f"k-{kernel_id[:12]}.json")}
    km = AsyncKernelManager(kernel_name=kernel_name, kernel_spec_manager=ksm, **options)
    km.kernel_id = kernel_id
    if server is not None:
        provisioner = _fork_provisioner_class()(
            kernel_id=kernel_id, kernel_spec=km.kernel_spec, parent=km
        )
        provisioner.server = server
        km.provisioner = provisioner
    return km


async def shutdown(km: Any, kc: Any | None) -> None:
    """Stop a chapter's kernel now (its outputs are already collected) and free its channels,
    connection file and ports; safe to call on a kernel that never started or already died."""
    try:
        if kc is not None:
            kc.stop_channels()
    finally:
        try:
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
            else:
                await km.cleanup_resources()
        except RuntimeError:
            pass  # "No kernel is running"
