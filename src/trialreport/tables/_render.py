"""HTML of a CSR table that displays well in a browser and converts to a real pandoc table.

great_tables' own HTML already has the structure pandoc's HTML reader needs: the title and
subtitle are the first ``<thead>`` rows (cells with classes ``gt_title`` / ``gt_subtitle``),
the notes are ``<tfoot>`` rows (``gt_sourcenote``); the render engine's Lua filter moves both
out of the Word/typst table. Here the HTML is only made deterministic and self-contained:

* the table id is fixed by :func:`trialreport.tables._layout.csr_table` (no random id);
* great_tables' reset rule ``#id thead, tbody, tfoot, tr, td, th {...}`` and the bare
  ``tr {...}`` rule leak onto every table of the page; they are scoped to the table;
* trailing whitespace is stripped from every line and the text ends with one newline.
"""

from __future__ import annotations

import re

from great_tables import GT

__all__ = ["to_html"]

_RESET = re.compile(r"#(?P<id>[\w-]+) thead, tbody, tfoot, tr, td, th \{")
_BARE_TR = re.compile(r"^ tr \{ background-color: transparent; \}$", re.MULTILINE)


def _scope_css(text: str) -> str:
    match = _RESET.search(text)
    if match is None:
        return text
    tid = match.group("id")
    scoped = ", ".join(f"#{tid} {sel}" for sel in ("thead", "tbody", "tfoot", "tr", "td", "th"))
    text = text[: match.start()] + scoped + " {" + text[match.end():]
    return _BARE_TR.sub(f"#{tid} tr {{ background-color: transparent; }}", text, count=1)


def to_html(gt: GT) -> str:
    """Deterministic HTML fragment (scoped ``<style>`` + ``<table>``) of ``gt``."""
    text = _scope_css(gt.as_raw_html())
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(lines) + "\n"
