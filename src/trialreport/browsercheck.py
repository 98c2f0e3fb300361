"""Open the rendered HTML report in headless Chromium and check what a reader sees.

``check_html(path)`` starts a throw-away headless Chromium, loads ``file://<path>`` and talks
to it over the Chrome DevTools Protocol (CDP). It collects

* console errors, uncaught exceptions and failed resource loads;
* the table-of-contents links (``nav#TOC``): every ``href="#id"`` must name an element of the
  page, and a real mouse click on two of them must scroll the target to the top of the window;
* whether the CONSORT diagram (``#fig-consort img``) decoded and is displayed, and whether
  Table 14.2.1 (its captioned float ``#tbl-efficacy``) is displayed; both are photographed;
* optionally a screenshot of the first screenful of the report.

The CDP client uses the ``websockets`` package when it can be imported (great_tables pulls it in)
and otherwise a minimal WebSocket client over the standard library, so the check never adds a
dependency. Command line::

    python -m trialreport.browsercheck report/ALEVIATE-CSR-v1.0.0.html [--screenshots DIR]

exits 0 when every check passes, 1 when one fails and 2 when no browser can be started.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import inspect
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

#: Executables tried in order; ``TRIALREPORT_CHROMIUM`` names another one.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The flags of the environment probe: headless, offline, no first-run work.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = (1280, 900)
TOC_SELECTOR = "nav#TOC, #TOC"
CONSORT_SELECTOR = "#fig-consort img"
TABLE_ID = "tbl-efficacy"  # the captioned float holding great_tables' Table 14.2.1
TABLE_TEXT = "Table 14.2.1"
#: How many TOC links are clicked with the mouse.
TOC_CLICKS = 2
#: A target counts as scrolled into view when its top edge is this close to the window top.
SCROLL_TOLERANCE_PX = 4.0
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class BrowserUnavailable(RuntimeError):
    """No Chromium executable was found."""


class BrowserError(RuntimeError):
    """Chromium could not be started, or stopped answering in time."""


@dataclass
class BrowserReport:
    """What headless Chromium saw of one HTML file."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    broken_toc_links: list[str] = field(default_factory=list)
    toc_links: int = 0
    #: TOC links that were clicked but did not bring their target to the top of the window.
    toc_jump_failures: list[str] = field(default_factory=list)
    consort_visible: bool = False
    table_14_2_1_visible: bool = False
    screenshots: dict[str, Path] = field(default_factory=dict)
    #: Problems a reader would notice that do not fail the check (e.g. a table cut off).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (not self.console_errors and not self.broken_toc_links and self.toc_links > 0
                and not self.toc_jump_failures and self.consort_visible
                and self.table_14_2_1_visible)

    def summary(self) -> str:
        """A short human-readable account, one finding a line."""
        lines = [f"browser check of {self.url}: {'OK' if self.ok else 'FAILED'}",
                 f"  console errors: {len(self.console_errors)}"]
        lines += [f"    {text}" for text in self.console_errors]
        lines.append(f"  table of contents: {self.toc_links} links, "
                     f"{len(self.broken_toc_links)} broken")
        lines += [f"    broken: {href}" for href in self.broken_toc_links]
        lines += [f"    click failed: {text}" for text in self.toc_jump_failures]
        lines.append(f"  CONSORT figure visible: {'yes' if self.consort_visible else 'NO'}")
        lines.append(f"  {TABLE_TEXT} visible: {'yes' if self.table_14_2_1_visible else 'NO'}")
        lines += [f"  warning: {text}" for text in self.warnings]
        lines += [f"  screenshot {name}: {path}" for name, path in self.screenshots.items()]
        return "\n".join(lines)


def find_chromium() -> str | None:
    """The Chromium executable to use, or None when none is installed."""
    override = os.environ.get("TRIALREPORT_CHROMIUM")
    if override:
        return shutil.which(override)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --- WebSocket connections ---------------------------------------------------------------------


