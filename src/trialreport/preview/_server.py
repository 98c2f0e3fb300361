"""The preview server: one report page on 127.0.0.1, re-rendered when a source is saved."""

from __future__ import annotations

import http.server
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialreport.preview._page import VERSION_PATH, report_page, status_page
from trialreport.preview._render import PreviewRenderer, RenderOutcome
from trialreport.preview._watch import changed_files, snapshot

HOST = "127.0.0.1"
POLL_SECONDS = 0.3  #: how often the sources are checked for edits
SETTLE_SECONDS = 0.2  #: quiet time after an edit before rendering (editors save in steps)
PREVIEW_DIR = Path(".cache") / "preview"


@dataclass
class _Shown:
    """What ``/`` shows; ``version`` changes whenever that does."""

    version: int = 0
    report: str | None = None
    error: str | None = None
    log: str = ""


class PreviewState:
    """The page shown, updated by the render thread, read by the request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shown = _Shown()

    @property
    def version(self) -> int:
        with self._lock:
            return self._shown.version

    def update(self, outcome: RenderOutcome) -> None:
        report = None
        if outcome.ok and outcome.html_path is not None:
            try:
                report = outcome.html_path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                outcome = RenderOutcome(False, None, f"cannot read {outcome.html_path}: {exc}",
                                        outcome.log, outcome.seconds)
        with self._lock:
            shown = self._shown
            self._shown = _Shown(shown.version + 1,
                                 report if report is not None else shown.report,
                                 None if outcome.ok else outcome.message,
                                 "" if outcome.ok else outcome.log)

    def page(self) -> str:
        with self._lock:
            shown = self._shown
        if shown.report is not None:
            return report_page(shown.report, shown.version, shown.error, shown.log)
        if shown.error is not None:
            return status_page("Preview failed", shown.version, shown.error, shown.log)
        return status_page("Rendering the report\u2026", shown.version)


def _handler(state: PreviewState, port_of: Callable[[], int]) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "trialreport-preview"

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _host_ok(self) -> bool:
            """Only this machine's own names (no DNS rebinding from a web page)."""
            host = (self.headers.get("Host") or "").strip().lower()
            port = port_of()
            return host in {f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost"}

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if not self._host_ok():
                self._send(403, "forbidden host\n", "text/plain; charset=utf-8")
                return
            path = self.path.split("?", 1)[0]
            if path == VERSION_PATH:
                self._send(200, str(state.version), "text/plain; charset=utf-8")
            elif path in ("/", "/index.html"):
                self._send(200, state.page(), "text/html; charset=utf-8")
            else:
                self._send(404, "not found\n", "text/plain; charset=utf-8")

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the terminal shows renders, not every poll

    return Handler


class Preview:
    """The server, the source watcher and the render worker of one preview."""

    def __init__(self, root: Path, data_dir: Path, port: int,
                 out: Callable[[str], None] = print) -> None:
        self.root = root
        self.data_dir = data_dir
        self.out = out
        self.state = PreviewState()
        self.renderer = PreviewRenderer(root, data_dir, root / PREVIEW_DIR)
        self.stop = threading.Event()
        self._dirty = threading.Event()
        self.server = http.server.ThreadingHTTPServer(
            (HOST, port), _handler(self.state, lambda: self.server.server_address[1]))
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/"

    def _watch(self) -> None:
        before = snapshot(self.root, self.data_dir)
        while not self.stop.wait(POLL_SECONDS):
            after = snapshot(self.root, self.data_dir)
            changed = changed_files(before, after)
            if changed:
                shown = ", ".join(str(Path(p).relative_to(self.root)) if
                                  Path(p).is_relative_to(self.root) else p for p in changed[:3])
                more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
                self.out(f"changed: {shown}{more}")
                before = after
                self._dirty.set()

    def _work(self) -> None:
        while not self.stop.is_set():
            if not self._dirty.wait(0.5):
                continue
            if self.stop.wait(SETTLE_SECONDS):
                return
            self._dirty.clear()
            self.out("rendering ...")
            try:
                outcome = self.renderer.render()
            except OSError as exc:  # the render could not even start: say so in the page
                outcome = RenderOutcome(False, None, f"cannot run the render: {exc}", "", 0.0)
            if outcome is None:  # stopped
                return
            self.state.update(outcome)
            if outcome.ok:
                self.out(f"rendered in {outcome.seconds:.1f} s")
            else:
                lines = [ln for ln in outcome.message.strip().splitlines()
                         if ln.strip() and not ln.startswith("trialreport render failed;")]
                first = lines[0] if lines else outcome.message.strip()
                self.out(f"render failed ({outcome.seconds:.1f} s): {first} (details in the "
                         "page)")

    def run(self, open_browser: bool = False) -> int:
        """Serve until SIGINT or SIGTERM; then stop the render and its kernels."""
        previous = {sig: signal.signal(sig, lambda *_: self.stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        threads = [threading.Thread(target=self.server.serve_forever, name="preview-http",
                                    daemon=True),
                   threading.Thread(target=self._watch, name="preview-watch", daemon=True),
                   threading.Thread(target=self._work, name="preview-render", daemon=True)]
        self._dirty.set()  # the first render
        for thread in threads:
            thread.start()
        self.out(f"Preview of {self.root} at {self.url} (Ctrl-C stops)")
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(self.url,), daemon=True).start()
        try:
            while not self.stop.wait(0.5):
                pass
        finally:
            self.stop.set()
            stopped = self.renderer.close()
            self.server.shutdown()
            self.server.server_close()
            for thread in threads:
                thread.join(timeout=5)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            note = f" and {len(stopped)} render process(es)" if stopped else ""
            self.out(f"preview stopped{note}")
        return 0


def serve_preview(root: Path, data_dir: Path, port: int = 0, open_browser: bool = True,
                  out: Callable[[str], None] | None = None) -> int:
    """Serve the HTML preview of the project ``root`` on 127.0.0.1:``port`` (0: a free port)
    until SIGINT or SIGTERM. Raises OSError when the port cannot be bound."""
    def say(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)

    preview = Preview(Path(root).resolve(), Path(data_dir).resolve(), port, out or say)
    return preview.run(open_browser)


__all__ = ["HOST", "PREVIEW_DIR", "Preview", "PreviewState", "serve_preview"]
