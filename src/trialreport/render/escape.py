"""The one way text from an input file enters the report's Markdown.

Anything read from data, a specification, the study definition, ``reconstruction.yml`` or
``CHANGELOG.md`` is *text*, never markup. Pandoc's Markdown lets a backslash escape every ASCII
punctuation character (extension ``all_symbols_escapable``, on by default), so escaping all of
them turns every construct that could act — links and images (``[x](javascript:...)``), raw
blocks and attributes (`` `x`{=typst} ``), inline HTML (``<script>``), math (``$...$``),
citations and cross-references (``@x``), shortcodes (``{{< meta x >}}``), emphasis, lists,
headings, table pipes — into the literal characters it was made of. The reader then sees
exactly the input text in HTML, Word and PDF alike (pandoc's writers escape for each format).

Line breaks and tabs become spaces (an inserted value is inline text: a table cell or a phrase)
and other control characters, which XML (Word) cannot hold, become U+FFFD so that the change is
visible rather than silent.
"""

from __future__ import annotations

import re
import string

__all__ = ["markdown_code", "markdown_text"]

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _plain(value: object) -> str:
    text = _BREAKS.sub(" ", str(value))
    return _CONTROL.sub("\ufffd", text)


def markdown_text(value: object) -> str:
    """``value`` as Markdown that displays exactly its text (see the module docstring).

    >>> markdown_text("[x](javascript:alert(1)) $a$ @b")
    '\\\\[x\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\) \\\\$a\\\\$ \\\\@b'
    """
    return _PUNCT.sub(r"\\\1", _plain(value))


def markdown_code(value: object) -> str:
    """``value`` as a Markdown code span (monospaced, shown verbatim).

    The fence is one backtick longer than the longest run inside, and padded with spaces when
    the text starts or ends with a backtick, as CommonMark and pandoc require.
    """
    text = _plain(value)
    longest = max((len(m) for m in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