class _Connection(Protocol):
    def send(self, text: str) -> None: ...

    def recv(self, timeout: float) -> str | None: ...

    def close(self) -> None: ...


class _WebsocketsConnection:
    """CDP over the ``websockets`` package (synchronous client)."""

    def __init__(self, url: str, timeout: float) -> None:
        from websockets.sync.client import connect

        # Screenshots arrive as multi-megabyte base64 strings: no message size limit.
        options: dict[str, Any] = {"open_timeout": timeout, "max_size": None,
                                   "compression": None}
        if "proxy" in inspect.signature(connect).parameters:
            options["proxy"] = None  # websockets >= 15 would honour HTTP(S)_PROXY for localhost
        self._stack = ExitStack()
        # `with connect(...)` is the form every websockets version >= 12 accepts silently.
        self._ws = self._stack.enter_context(connect(url, **options))

    def send(self, text: str) -> None:
        self._ws.send(text)

    def recv(self, timeout: float) -> str | None:
        from websockets.exceptions import ConnectionClosed

        try:
            message = self._ws.recv(timeout=max(timeout, 0.001))
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise BrowserError(f"Chromium closed the DevTools connection: {exc}") from exc
        return message if isinstance(message, str) else message.decode("utf-8")

    def close(self) -> None:
        with suppress(Exception):
            self._stack.close()


