"""Test helper: open an HTML report in headless Chromium (playwright) and check what a reader sees.

Playwright drives Debian's chromium (``/usr/bin/chromium``, installed by
tools/install-chromium.sh); no browser is downloaded. ``check_page`` collects

* console errors, uncaught exceptions and failed loads;
* the table of contents (``nav#TOC``): every ``#id`` link names an element, and a real click
  on it brings that element to the top of the window (or the page to its end);
* every expected figure: its caption is found, its images are decoded (``naturalWidth > 0``)
  and displayed (a box, visible, not covered by another element);
* every expected table or listing caption: found and displayed.

What is expected comes from the study definition (``expected_from_study``), never from one
study's element ids. A screenshot of the window is saved for each failure, and its path is in
the finding, so an assertion message points at the picture.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

#: Debian's chromium; ``TRIALREPORT_CHROMIUM`` names another executable.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Headless, offline, no first-run work, no background traffic.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 900}
TOC_SELECTOR = "nav#TOC"
#: Elements that hold a caption: HTML's own and the classes Quarto and trialreport use.
CAPTION_SELECTOR = 'caption, figcaption, [class*="caption"]'
#: A clicked target counts as at the top of the window within this many CSS pixels.
SCROLL_TOLERANCE_PX = 4.0
#: Milliseconds allowed for a click's scrolling (including ``scroll-behavior: smooth``).
SCROLL_WAIT_MS = 2000
#: Milliseconds any one browser action (load, click, script) may take.
ACTION_TIMEOUT_MS = 30_000
#: Milliseconds a TOC link may take to become clickable (visible, enabled, not covered).
CLICK_TIMEOUT_MS = 5_000


# --- which browser ------------------------------------------------------------------------------


def chromium_executable() -> str | None:
    """The Chromium to drive: ``TRIALREPORT_CHROMIUM``, else Debian's, else ``chromium`` on PATH."""
    named = os.environ.get("TRIALREPORT_CHROMIUM")
    if named:
        return named if Path(named).is_file() else shutil.which(named)
    if Path(DEFAULT_CHROMIUM).is_file():
        return DEFAULT_CHROMIUM
    return shutil.which("chromium")


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if chromium_executable() is None:
        return ("chromium is not installed (tools/install-chromium.sh, or apt-get install "
                "chromium; TRIALREPORT_CHROMIUM names another executable)")
    return None


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (playwright ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    reason = browser_unavailable()
    if reason:
        raise RuntimeError(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(),
                                             args=list(CHROMIUM_ARGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()


# --- what is expected ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """Labels the page must show: figures ("Figure 14.1.1") and captions of tables and listings
    ("Table 14.2.1", "Listing 16.2.7")."""

    figures: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()


def expected_from_study(study: Any) -> Expected:
    """Every output of the study definition (``Study.output_specs``): figures by kind."""
    figures = tuple(spec.label for spec in study.output_specs if spec.kind == "figure")
    captions = tuple(spec.label for spec in study.output_specs if spec.kind != "figure")
    return Expected(figures=figures, captions=captions)


# --- what was seen ------------------------------------------------------------------------------


@dataclass
class Findings:
    """What headless Chromium saw of one page; every list holds problems (empty is good)."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    toc_links: int = 0
    broken_toc_links: list[str] = field(default_factory=list)
    toc_click_failures: list[str] = field(default_factory=list)
    figure_problems: list[str] = field(default_factory=list)
    caption_problems: list[str] = field(default_factory=list)
    figures_checked: int = 0
    captions_checked: int = 0
    screenshots: list[Path] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.failed_loads, *self.broken_toc_links,
                *self.toc_click_failures, *self.figure_problems, *self.caption_problems]


# --- page scripts -------------------------------------------------------------------------------

_SETTLE_JS = """async () => {
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
}"""

_TOC_JS = """(selector) => {
  const toc = document.querySelector(selector);
  if (!toc) { return null; }
  const target = h => { try { return document.getElementById(decodeURIComponent(h.slice(1))); }
                        catch (e) { return null; } };
  return [...toc.querySelectorAll('a[href]')].map(a => {
    const href = a.getAttribute('href');
    return {href: href, resolves: href.startsWith('#') && href.length > 1 && !!target(href)};
  });
}"""

# Put the window where the target is out of sight: at the top, or at the end of the page when
# the target is already visible from the top.
_AWAY_JS = """(href) => {
  const el = document.getElementById(decodeURIComponent(href.slice(1)));
  history.replaceState(null, '', location.pathname + location.search);
  window.scrollTo({top: 0, behavior: 'instant'});
  const r = el.getBoundingClientRect();
  if (r.bottom > 0 && r.top < window.innerHeight) {
    window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'});
  }
}"""

_TARGET_JS = """(href) => {
  const el = document.getElementById(decodeURIComponent(href.slice(1)));
  const doc = document.scrollingElement || document.documentElement;
  return {hash: decodeURIComponent(location.hash), top: el.getBoundingClientRect().top,
          scrollY: window.scrollY, maxScroll: doc.scrollHeight - window.innerHeight,
          innerHeight: window.innerHeight};
}"""

# Is element `el` displayed: visible by CSS, a box of some size, and not covered at its centre
# once scrolled to the middle of the window?
_SHOWN_JS = """
const shown = (el) => {
  el.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
  const r = el.getBoundingClientRect();
  const visible = el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  if (!visible) { return 'is hidden by CSS (display, visibility or opacity)'; }
  if (r.width < 1 || r.height < 1) {
    return `has an empty box (${r.width.toFixed(0)}x${r.height.toFixed(0)} px)`;
  }
  const x = Math.min(Math.max(r.left + r.width / 2, 0), window.innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === el || el.contains(hit))) {
    return `is covered by <${hit ? hit.tagName.toLowerCase() : 'nothing'}>`;
  }
  return null;
};"""

# The innermost caption-like elements whose text holds `label` as a whole number (so
# "Table 14.1.1" does not match "Table 14.1.10"), spaces and no-break spaces alike.
_FIND_JS = """
const norm = (s) => (s || '').replace(/\\s+/g, ' ');
const escape = (s) => s.replace(/[.*+?^${}()|[\\]\\\\]/g, '\\\\$&').replace(/ /g, '\\\\s+');
const captions = (label, selector) => {
  const pattern = new RegExp(escape(label) + '(?![.]?[0-9])');
  const all = [...document.querySelectorAll(selector)]
    .filter(e => pattern.test(norm(e.textContent)));
  return all.filter(e => !all.some(o => o !== e && e.contains(o)));
};"""

_CAPTION_JS = _SHOWN_JS + _FIND_JS + """
([label, selector]) => {
  const found = captions(label, selector);
  if (!found.length) { return {problem: 'no caption holds it', count: 0}; }
  const problems = found.map(shown);
  const ok = problems.findIndex(p => p === null);
  if (ok >= 0) { found[ok].scrollIntoView({block: 'center', behavior: 'instant'}); }
  return {problem: ok >= 0 ? null : 'its caption ' + problems[0], count: found.length};
}"""

_FIGURE_JS = _SHOWN_JS + _FIND_JS + """
([label, selector]) => {
  const figures = captions(label, selector).map(c => c.closest('figure')).filter(f => f);
  if (!figures.length) { return 'no <figure> has a caption that holds it'; }
  for (const figure of figures) {
    const images = [...figure.querySelectorAll('img, svg')]
      .filter(i => !(i.parentElement && i.parentElement.closest('svg')));
    if (!images.length) { return 'its <figure> holds no image'; }
    for (const image of images) {
      if (image.tagName.toLowerCase() === 'img' && !(image.complete && image.naturalWidth > 0)) {
        const src = (image.getAttribute('src') || '').slice(0, 60);
        return `its image ${src} was not decoded (naturalWidth 0)`;
      }
      const problem = shown(image);
      if (problem) { return 'its image ' + problem; }
    }
  }
  return null;
}"""


# --- the check ----------------------------------------------------------------------------------


def check_page(browser: Any, html: Path, expected: Expected, shots: Path) -> Findings:
    """Load ``html`` in a new page of ``browser`` and check it (see the module docstring);
    screenshots of failures go to ``shots``."""
    url = Path(html).resolve().as_uri()
    findings = Findings(url=url)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.on("console", lambda msg: _on_console(findings, msg))
    page.on("pageerror", lambda exc: findings.console_errors.append(
        f"uncaught exception: {exc}"))
    page.on("requestfailed", lambda request: findings.failed_loads.append(
        f"failed to load {request.url[:200]}: {request.failure}"))
    page.on("response", lambda response: _on_response(findings, response))
    try:
        page.goto(url, wait_until="load")
        page.evaluate(_SETTLE_JS)
        page.wait_for_timeout(200)  # late console messages
        shoot = _shooter(page, findings, shots)
        _check_toc(page, findings, shoot)
        for label in expected.figures:
            problem = page.evaluate(_FIGURE_JS, [label, CAPTION_SELECTOR])
            findings.figures_checked += 1
            if problem:
                findings.figure_problems.append(f"{label}: {problem} (screenshot {shoot(label)})")
        for label in expected.captions:
            result = page.evaluate(_CAPTION_JS, [label, CAPTION_SELECTOR])
            findings.captions_checked += 1
            if result["problem"]:
                findings.caption_problems.append(
                    f"{label}: {result['problem']} (screenshot {shoot(label)})")
        if findings.console_errors or findings.failed_loads:
            page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")
            findings.console_errors.append(f"(screenshot of the page: {shoot('page')})")
    finally:
        page.close()
    return findings


def _on_console(findings: Findings, msg: Any) -> None:
    if msg.type in ("error", "assert"):
        where = msg.location.get("url", "") if msg.location else ""
        findings.console_errors.append(f"console.{msg.type}: {msg.text}"
                                       + (f" ({where[:200]})" if where else ""))


def _on_response(findings: Findings, response: Any) -> None:
    if response.status >= 400:
        findings.failed_loads.append(f"failed to load {response.url[:200]}: "
                                     f"HTTP {response.status}")


def _shooter(page: Any, findings: Findings, shots: Path) -> Callable[[str], Path]:
    """A function saving the window as ``shots/<name>.png`` and returning the path."""

    def shoot(name: str) -> Path:
        shots.mkdir(parents=True, exist_ok=True)
        path = shots / (re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-") + ".png")
        page.screenshot(path=str(path))
        findings.screenshots.append(path)
        return path

    return shoot


def _check_toc(page: Any, findings: Findings, shoot: Callable[[str], Path]) -> None:
    from playwright.sync_api import Error as PlaywrightError

    links = page.evaluate(_TOC_JS, TOC_SELECTOR)
    if links is None:
        findings.broken_toc_links.append(f"no table of contents ({TOC_SELECTOR})")
        return
    findings.toc_links = len(links)
    if not links:
        findings.broken_toc_links.append(f"the table of contents ({TOC_SELECTOR}) has no links")
    toc = page.locator(TOC_SELECTOR).locator("a[href]")
    for index, link in enumerate(links):
        href = link["href"]
        wanted = unquote(href)
        if not link["resolves"]:
            findings.broken_toc_links.append(f"TOC link {href!r} names no element of the page")
            continue
        page.evaluate(_AWAY_JS, href)
        try:
            toc.nth(index).click(timeout=CLICK_TIMEOUT_MS)
        except PlaywrightError as exc:
            first = str(exc).splitlines()[0]
            findings.toc_click_failures.append(
                f"TOC link {href}: cannot be clicked: {first} (screenshot {shoot('toc-' + href)})")
            continue
        state = _settled(page, href, wanted)
        at_top = abs(state["top"]) <= SCROLL_TOLERANCE_PX
        at_end = (state["scrollY"] >= state["maxScroll"] - 2
                  and 0 <= state["top"] < state["innerHeight"])
        if state["hash"] != wanted:
            findings.toc_click_failures.append(
                f"TOC link {href}: the click left the address at {state['hash'] or '(none)'} "
                f"(screenshot {shoot('toc-' + href)})")
        elif not (at_top or at_end):
            findings.toc_click_failures.append(
                f"TOC link {href}: after the click its target's top is at {state['top']:.0f} px, "
                f"not at the top of the window (screenshot {shoot('toc-' + href)})")


def _settled(page: Any, href: str, wanted: str) -> dict[str, Any]:
    """The target's position once scrolling has stopped (or SCROLL_WAIT_MS passed)."""
    state: dict[str, Any] = {}
    for _ in range(SCROLL_WAIT_MS // 50):
        previous, state = state, page.evaluate(_TARGET_JS, href)
        if state["hash"] == wanted and previous.get("scrollY") == state["scrollY"] \
                and previous.get("top") == state["top"]:
            break
        page.wait_for_timeout(50)
    return state
