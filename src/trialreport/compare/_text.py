"""The report text of two rendered HTML reports, split into sentences and aligned.

Paragraphs are the ``<p>``, ``<li>`` and ``<dd>`` text of the document (not tables, the table
of contents or the title block); each is split into sentences, the two sentence sequences are
aligned with :mod:`difflib`, and every pair that differs is listed with its changed words
marked. The HTML is parsed as data with lxml's HTML parser (no scripts, no network).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import NamedTuple

from trialreport.compare._model import SentenceChange, Token

#: Elements whose text is not report prose.
_SKIP = frozenset({"nav", "table", "header", "head", "script", "style", "svg", "math",
                   "template", "noscript", "pre", "code"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset({"p", "li", "dd", "dt"})
_SPACE = re.compile(r"[\s\u00a0\u202f\u2007]+")
# A sentence ends at . ! or ? (with closing quotes or brackets) followed by a space and a capital
# letter, a digit or an opening quote or bracket.
_BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+"
                       r"(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u00de])")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "vs", "al", "fig", "figs", "no", "nos", "approx",
                            "cf", "dr", "mr", "ms", "mrs", "st", "ref", "refs", "ca", "resp"})
#: How many sentences ahead a changed sentence looks for its counterpart.
_WINDOW = 25
#: Word similarity above which two sentences are shown as one changed sentence.
_PAIR_RATIO = 0.5


class Sentence(NamedTuple):
    """One sentence of the report and the heading it stands under."""

    section: str
    text: str


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _skipped(element) -> bool:  # noqa: ANN001 - an lxml element
    for node in element.iterancestors():
        if isinstance(node.tag, str) and node.tag.lower() in _SKIP:
            return True
    return False


def _own_text(element) -> str:  # noqa: ANN001
    """The text of a block without its nested blocks (a list item's sub-list is its own)."""
    import copy

    if not any(isinstance(c.tag, str) and c.tag.lower() in (_BLOCKS | {"ul", "ol", "dl"})
               for c in element.iterdescendants()):
        return element.text_content()
    clone = copy.deepcopy(element)
    for child in list(clone.iterdescendants()):
        if isinstance(child.tag, str) and child.tag.lower() in (_BLOCKS | {"ul", "ol", "dl"}):
            parent = child.getparent()
            if parent is not None:
                child.tail = None
                parent.remove(child)
    return clone.text_content()


def paragraphs(html_text: str) -> list[tuple[str, str]]:
    """``(section heading, paragraph text)`` of every prose paragraph, in document order."""
    from lxml import etree
    from lxml import html as lxml_html

    if not html_text.strip():
        return []
    try:
        root = lxml_html.document_fromstring(html_text)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"not readable as HTML: {exc}") from None
    found: list[tuple[str, str]] = []
    section = ""
    for element in root.iter():
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag not in _HEADINGS and tag not in _BLOCKS:
            continue
        if _skipped(element):
            continue
        if tag in _HEADINGS:
            section = _clean(element.text_content())
            continue
        if tag == "li" and any(isinstance(c.tag, str) and c.tag.lower() == "p"
                               for c in element):
            continue  # its paragraphs come on their own
        text = _clean(_own_text(element))
        if text:
            found.append((section, text))
    return found


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (not after abbreviations such as "e.g." or initials)."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start:match.start()]
        word = head.rsplit(" ", 1)[-1].lstrip("([\"'\u201c\u2018")
        if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()
                                             and word.isupper() and text[match.start()] == "."):
            continue
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def sentences(html_text: str) -> list[Sentence]:
    """Every sentence of the report prose of ``html_text``, with its section heading."""
    return [Sentence(section, s) for section, text in paragraphs(html_text)
            for s in split_sentences(text)]


def _words(text: str) -> list[str]:
    return text.split(" ")


def mark_tokens(old: str, new: str) -> tuple[tuple[Token, ...], tuple[Token, ...]]:
    """The words of both sentences, each marked changed when it is not in the other."""
    a, b = _words(old) if old else [], _words(new) if new else []
    old_marks = [True] * len(a)
    new_marks = [True] * len(b)
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            old_marks[block.a + k] = False
            new_marks[block.b + k] = False
    return (tuple(Token(w, m) for w, m in zip(a, old_marks, strict=True)),
            tuple(Token(w, m) for w, m in zip(b, new_marks, strict=True)))


def _change(old: Sentence | None, new: Sentence | None) -> SentenceChange:
    old_text = old.text if old else ""
    new_text = new.text if new else ""
    old_tokens, new_tokens = mark_tokens(old_text, new_text)
    section = new.section if new else old.section if old else ""
    return SentenceChange(section, old_text, new_text, old_tokens, new_tokens)


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def _pair_block(old: list[Sentence], new: list[Sentence]) -> Iterator[SentenceChange]:
    """Pair the sentences of one replaced block in order: each old sentence with the most
    similar new one within reach (similarity at least :data:`_PAIR_RATIO`)."""
    j = 0
    for sentence in old:
        best, best_ratio = -1, _PAIR_RATIO
        for k in range(j, min(len(new), j + _WINDOW)):
            ratio = _similarity(sentence.text, new[k].text)
            if ratio >= best_ratio:
                best, best_ratio = k, ratio
                if ratio == 1.0:
                    break
        if best < 0:
            yield _change(sentence, None)
            continue
        for k in range(j, best):
            yield _change(None, new[k])
        yield _change(sentence, new[best])
        j = best + 1
    for k in range(j, len(new)):
        yield _change(None, new[k])


def compare_sentences(old: list[Sentence], new: list[Sentence]) -> list[SentenceChange]:
    """The sentence pairs that differ (added and removed sentences have one empty side)."""
    matcher = difflib.SequenceMatcher(None, [s.text for s in old], [s.text for s in new],
                                      autojunk=False)
    changes: list[SentenceChange] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        changes.extend(_pair_block(old[i1:i2], new[j1:j2]))
    return changes


def compare_text(old_html: str, new_html: str) -> list[SentenceChange]:
    """The sentences of the report text that differ between two rendered HTML reports, with
    the changed words marked (:class:`~trialreport.compare.SentenceChange`)."""
    return compare_sentences(sentences(old_html), sentences(new_html))