class _StdlibConnection:
    """A minimal RFC 6455 client: text frames, fragmentation, ping/pong, close."""

    _GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._buf = bytearray()
        self._fragments: list[bytes] = []
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                            ).encode("ascii"))
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._buf:
            if not self._read(deadline - time.monotonic()):
                raise BrowserError("no WebSocket handshake answer from Chromium")
        head, _, rest = bytes(self._buf).partition(b"\r\n\r\n")
        self._buf = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in f"{lines[0]} ":
            raise BrowserError(f"WebSocket handshake refused: {lines[0]}")
        accept = base64.b64encode(hashlib.sha1((key + self._GUID).encode()).digest()).decode()
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (h.partition(":") for h in lines[1:])}
        if headers.get("sec-websocket-accept") != accept:
            raise BrowserError("WebSocket handshake: wrong Sec-WebSocket-Accept")

    def _read(self, timeout: float) -> bool:
        """Read what the socket has within ``timeout``; False when nothing came."""
        if timeout <= 0:
            return False
        self._sock.settimeout(timeout)
        try:
            chunk = self._sock.recv(1 << 20)
        except (TimeoutError, BlockingIOError):
            return False
        if not chunk:
            raise BrowserError("Chromium closed the DevTools connection")
        self._buf += chunk
        return True

    def _frame(self) -> tuple[bool, int, bytes] | None:
        """Take one complete frame off the buffer, or None when it is not all there yet."""
        buf = self._buf
        if len(buf) < 2:
            return None
        fin, opcode, masked, length = buf[0] & 0x80, buf[0] & 0x0F, buf[1] & 0x80, buf[1] & 0x7F
        start = 2
        if length == 126:
            if len(buf) < 4:
                return None
            (length,), start = struct.unpack(">H", buf[2:4]), 4
        elif length == 127:
            if len(buf) < 10:
                return None
            (length,), start = struct.unpack(">Q", buf[2:10]), 10
        key = b""
        if masked:
            key, start = bytes(buf[start:start + 4]), start + 4
        if len(buf) < start + length:
            return None
        payload = bytes(buf[start:start + length])
        del buf[:start + length]
        return bool(fin), opcode, _mask(payload, key) if masked else payload

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
        key = os.urandom(4)
        self._sock.sendall(head + key + _mask(payload, key))

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode("utf-8"))

    def recv(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is None:
                if not self._read(deadline - time.monotonic()):
                    return None
                continue
            fin, opcode, payload = frame
            if opcode == 0x8:
                raise BrowserError("Chromium closed the DevTools connection")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode in (0x0, 0x1, 0x2):
                self._fragments.append(payload)
                if fin:
                    message, self._fragments = b"".join(self._fragments), []
                    return message.decode("utf-8")

    def close(self) -> None:
        with suppress(OSError):
            self._send_frame(0x8, struct.pack(">H", 1000))
        with suppress(OSError):
            self._sock.close()


def _mask(data: bytes, key: bytes) -> bytes:
    if not data:
        return data
    n = len(data)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def _connect(url: str, timeout: float, transport: str) -> _Connection:
    if transport not in ("auto", "websockets", "stdlib"):
        raise ValueError(f"unknown transport {transport!r}")
    if transport in ("auto", "websockets"):
        try:
            return _WebsocketsConnection(url, timeout)
        except ImportError:
            if transport == "websockets":
                raise
    return _StdlibConnection(url, timeout)


# --- CDP ---------------------------------------------------------------------------------------


class _CDP:
    """Commands and events over one browser-level connection (flattened sessions)."""

    def __init__(self, conn: _Connection, deadline: float) -> None:
        self._conn = conn
        self._ids = itertools.count(1)
        self.deadline = deadline
        self.events: list[dict[str, Any]] = []

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BrowserError("the browser check timed out")
        return left

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        text = self._conn.recv(timeout)
        if text is None:
            return None
        message = json.loads(text)
        if "method" in message and "id" not in message:
            self.events.append(message)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._conn.send(json.dumps(message))
        while True:
            answer = self._receive(self.remaining())
            if answer is not None and answer.get("id") == ident:
                if "error" in answer:
                    raise BrowserError(f"{method} failed: {answer['error'].get('message')}")
                return answer.get("result", {})

    def wait_for(self, method: str, session: str, since: int, timeout: float) -> bool:
        """Whether event ``method`` arrived (after ``events[since]``) within ``timeout``."""
        end = min(time.monotonic() + timeout, self.deadline)
        while True:
            if any(e["method"] == method and e.get("sessionId") == session
                   for e in self.events[since:]):
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            self._receive(left)

    def pump(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds``."""
        end = min(time.monotonic() + seconds, self.deadline)
        while (left := end - time.monotonic()) > 0:
            self._receive(left)


@contextmanager
def _chromium(executable: str, timeout: float) -> Iterator[tuple[str, float]]:
    """Start headless Chromium with a fresh profile; yield its browser WebSocket URL."""
    deadline = time.monotonic() + timeout
    scratch = Path(tempfile.mkdtemp(prefix="trialreport-chromium-"))
    log_path = scratch / "chromium.log"
    width, height = VIEWPORT
    command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={scratch / 'profile'}",
               "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
    try:
        url = None
        while url is None:
            found = _LISTENING.search(log_path.read_text("utf-8", errors="replace"))
            if found:
                url = found.group(1)
            elif process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text("utf-8", errors="replace")[-2000:]
                state = (f"exited with status {process.returncode}"
                         if process.poll() is not None else "did not open DevTools in time")
                raise BrowserError(f"{executable} {state}:\n{tail}")
            else:
                time.sleep(0.05)
        yield url, deadline
    finally:
        _stop(process)
        shutil.rmtree(scratch, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End Chromium, then any helper process of its group (the group started above)."""
    with suppress(subprocess.TimeoutExpired):
        process.wait(5.0)  # after Browser.close it shuts down and reaps its helpers itself
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(5.0)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the browser
    with suppress(subprocess.TimeoutExpired):
        process.wait(5.0)


# --- page scripts ------------------------------------------------------------------------------

_SETTLE_JS = """(async () => {
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  return document.readyState;
})()"""

# The TOC's links and those that name no element; the same for cross-references elsewhere.
_TOC_JS = """(() => {
  const target = h => { try { return document.getElementById(decodeURIComponent(h.slice(1))); }
                        catch (e) { return null; } };
  const dead = hrefs => hrefs.filter(h => h.length < 2 || !target(h));
  const toc = document.querySelector(%s);
  const others = [...document.querySelectorAll('a[href^="#"]')]
    .filter(a => !(toc && toc.contains(a))).map(a => a.getAttribute('href'));
  if (!toc) { return {hrefs: null, broken: [], xrefs: dead(others)}; }
  const hrefs = [...toc.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'));
  return {hrefs: hrefs, broken: dead(hrefs), xrefs: dead(others)};
})()"""

# Scroll link number %d of the TOC into view and return the centre of its box.
_TOC_LINK_JS = """(() => {
  window.scrollTo(0, 0);
  const a = document.querySelector(%s).querySelectorAll('a[href^="#"]')[%d];
  a.scrollIntoView({block: 'center'});
  const r = a.getClientRects()[0] || a.getBoundingClientRect();
  return {x: r.left + Math.min(r.width / 2, 20), y: r.top + r.height / 2};
})()"""

_TARGET_JS = """(() => {
  const el = document.getElementById(decodeURIComponent(%s.slice(1)));
  const doc = document.scrollingElement || document.documentElement;
  return {hash: location.hash, top: el.getBoundingClientRect().top, scrollY: window.scrollY,
          maxScroll: doc.scrollHeight - window.innerHeight, innerHeight: window.innerHeight};
})()"""

# Find an element (selector, or the innermost table/figure containing a text), scroll it to the
# middle of the window and describe its box in page coordinates.
_ELEMENT_JS = """((selector, text) => {
  let el = selector ? document.querySelector(selector) : null;
  if (!el && text) {
    const all = [...document.querySelectorAll('table, figure')]
      .filter(e => e.textContent.replace(/\u00a0/g, ' ').includes(text));
    el = all.find(e => !all.some(o => o !== e && e.contains(o))) || null;
  }
  if (!el) { return null; }
  el.scrollIntoView({block: 'center', inline: 'nearest'});
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const visible = typeof el.checkVisibility === 'function'
    ? el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    : cs.display !== 'none' && cs.visibility === 'visible' && Number(cs.opacity) > 0;
  const cx = Math.min(Math.max(r.left + r.width / 2, 0), window.innerWidth - 1);
  const cy = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
  const hit = document.elementFromPoint(cx, cy);
  const box = el.parentElement;
  return {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width,
          height: r.height, visible: visible, display: cs.display,
          onTop: !!hit && (hit === el || el.contains(hit)),
          text: (el.textContent || '').replace(/\u00a0/g, ' ').slice(0, 50000),
          tag: el.tagName.toLowerCase(),
          id: el.id, complete: el.complete === undefined ? null : el.complete,
          naturalWidth: el.naturalWidth === undefined ? null : el.naturalWidth,
          naturalHeight: el.naturalHeight === undefined ? null : el.naturalHeight,
          scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
          boxWidth: box ? box.getBoundingClientRect().width : r.width,
          viewportWidth: window.innerWidth, viewportHeight: window.innerHeight};
})(%s, %s)"""


class _Page:
    def __init__(self, cdp: _CDP, session: str) -> None:
        self.cdp = cdp
        self.session = session

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.cdp.call(method, params, self.session)

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": await_promise})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"page script failed: {text}")
        return result.get("result", {}).get("value")

    def screenshot(self, target: Path, clip: dict[str, float] | None = None) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = clip
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target


def _clip(box: dict[str, Any], margin: float = 8.0) -> dict[str, float]:
    x = max(box["x"] - margin, 0.0)
    y = max(box["y"] - margin, 0.0)
    return {"x": x, "y": y, "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin, "scale": 1}


def _console_errors(events: list[dict[str, Any]], session: str) -> list[str]:
    """Console errors, uncaught exceptions and failed loads, in the order they happened."""
    errors: list[str] = []
    urls: dict[str, str] = {}
    failed_loads: list[tuple[str, str]] = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg["value"]) if "value" in arg
                            else str(arg.get("description", arg.get("type", "")))
                            for arg in params.get("args", []))
            frames = params.get("stackTrace", {}).get("callFrames", [])
            where = f" ({frames[0]['url']}:{frames[0]['lineNumber'] + 1})" if frames else ""
            errors.append(f"console.{params['type']}: {text}{where}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            where = (f" ({details['url']}:{details.get('lineNumber', 0) + 1})"
                     if details.get("url") else "")
            errors.append(f"uncaught exception: {text.splitlines()[0] if text else '?'}{where}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            where = f" ({entry['url']})" if entry.get("url") else ""
            message = f"{entry.get('source', 'log')} error: {entry.get('text', '')}{where}"
            if message not in errors:
                errors.append(message)
        elif method == "Network.requestWillBeSent":
            urls[params.get("requestId", "")] = params.get("request", {}).get("url", "")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            failed_loads.append((urls.get(params.get("requestId", ""), "?"),
                                 params.get("errorText", "")))
    for url, reason in failed_loads:  # unless the Log domain already reported the same load
        if not any(url in text for text in errors):
            errors.append(f"failed to load {url}: {reason}")
    return errors


def _check_toc(page: _Page, report: BrowserReport) -> None:
    toc = page.evaluate(_TOC_JS % json.dumps(TOC_SELECTOR))
    report.warnings += [f"cross-reference {href} points to no element" for href in toc["xrefs"]]
    if toc["hrefs"] is None:
        report.broken_toc_links.append("(no table of contents: nothing matches nav#TOC or #TOC)")
        return
    hrefs: list[str] = toc["hrefs"]
    report.toc_links = len(hrefs)
    report.broken_toc_links.extend(toc["broken"])
    good = [i for i, href in enumerate(hrefs) if href not in toc["broken"]]
    if not good:
        return
    picks = sorted({good[len(good) // 2], good[-1]})[:TOC_CLICKS]
    for index in picks:
        href = hrefs[index]
        point = page.evaluate(_TOC_LINK_JS % (json.dumps(TOC_SELECTOR), index))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            page.call("Input.dispatchMouseEvent", {"type": kind, "x": point["x"],
                                                   "y": point["y"], "button": "left",
                                                   "clickCount": 1})
        state: dict[str, Any] = {}
        settle = time.monotonic() + 2.0
        while time.monotonic() < settle:  # allow for `scroll-behavior: smooth`
            previous, state = state, page.evaluate(_TARGET_JS % json.dumps(href))
            arrived = unquote(state["hash"]) == unquote(href)
            if arrived and previous.get("scrollY") == state["scrollY"]:
                break
            time.sleep(0.1)
        at_top = abs(state["top"]) <= SCROLL_TOLERANCE_PX
        at_bottom = (state["scrollY"] >= state["maxScroll"] - 2
                     and 0 <= state["top"] < state["innerHeight"])
        if unquote(state["hash"]) != unquote(href):
            report.toc_jump_failures.append(
                f"{href}: clicking the TOC link left the address at {state['hash'] or '(none)'}")
        elif not (at_top or at_bottom):
            report.toc_jump_failures.append(
                f"{href}: after the click the target's top is at {state['top']:.0f}px, "
                "not at the top of the window")


def _check_element(page: _Page, selector: str | None, text: str | None,
                   label: str, report: BrowserReport) -> dict[str, Any] | None:
    box = page.evaluate(_ELEMENT_JS % (json.dumps(selector), json.dumps(text)))
    if box is None:
        report.warnings.append(f"{label}: not found in the page")
        return None
    if box["width"] > box["boxWidth"] + 1 or box["width"] > box["viewportWidth"]:
        report.warnings.append(f"{label}: {box['width']:.0f}px wide, wider than the "
                               f"{box['boxWidth']:.0f}px it is placed in")
    if box["scrollWidth"] > box["clientWidth"] + 1 and box["tag"] != "img":
        report.warnings.append(f"{label}: content is {box['scrollWidth']}px wide but only "
                               f"{box['clientWidth']}px are shown (cut off or scrolls sideways)")
    if box["height"] > box["viewportHeight"]:
        report.warnings.append(f"{label}: {box['height']:.0f}px tall, taller than the "
                               f"{box['viewportHeight']}px window")
    return box


def check_html(path: Path, screenshot: Path | None = None, timeout: float = 60, *,
               transport: str = "auto", executable: str | None = None) -> BrowserReport:
    """Load ``path`` in headless Chromium and report what a reader would run into.

    With ``screenshot``, the first screenful (1280x900) is saved there as PNG, and the CONSORT
    figure and Table 14.2.1 next to it as ``<stem>-consort.png`` and ``<stem>-table-14-2-1.png``
    whenever they have a layout box (also when hidden: the picture then shows why).
    ``timeout`` bounds the whole check (start-up included); ``transport`` is ``"auto"``,
    ``"websockets"`` or ``"stdlib"``. Raises BrowserUnavailable when Chromium is not installed
    and BrowserError when it cannot be started or does not answer in time.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)
    executable = executable or find_chromium()
    if executable is None:
        raise BrowserUnavailable("Chromium is not installed (looked for "
                                 f"{', '.join(CHROMIUM_NAMES)}; set TRIALREPORT_CHROMIUM)")
    report = BrowserReport(url=path.as_uri())
    with _chromium(executable, timeout) as (ws_url, deadline):
        conn = _connect(ws_url, max(deadline - time.monotonic(), 1.0), transport)
        try:
            cdp = _CDP(conn, deadline)
            target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
            page = _Page(cdp, session)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.call(f"{domain}.enable")
            width, height = VIEWPORT
            page.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": False})
            since = len(cdp.events)
            navigation = page.call("Page.navigate", {"url": report.url})
            if navigation.get("errorText"):
                raise BrowserError(f"could not open {report.url}: {navigation['errorText']}")
            if not cdp.wait_for("Page.loadEventFired", session, since, cdp.remaining()):
                raise BrowserError(f"{report.url} did not finish loading in time")
            page.evaluate(_SETTLE_JS, await_promise=True)
            cdp.pump(0.3)  # late console messages
            if screenshot is not None:
                report.screenshots["page"] = page.screenshot(Path(screenshot))

            _check_toc(page, report)

            img = _check_element(page, CONSORT_SELECTOR, None, "CONSORT figure", report)
            report.consort_visible = bool(
                img and img["tag"] == "img" and img["complete"] and img["naturalWidth"]
                and img["width"] > 0 and img["height"] > 0 and img["visible"] and img["onTop"])
            table = _check_element(page, f"#{TABLE_ID}", TABLE_TEXT, TABLE_TEXT, report)
            report.table_14_2_1_visible = bool(
                table and TABLE_TEXT in table["text"] and table["width"] > 0
                and table["height"] > 0 and table["visible"] and table["onTop"])
            if screenshot is not None:
                shot = Path(screenshot)
                for name, box in (("consort", img), ("table-14-2-1", table)):
                    if box and box["width"] > 0 and box["height"] > 0:
                        report.screenshots[name] = page.screenshot(
                            shot.with_name(f"{shot.stem}-{name}.png"), _clip(box))
            cdp.pump(0.2)
            report.console_errors = _console_errors(cdp.events, session)
        finally:
            with suppress(Exception):  # no answer awaited: Chromium exits, see _stop
                conn.send(json.dumps({"id": 0, "method": "Browser.close"}))
            conn.close()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trialreport.browsercheck",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the rendered HTML report")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="save PNG screenshots (page, CONSORT figure, Table 14.2.1) here")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args(argv)
    shot = args.screenshots / f"{args.html.stem}.png" if args.screenshots else None
    try:
        report = check_html(args.html, shot, timeout=args.timeout)
    except (BrowserUnavailable, BrowserError, FileNotFoundError) as exc:
        print(f"browsercheck: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
