"""What the preview serves: the report with a reload script, or a page saying why not.

Every text from the render (error messages, tracebacks, paths) is escaped with
:func:`html.escape`; the only script is the small one below, with no external resource.
"""

from __future__ import annotations

import html
import re

VERSION_PATH = "/__version"
POLL_MS = 500

# Polls VERSION_PATH and reloads the page when the preview changed, keeping the scroll position.
RELOAD_SCRIPT = """<script>
(function () {
  var shown = "%(version)s", key = "trialreport-preview-scroll";
  window.addEventListener("load", function () {
    try {
      var y = sessionStorage.getItem(key);
      if (y !== null) { sessionStorage.removeItem(key); window.scrollTo(0, parseInt(y, 10)); }
    } catch (e) {}
  });
  function poll() {
    fetch("%(path)s", {cache: "no-store"}).then(function (r) { return r.text(); })
      .then(function (v) {
        if (v.trim() !== shown) {
          try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) {}
          location.reload();
        } else { setTimeout(poll, %(ms)d); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, %(ms)d);
})();
</script>
"""

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body[^>]*>", re.IGNORECASE)
_BANNER_STYLE = ("position:sticky;top:0;z-index:1000;margin:0 0 1em 0;padding:0.8em 1em;"
                 "background:#fff0f0;border:2px solid #b00000;color:#000;font-family:sans-serif;"
                 "max-height:60vh;overflow:auto")


def reload_script(version: int) -> str:
    """The reload script for a page showing preview state ``version``."""
    return RELOAD_SCRIPT % {"version": int(version), "path": VERSION_PATH, "ms": POLL_MS}


def error_block(message: str, log: str = "") -> str:
    """The render's error message (and its log, folded) as escaped HTML."""
    parts = [f'<div id="trialreport-preview-error" style="{_BANNER_STYLE}">',
             "<strong>The preview could not be rendered.</strong> Fix the problem and save; "
             "the page reloads by itself.",
             f'<pre style="white-space:pre-wrap">{html.escape(message)}</pre>']
    if log.strip():
        tail = "\n".join(log.strip().splitlines()[-80:])
        parts.append(f"<details><summary>Render log</summary><pre style=\"white-space:pre-wrap\">"
                     f"{html.escape(tail)}</pre></details>")
    parts.append("</div>")
    return "\n".join(parts)


def _inject_end(document: str, snippet: str) -> str:
    matches = list(_BODY_END.finditer(document))
    if not matches:
        return document + snippet
    at = matches[-1].start()
    return document[:at] + snippet + document[at:]


def _inject_start(document: str, snippet: str) -> str:
    match = _BODY_START.search(document)
    if match is None:
        return snippet + document
    return document[:match.end()] + snippet + document[match.end():]


def report_page(report: str, version: int, error: str | None = None, log: str = "") -> str:
    """The rendered report with the reload script (and, after a failed render, the error
    above the last good report)."""
    page = _inject_end(report, reload_script(version))
    if error is not None:
        page = _inject_start(page, error_block(error + "\n\nShowing the last good preview "
                                               "below.", log))
    return page


def status_page(title: str, version: int, error: str | None = None, log: str = "") -> str:
    """A page of its own: "Rendering ..." or the error of a render with no good one before."""
    body = error_block(error, log) if error is not None else f"<p>{html.escape(title)}</p>"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n"
            f"{reload_script(version)}</body></html>\n")
